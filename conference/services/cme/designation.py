"""What an event may designate: the most one learner could attend (docs/cme-claims.md
"Designation"), a session's designated minutes, and designating credit types."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from conference.credit import CreditTypeRule
from conference.credit import designation as designation_rules
from conference.credit.designation import Attainable, attainable
from conference.credit.rules import PRESETS
from conference.models import Event, EventCredit, Session
from conference.services.cme.case import credit_sessions, rule_for, session_spec
from conference.services.cme.evaluations import ensure_evaluation_form
from conference.services.cme.terms import DesignationRefused


def designate_credits(event: Event, maxima: dict[str, Decimal], **options: object) -> None:
    """Offer these credit types at `event` with these designated maxima (idempotent: existing
    designations are updated, others left alone) and make sure the evaluation form exists.
    `options` are further `EventCredit` fields (e.g. `signatory_name`). A maximum above the
    attainable one (`attainable_credit`) raises `DesignationRefused` with the computation."""
    unknown = set(maxima) - set(PRESETS)
    if unknown:
        raise ValueError(f"unknown credit types: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        for code, maximum in maxima.items():
            credit = EventCredit.objects.filter(event=event, credit_type=code).first()
            rule = rule_for(credit) if credit else PRESETS[code]
            problem = designation_problem(event, rule, Decimal(maximum))
            if problem:
                raise DesignationRefused(problem)
            EventCredit.objects.update_or_create(
                event=event,
                credit_type=code,
                defaults={"designated_max": Decimal(maximum), **options},
            )
        ensure_evaluation_form(event)


def attainable_credit(event: Event) -> Attainable:
    """The best path through the event's credit-eligible time (docs/cme-claims.md
    "Designation"): the most one learner could attend, whatever the credit type."""
    return attainable([session_spec(s) for s in credit_sessions(event)])


def designation_problem(
    event: Event, rule: CreditTypeRule, maximum: Decimal, *, limit: Attainable | None = None
) -> str | None:
    """Why `maximum` may not be designated for `rule` at `event`, or None when it may."""
    limit = limit or attainable_credit(event)
    allowed = limit.max_credit(rule)
    if maximum <= allowed:
        return None
    return (
        f"The designated maximum {maximum} is more than one learner could earn: "
        f"{limit.explain(rule)}. Designate at most {allowed}."
    )


def session_designation_problem(
    session: Session, parts: list[tuple[int, int]] | None = None
) -> str | None:
    """Why the session's `designated_minutes` are more than its credit-eligible time (its
    length minus the parts without credit: `parts` as (offset, length) minutes, default the
    saved ones), or None."""
    if session.designated_minutes is None or not (session.starts_at and session.ends_at):
        return None
    if session.ends_at <= session.starts_at:
        return None
    if parts is None and not session.pk:
        parts = []
    return designation_rules.session_designation_problem(session_spec(session, parts))
