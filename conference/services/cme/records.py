"""The claim's record: its credit now (after additions and corrections), its latest
computation, and the CME audit trail (append-only rows)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model

from accounts.models import User
from conference.models import Claim, CmeAuditEntry, Event


def audit(
    actor: User | AnonymousUser | None,
    event: Event | None,
    action: str,
    obj: Model,
    **detail: object,
) -> CmeAuditEntry:
    return CmeAuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        event=event,
        action=action,
        object_type=type(obj).__name__,
        object_id=obj.pk,
        detail=detail,
    )


def effective_credit(claim: Claim) -> Decimal:
    """The claim's credit now: the latest of its additions (the learner's new totals) and
    staff corrections, else the amount first claimed."""
    entries = [(c.created_at, c.pk, c.credit) for c in claim.corrections.all()]
    entries += [(a.created_at, a.pk, a.claimed_credit) for a in claim.additions.all()]
    return max(entries)[2] if entries else claim.claimed_credit


def latest_credited_seconds(claim: Claim) -> int:
    """The credited time the claim's latest computation counted (its last addition, else
    itself): an addition needs more than this."""
    addition = max(claim.additions.all(), key=lambda a: (a.created_at, a.pk), default=None)
    return addition.credited_seconds if addition else claim.credited_seconds


def latest_inputs_hash(claim: Claim) -> str:
    """The inputs hash of the claim's latest computation (its last addition, else itself)."""
    addition = max(claim.additions.all(), key=lambda a: (a.created_at, a.pk), default=None)
    return addition.inputs_hash if addition else claim.inputs_hash
