"""Claiming credit (CME.md "Claiming"): one workflow for live credit and enduring material.

A claim is made from the learner's `CreditOffer` of the type: every problem of the offer, the
attestation and (live credit) the amount are checked together and refused together
(`ClaimRefused`); the claim records the offer's computation and evidence, is audited, and —
approved — its certificate is queued (rendered by Celery after commit). Live claims grow:
sessions that ended since are added (`add_to_claim`); staff review claims above the computed
credit, correct claims (a new row with a reason) and revoke certificates.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from conference.models import (
    Claim,
    ClaimAddition,
    ClaimCorrection,
    ClaimStatus,
    EnduringActivity,
    Event,
)
from conference.services.cme.certificates import queue_certificate
from conference.services.cme.enduring import enduring_overview
from conference.services.cme.learner import LearnerCase, load_learner
from conference.services.cme.offers import CreditOffer, Problems, credit_offers
from conference.services.cme.records import audit, effective_credit, latest_credited_seconds
from conference.services.cme.terms import ATTESTATION_TEXT, ClaimRefused


def claim_credit(
    user: User,
    event: Event,
    credit_type: str,
    *,
    amount: object,
    attested: bool,
    now: datetime | None = None,
    learner: LearnerCase | None = None,
) -> Claim:
    """Claim `amount` of `credit_type` at `event` for `user` (live credit).

    Credit counts the sessions ended by `now`. Up to the computed credit the claim is
    approved and its certificate queued (rendered by Celery after commit); above it the claim
    waits for staff review. When the learner already holds an approved claim of the type,
    sessions that ended since are added to it (`add_to_claim`); otherwise (or when nothing new
    is to add) the existing claim is returned unchanged. Raises `ClaimRefused` with every
    reason the claim is not possible. `learner`: the case already loaded for this request.
    """
    existing = Claim.objects.filter(
        user=user, event=event, credit_type=credit_type, enduring=None
    ).first()
    if existing is not None:
        return add_to_claim(existing, amount=amount, attested=attested, now=now, learner=learner)
    now = now or timezone.now()
    learner = learner or load_learner(user, event)
    offer = _offer(
        credit_offers(user, event, now=now, learner=learner),
        credit_type,
        "This event does not offer",
    )
    problems = _problems(offer, attested=attested)
    value = parse_amount(amount)
    problems += _amount_problems(value, offer)
    return _claim(learner, offer, value, problems, now=now)


def claim_enduring_credit(
    user: User,
    activity: EnduringActivity,
    credit_type: str,
    *,
    attested: bool,
    now: datetime | None = None,
) -> Claim:
    """Claim the designated amount of `credit_type` for the enduring activity. A second
    submission returns the first claim unchanged; `ClaimRefused` lists every reason the
    claim is not possible. The claim is approved and its certificate queued."""
    existing = Claim.objects.filter(user=user, enduring=activity, credit_type=credit_type).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    learner = load_learner(user, activity.session.event)
    overview = enduring_overview(user, activity, now=now, learner=learner)
    offer = _offer(overview.offers, credit_type, "This activity does not offer")
    problems = _problems(offer, attested=attested)
    return _claim(learner, offer, offer.designated_max, problems, now=now)


def _offer(offers: list[CreditOffer], credit_type: str, refusal: str) -> CreditOffer:
    offer = next((o for o in offers if o.code == credit_type), None)
    if offer is None:
        raise ClaimRefused([("credit_type_not_offered", f"{refusal} that credit.")])
    return offer


def _problems(offer: CreditOffer, *, attested: bool) -> Problems:
    problems = list(offer.problems)
    if not attested:
        problems.append(("attestation_required", f"Please attest: “{ATTESTATION_TEXT}”"))
    return problems


def parse_amount(raw: object) -> Decimal:
    try:
        amount = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ClaimRefused(
            [("amount_invalid", "Enter the credit as a number, e.g. 1.25.")]
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise ClaimRefused([("amount_invalid", "Enter a credit amount above 0.")])
    return amount


def _amount_problems(amount: Decimal, offer: CreditOffer) -> Problems:
    rule = offer.rule
    if amount % rule.increment:
        return [("amount_increment", f"Claim in steps of {rule.increment}.")]
    if amount > offer.designated_max:
        return [("amount_over_max", f"The activity designates at most {offer.designated_max}.")]
    return []


def _claim(
    learner: LearnerCase, offer: CreditOffer, amount: Decimal, problems: Problems, *, now: datetime
) -> Claim:
    """The claim of `amount` from `offer`, or `ClaimRefused` with `problems`. Up to the
    offer's computed credit it is approved and its certificate queued; above it waits for
    review. A double submission that raced past the first check gets the first claim."""
    if problems:
        raise ClaimRefused(problems)
    user, event = learner.user, learner.event
    status = ClaimStatus.APPROVED if amount <= offer.computed_credit else ClaimStatus.NEEDS_REVIEW
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                user=user,
                event=event,
                enduring=offer.enduring,
                credit_type=offer.code,
                degree=learner.degree,
                credited_seconds=offer.credited_seconds,
                computed_credit=offer.computed_credit,
                claimed_credit=amount,
                designated_max=offer.designated_max,
                status=status,
                attestation=ATTESTATION_TEXT,
                attested_at=now,
                inputs_hash=offer.inputs_hash,
                engine_version=offer.engine_version,
                rule_version=offer.rule.version,
            )
            audit(
                user,
                event,
                "claim.submitted",
                claim,
                amount=str(amount),
                status=status,
                **offer.evidence,
            )
            if status == ClaimStatus.APPROVED:
                queue_certificate(claim, name=learner.name, credit=amount)
    except IntegrityError:
        return Claim.objects.get(
            user=user, event=event, credit_type=offer.code, enduring=offer.enduring
        )
    return claim


def add_to_claim(
    claim: Claim,
    *,
    amount: object,
    attested: bool,
    now: datetime | None = None,
    learner: LearnerCase | None = None,
) -> Claim:
    """Add the sessions that ended since `claim` (CME.md: one claim per learner, activity and
    type, but it grows). The credit is computed again over every ended session — rounded once
    and capped once, on the total — and `amount` is the new total, at most that computed
    credit. Stored as a `ClaimAddition` (append-only), audited, and a new certificate version
    is queued (the older one verifies as superseded once it is issued).

    Returns the claim unchanged when it is not approved or nothing new raises the total (a
    double submission). Raises `ClaimRefused` with every problem.
    """
    if claim.status != ClaimStatus.APPROVED:
        return claim
    now = now or timezone.now()
    learner = learner or load_learner(claim.user, claim.event)
    offer = _offer(
        credit_offers(claim.user, claim.event, now=now, learner=learner),
        claim.credit_type,
        "This event does not offer",
    )
    current = effective_credit(claim)
    if offer.computed_credit <= current or offer.credited_seconds <= latest_credited_seconds(claim):
        return claim
    problems = _problems(offer, attested=attested)
    value = parse_amount(amount)
    problems += _amount_problems(value, offer)
    if value <= current:
        problems.append(("amount_not_more", f"Your claim already holds {current}."))
    elif value > offer.computed_credit:
        problems.append(
            (
                "amount_over_computed",
                f"Add up to the computed total {offer.computed_credit}; ask the organizer for "
                "a correction if you think it is more.",
            )
        )
    if problems:
        raise ClaimRefused(problems)
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if value <= effective_credit(locked) or offer.credited_seconds <= latest_credited_seconds(
            locked
        ):  # another tab added the same sessions first
            return locked
        addition = ClaimAddition.objects.create(
            claim=locked,
            credited_seconds=offer.credited_seconds,
            computed_credit=offer.computed_credit,
            claimed_credit=value,
            sessions=offer.credited_sessions,
            attestation=ATTESTATION_TEXT,
            attested_at=now,
            inputs_hash=offer.inputs_hash,
            engine_version=offer.engine_version,
            rule_version=offer.rule.version,
        )
        audit(
            claim.user,
            claim.event,
            "claim.added",
            locked,
            addition=addition.pk,
            previous=str(current),
            total=str(value),
            credited_seconds=offer.credited_seconds,
            sessions=offer.credited_sessions,
        )
        queue_certificate(locked, name=learner.name, credit=value)
    return locked


def review_claim(
    claim: Claim, *, approve: bool, actor: User | AnonymousUser | None, note: str
) -> Claim:
    """Staff decision on a claim waiting for review."""
    if claim.status != ClaimStatus.NEEDS_REVIEW:
        raise ClaimRefused([("not_in_review", "Only claims waiting for review can be decided.")])
    if not note.strip():
        raise ClaimRefused([("reason_required", "Give a reason for the decision.")])
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        claim.status = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
        claim.review_note = note
        claim.save(update_fields=["status", "review_note"])
        audit(
            actor, claim.event, "claim.approved" if approve else "claim.rejected", claim, note=note
        )
        if approve:
            queue_certificate(claim)
    return claim


def correct_claim(claim: Claim, *, credit: object, reason: str, actor: User) -> ClaimCorrection:
    """A staff correction: a new row with a reason; an issued certificate gets a new version."""
    value = Decimal(0) if str(credit).strip() in {"0", "0.00"} else parse_amount(credit)
    if not reason.strip():
        raise ClaimRefused([("reason_required", "A correction needs a reason.")])
    if value > claim.designated_max:
        raise ClaimRefused([("amount_over_max", f"At most {claim.designated_max}.")])
    with transaction.atomic():
        correction = ClaimCorrection.objects.create(
            claim=claim, credit=value, reason=reason, created_by=actor
        )
        audit(actor, claim.event, "claim.corrected", claim, credit=str(value), reason=reason)
        if claim.status == ClaimStatus.APPROVED:
            queue_certificate(claim)
    return correction
