"""CME claims and certificates: the database side of the credit engine.

`build_credit_case` turns the database (sessions, attendance rows, faculty roles, the event's
designations) into the engine's pure `CreditCase`; `credit_offers` says per credit type what a
learner earned and whether (and why not) they may claim it; `claim_credit` applies every
claiming rule of CME.md and queues the certificate; the certificate functions render, version,
supersede and revoke certificates; `verify_certificate` is the public view of a code.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import ProfessionalProfile
from conference.credit import AttendanceEvent as EngineEvent
from conference.credit import (
    CreditCase,
    CreditResult,
    CreditTypeRule,
    Learner,
    LearnerIds,
    SessionSpec,
    compute_credit,
)
from conference.credit import designation as designation_rules
from conference.credit.designation import Attainable, attainable
from conference.credit.engine import CreditTypeResult
from conference.credit.explain import minutes_display
from conference.credit.intervals import subtract
from conference.credit.rules import (
    ID_KINDS,
    KNOWN_DEGREES,
    PRESETS,
    customised_rule,
    parse_codes,
)
from conference.models import (
    AttendanceEvent,
    Certificate,
    CertificateStatus,
    Claim,
    ClaimAddition,
    ClaimCorrection,
    ClaimStatus,
    CmeAuditEntry,
    EvaluationAnswer,
    EvaluationForm,
    EvaluationQuestion,
    EvaluationResponse,
    Event,
    EventCredit,
    QuestionKind,
    Registration,
    Session,
    SessionKind,
    Speaker,
)
from conference.services import cme_pdf, posttests, statements
from conference.services.refusals import Refused

logger = logging.getLogger(__name__)

ATTESTATION_TEXT = (
    "I claim only the credit commensurate with the extent of my participation in the activity."
)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud
CODE_LENGTH = 10
DEFAULT_QUESTIONS = (
    (QuestionKind.LIKERT, "The activity met its stated learning objectives."),
    (QuestionKind.LIKERT, "The content was free of commercial bias."),
    (QuestionKind.TEXT, "What will you change in your practice as a result of this activity?"),
)

REASON_MESSAGES = {
    "not_eligible_degree": "Your degree is not eligible for this credit type.",
    "no_eligible_attendance": "No attendance was recorded in a credit-eligible session.",
    "below_minimum": "Your attended time is below the minimum for credit.",
    "capped_at_designated_max": "Credit is capped at the designated maximum.",
    "session_cancelled": "A session you attended was cancelled and gives no credit.",
    "faculty_of_session": "Time in sessions you presented does not earn you learner credit.",
    "capped_at_designated_minutes": "Some sessions are capped at their designated minutes.",
}
ID_MESSAGES = {
    "npi_missing": "Your NPI is missing.",
    "npi_invalid": "Your NPI is not valid (check digit).",
    "nabp_eprofile_id_missing": "Your NABP e-Profile ID is missing.",
    "nabp_eprofile_id_invalid": "Your NABP e-Profile ID is not valid (6 or 7 digits).",
    "birth_mmdd_missing": "Your birth month and day are missing.",
    "birth_mmdd_invalid": "Your birth month and day are not a valid date.",
    "board_id_missing": "Your certifying board ID is missing.",
    "board_id_invalid": "Your certifying board ID is not valid.",
}


class ClaimRefused(Refused):
    """A claim that the rules do not allow; `problems` are (code, message) pairs."""


class DesignationRefused(ValueError):
    """A designated maximum above what one learner could earn."""


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
    return attainable([_session_spec(s) for s in credit_sessions(event)])


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


# Building the engine's case -----------------------------------------------------------------


def rule_for(event_credit: EventCredit) -> CreditTypeRule:
    """The credit type's rule as this activity configures it (the preset where fields are empty)."""
    return customised_rule(
        event_credit.credit_type,
        increment=event_credit.increment,
        minimum=event_credit.minimum,
        rounding=event_credit.rounding,
        eligible_degrees=parse_codes(event_credit.eligible_degrees, KNOWN_DEGREES, "degrees"),
        required_ids=parse_codes(event_credit.required_ids, ID_KINDS, "learner IDs"),
        reporting_deadline_days=event_credit.reporting_deadline_days,
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
    if parts is None:
        parts = (
            [(p.offset_minutes, p.length_minutes) for p in session.credit_exclusions.all()]
            if session.pk
            else []
        )
    whole = (session.starts_at, session.ends_at)
    cuts = [
        (
            session.starts_at + timedelta(minutes=offset),
            session.starts_at + timedelta(minutes=offset + length),
        )
        for offset, length in parts
    ]
    spec = SessionSpec(
        id=str(session.pk),
        start=session.starts_at,
        end=session.ends_at,
        eligible_windows=_eligible_windows(whole, cuts),
        designated_minutes=session.designated_minutes,
    )
    return designation_rules.session_designation_problem(spec)


def credit_sessions(event: Event) -> QuerySet[Session]:
    """The event's credit-eligible sessions (breaks never are)."""
    return (
        event.sessions.filter(is_cme_eligible=True)
        .exclude(kind=SessionKind.BREAK)
        .prefetch_related("credit_exclusions")
    )


def profile_of(user) -> ProfessionalProfile | None:
    return ProfessionalProfile.objects.filter(user=user).prefetch_related("boards").first()


def learner_ids(profile: ProfessionalProfile | None) -> LearnerIds:
    if profile is None:
        return LearnerIds()
    return LearnerIds(
        npi=profile.npi,
        nabp_eprofile_id=profile.nabp_eprofile_id,
        birth_month=profile.birth_month,
        birth_day=profile.birth_day,
        board_ids=tuple(sorted((b.board, b.board_id) for b in profile.boards.all())),
    )


def _session_spec(session: Session) -> SessionSpec:
    """The session for the engine: its credit-eligible windows are its time minus the parts
    without credit (prefetched `credit_exclusions`)."""
    whole = (session.starts_at, session.ends_at)
    cuts = [
        (
            session.starts_at + timedelta(minutes=part.offset_minutes),
            session.starts_at + timedelta(minutes=part.offset_minutes + part.length_minutes),
        )
        for part in session.credit_exclusions.all()
    ]
    return SessionSpec(
        id=str(session.pk),
        start=session.starts_at,
        end=session.ends_at,
        title=session.title,
        eligible_windows=_eligible_windows(whole, cuts),
        designated_minutes=session.designated_minutes,
        cancelled=session.is_cancelled,
    )


def _eligible_windows(whole: tuple[datetime, datetime], cuts: list) -> tuple:
    """() means the whole session to the engine; a session cut away entirely keeps one empty
    window, which counts nothing."""
    if not cuts:
        return ()
    return tuple(subtract([whole], cuts)) or ((whole[0], whole[0]),)


def _faculty_session_ids(user, event: Event) -> frozenset[str]:
    speakers = Speaker.objects.filter(event=event, user=user)
    return frozenset(
        str(pk) for pk in Session.objects.filter(speakers__in=speakers).values_list("pk", flat=True)
    )


def build_credit_case(user, event: Event) -> CreditCase:
    """The engine's input for `user` at `event`, from the database. Sessions whose recording
    the learner claimed as enduring material are left out (CME.md: nobody earns credit for
    both the live session and its recording; see `services.enduring`)."""
    from conference.services.enduring import sessions_claimed_as_enduring

    profile = profile_of(user)
    excluded = sessions_claimed_as_enduring(user, event)
    sessions = [s for s in credit_sessions(event) if s.pk not in excluded]
    credits = list(event.credits.all())
    rows = AttendanceEvent.objects.filter(user=user, session__in=[s.pk for s in sessions])
    return CreditCase(
        learner=Learner(
            degree=profile.degree if profile else "other",
            faculty_of_sessions=_faculty_session_ids(user, event),
            ids=learner_ids(profile),
        ),
        rules=tuple(rule_for(c) for c in credits),
        sessions=tuple(_session_spec(s) for s in sessions),
        attendance=tuple(
            EngineEvent(
                id=str(row.pk),
                kind=row.kind,
                session=str(row.session_id),
                connection=row.connection,
                server_time=row.server_time,
            )
            for row in rows
        ),
        designated_max=tuple((c.credit_type, c.designated_max) for c in credits),
    )


def compute_event_credit(user, event: Event, *, ended_by: datetime | None = None) -> CreditResult:
    """The learner's credit; with `ended_by`, over the sessions ended by then only (what a
    claim at that moment counts)."""
    case = build_credit_case(user, event)
    return compute_credit(ended_case(case, ended_by) if ended_by else case)


def ended_case(case: CreditCase, moment: datetime) -> CreditCase:
    """The case restricted to the sessions that ended by `moment` (and their events)."""
    ended = tuple(s for s in case.sessions if s.end <= moment)
    ids = {s.id for s in ended}
    return replace(
        case,
        sessions=ended,
        attendance=tuple(e for e in case.attendance if e.session in ids),
    )


# How credit was computed, in words ------------------------------------------------------------

SESSION_REASON_WORDS = {
    "session_cancelled": "cancelled: no credit",
    "faculty_of_session": "you presented it: no learner credit",
    "capped_at_designated_minutes": "capped at its designated minutes",
    "counted_in_parallel_session": "part of this time was counted in a parallel session",
}


@dataclass(frozen=True)
class SegmentLine:
    connection: str
    start: str
    end: str
    seconds: int
    closed: str


@dataclass(frozen=True)
class SessionLine:
    title: str
    when: str
    segments: list[SegmentLine]
    attended_minutes: str
    eligible_minutes: str
    credited_minutes: str
    reasons: list[str]


@dataclass(frozen=True)
class CreditExplanation:
    tolerance_seconds: int
    sessions: list[SessionLine]
    ignored: list[str]
    credited_minutes: str


def _clock(moment: datetime, event: Event) -> str:
    return timezone.localtime(moment, event.tzinfo).strftime("%H:%M:%S")


def segment_closed_text(segment, event: Event, *, tolerance: int) -> str:
    """Why a segment ended, in words; a gap with its times (docs/cme.md "Segments")."""
    if segment.gap is not None:
        gap = segment.gap
        return (
            f"closed at the last proof of presence, {_clock(gap.start, event)}: nothing was "
            f"received until the {gap.next_kind.replace('_', ' ')} at "
            f"{_clock(gap.end, event)}, {gap.seconds} s later (more than the {tolerance} s "
            "allowed)"
        )
    return {
        "leave": "you left",
        "attention_missed": "an attention check was missed: closed at the last proof of presence",
        "no_leave": "no leave was recorded: closed at the last proof of presence",
        "session_end": "the session ended",
    }.get(segment.closed_by, segment.closed_by)


def _ignored_text(ignored, event: Event) -> str:
    kind = ignored.kind.replace("_", " ")
    if ignored.reason.endswith("_after_heartbeat_gap"):
        why = "after a gap closed the segment; it counts again from the next join"
    elif ignored.reason.endswith("_without_join"):
        why = "without a join on that connection"
    else:
        why = ignored.reason.replace("_", " ")
    return f"{_clock(ignored.server_time, event)} {kind}: not counted ({why})"


def explain_credit(result: CreditResult, event: Event) -> CreditExplanation:
    """The engine's result as the learner's "How was this computed" reads it (event zone)."""
    tolerance = result.heartbeat_tolerance_seconds
    sessions = [
        SessionLine(
            title=s.spec.title,
            when=f"{_local(s.spec.start, event)}–{_clock(s.spec.end, event)[:5]}",
            segments=[
                SegmentLine(
                    connection=segment.connection,
                    start=_clock(segment.start, event),
                    end=_clock(segment.end, event),
                    seconds=segment.seconds,
                    closed=segment_closed_text(segment, event, tolerance=tolerance),
                )
                for segment in s.segments
            ],
            attended_minutes=minutes_display(s.attended_seconds),
            eligible_minutes=minutes_display(s.eligible_seconds),
            credited_minutes=minutes_display(s.credited_seconds),
            reasons=[SESSION_REASON_WORDS.get(r, r) for r in s.reasons],
        )
        for s in result.sessions
        if s.segments
    ]
    return CreditExplanation(
        tolerance_seconds=tolerance,
        sessions=sessions,
        ignored=[
            _ignored_text(i, event) for i in result.ignored_events if i.reason != "unknown_session"
        ],
        credited_minutes=minutes_display(result.total_seconds),
    )


# What a learner may claim -------------------------------------------------------------------


@dataclass
class CreditOffer:
    """One credit type of an event as one learner sees it."""

    event_credit: EventCredit
    rule: CreditTypeRule
    result: CreditTypeResult
    credited_seconds: int
    claim: Claim | None
    inputs_hash: str = ""
    engine_version: str = ""
    sessions_to_come: bool = False
    attainable_max: Decimal | None = None
    attainable_minutes: int = 0
    statement: str = ""
    accreditation: str = ""
    credited_sessions: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def minutes(self) -> int:
        return self.credited_seconds // 60

    @property
    def can_claim(self) -> bool:
        return self.claim is None and not self.problems

    @property
    def current_credit(self) -> Decimal | None:
        """The claim's credit now (after additions and corrections), or None."""
        return effective_credit(self.claim) if self.claim else None

    @property
    def can_add(self) -> bool:
        """Sessions that ended since the claim raise the computed total above the claim's."""
        return (
            self.claim is not None
            and self.claim.status == ClaimStatus.APPROVED
            and not self.problems
            and self.credited_seconds > latest_credited_seconds(self.claim)
            and self.result.credit > effective_credit(self.claim)
        )

    @property
    def needs_profile(self) -> bool:
        return any(code in ID_MESSAGES or code == "profile_missing" for code, _ in self.problems)


def claim_opens_for(event_credit: EventCredit, case: CreditCase) -> datetime | None:
    """When this learner may claim: once the first credit-eligible session they attended has
    ended (without attendance: the first one), and not before `claim_opens_at`. Later
    sessions are added to the claim when they end."""
    attended = {e.session for e in case.attendance}
    ends = [s.end for s in case.sessions if s.id in attended] or [s.end for s in case.sessions]
    if not ends:
        return None
    opens = min(ends)
    if event_credit.claim_opens_at:
        opens = max(opens, event_credit.claim_opens_at)
    return opens


def later_sessions(case: CreditCase, now: datetime) -> bool:
    """Whether credit-eligible sessions are still to come (they can be added once ended)."""
    return any(s.end > now for s in case.sessions)


def evaluation_done(user, event: Event) -> bool:
    return EvaluationResponse.objects.filter(form__event=event, user=user).exists()


def _local(moment: datetime, event: Event) -> str:
    return timezone.localtime(moment, event.tzinfo).strftime("%d %b %Y %H:%M %Z")


def learner_problems(
    rule: CreditTypeRule, profile: ProfessionalProfile | None, *, id_codes: Iterable[str]
) -> list[tuple[str, str]]:
    """What keeps this learner from claiming `rule`'s credit type, whatever the activity: no
    legal name, a degree it is not for, and the `id_codes` (missing or invalid learner ids)."""
    problems: list[tuple[str, str]] = []
    if profile is None or not profile.legal_name.strip():
        problems.append(
            ("profile_missing", "Add your legal name and degree to your profile first.")
        )
    if not rule.degree_is_eligible(profile.degree if profile else "other"):
        allowed = ", ".join(rule.eligible_degrees)
        problems.append(
            (
                "not_eligible_degree",
                f"{rule.name} is only for {allowed}; claim a certificate of participation instead.",
            )
        )
    problems += [(code, ID_MESSAGES.get(code, code)) for code in id_codes]
    return problems


def _offer_problems(
    event_credit: EventCredit,
    rule: CreditTypeRule,
    result: CreditTypeResult,
    *,
    opens: datetime | None,
    profile: ProfessionalProfile | None,
    evaluated: bool,
    passed_tests: set[int],
    now: datetime,
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    closes = event_credit.claim_closes_at
    if opens is None:
        problems.append(("no_eligible_sessions", "This event has no credit-eligible sessions."))
    elif now < opens:
        problems.append(
            (
                "claim_not_open",
                "You can claim once the sessions you attend have ended, from "
                f"{_local(opens, event_credit.event)}.",
            )
        )
    if closes is not None and now > closes:
        problems.append(
            (
                "claim_window_closed",
                f"The claim window closed at {_local(closes, event_credit.event)}.",
            )
        )
    problems += learner_problems(rule, profile, id_codes=result.id_problems)
    if event_credit.evaluation_required and not evaluated:
        problems.append(("evaluation_required", "Complete the evaluation first."))
    test = event_credit.post_test
    if test is not None and test.pk not in passed_tests:
        problems.append(("post_test_required", posttests.requirement_message(test)))
    not_open = any(code == "claim_not_open" for code, _ in problems)
    if result.credit <= 0 and "not_eligible_degree" not in result.reasons and not not_open:
        problems.append(("no_credit", "You have no credit to claim for this activity."))
    return problems


def credit_offers(user, event: Event, *, now: datetime | None = None) -> list[CreditOffer]:
    """Per credit type the event offers: the learner's computed credit and claim problems."""
    now = now or timezone.now()
    case = build_credit_case(user, event)
    result = compute_credit(ended_case(case, now))
    profile = profile_of(user)
    evaluated = evaluation_done(user, event)
    claims = {c.credit_type: c for c in Claim.objects.filter(user=user, event=event, enduring=None)}
    by_code = {r.rule.code: r for r in result.credit_types}
    event_credits = list(event.credits.select_related("post_test"))
    passed = posttests.passed_test_ids(user, {c.post_test_id for c in event_credits} - {None})
    recorded = _enduring_reasons(user, event)
    limit = attainable_credit(event) if event_credits else None
    ama = next((c for c in event_credits if c.credit_type == "AMA_PRA_1"), None)
    offers = []
    for event_credit in event_credits:
        rule = rule_for(event_credit)
        type_result = by_code[rule.code]
        offers.append(
            CreditOffer(
                event_credit=event_credit,
                rule=rule,
                result=type_result,
                credited_seconds=result.total_seconds,
                attainable_max=limit.max_credit(rule) if limit else None,
                attainable_minutes=limit.seconds // 60 if limit else 0,
                statement=cme_pdf.designation_statement(event, event_credit, ama=ama),
                accreditation=statements.event_accreditation_statement(event, rule.code),
                claim=claims.get(rule.code),
                inputs_hash=result.inputs_hash,
                engine_version=result.engine_version,
                problems=_offer_problems(
                    event_credit,
                    rule,
                    type_result,
                    opens=claim_opens_for(event_credit, case),
                    profile=profile,
                    evaluated=evaluated,
                    passed_tests=passed,
                    now=now,
                ),
                sessions_to_come=later_sessions(case, now),
                credited_sessions=[s.spec.title for s in result.sessions if s.credited_seconds],
                reasons=[REASON_MESSAGES.get(r, r) for r in type_result.reasons] + recorded,
            )
        )
    return offers


def _enduring_reasons(user, event: Event) -> list[str]:
    """Sessions the learner attended live that are left out of the live credit because their
    recording was claimed."""
    from conference.services.enduring import sessions_claimed_as_enduring

    ids = sessions_claimed_as_enduring(user, event)
    attended = AttendanceEvent.objects.filter(user=user, session_id__in=ids)
    titles = (
        Session.objects.filter(pk__in=attended.values("session_id"))
        .order_by("starts_at")
        .values_list("title", flat=True)
    )
    return [
        f"“{title}” is not counted: you claimed its recording as enduring material."
        for title in titles
    ]


# Claiming -------------------------------------------------------------------------------------


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


def _amount_problems(amount: Decimal, offer: CreditOffer) -> list[tuple[str, str]]:
    rule = offer.rule
    if amount % rule.increment:
        return [("amount_increment", f"Claim in steps of {rule.increment}.")]
    if amount > offer.event_credit.designated_max:
        return [
            (
                "amount_over_max",
                f"The activity designates at most {offer.event_credit.designated_max}.",
            )
        ]
    return []


def claim_credit(
    user,
    event: Event,
    credit_type: str,
    *,
    amount: object,
    attested: bool,
    site_url: str = "",
    now: datetime | None = None,
) -> Claim:
    """Claim `amount` of `credit_type` at `event` for `user` (CME.md "Claiming").

    Credit counts the sessions ended by `now`. Up to the computed credit the claim is
    approved and its certificate queued (rendered by Celery after commit); above it the claim
    waits for staff review. When the learner already holds an approved claim of the type,
    sessions that ended since are added to it (`add_to_claim`); otherwise (or when nothing new
    is to add) the existing claim is returned unchanged. Raises `ClaimRefused` with every
    reason the claim is not possible.
    """
    existing = Claim.objects.filter(
        user=user, event=event, credit_type=credit_type, enduring=None
    ).first()
    if existing is not None:
        return add_to_claim(existing, amount=amount, attested=attested, site_url=site_url, now=now)
    offer = next((o for o in credit_offers(user, event, now=now) if o.code == credit_type), None)
    if offer is None:
        raise ClaimRefused([("credit_type_not_offered", "This event does not offer that credit.")])
    problems = list(offer.problems)
    if not attested:
        problems.append(("attestation_required", f"Please attest: “{ATTESTATION_TEXT}”"))
    value = parse_amount(amount)
    problems += _amount_problems(value, offer)
    if problems:
        raise ClaimRefused(problems)
    return _create_claim(user, event, offer, value, site_url=site_url, now=now or timezone.now())


def _create_claim(
    user, event: Event, offer: CreditOffer, amount: Decimal, *, site_url: str, now: datetime
) -> Claim:
    profile = profile_of(user)
    status = ClaimStatus.APPROVED if amount <= offer.result.credit else ClaimStatus.NEEDS_REVIEW
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                user=user,
                event=event,
                credit_type=offer.code,
                degree=profile.degree,
                credited_seconds=offer.credited_seconds,
                computed_credit=offer.result.credit,
                claimed_credit=amount,
                designated_max=offer.event_credit.designated_max,
                status=status,
                attestation=ATTESTATION_TEXT,
                attested_at=now,
                inputs_hash=offer.inputs_hash,
                engine_version=offer.engine_version,
                rule_version=offer.rule.version,
            )
            audit(user, event, "claim.submitted", claim, amount=str(amount), status=status)
            if status == ClaimStatus.APPROVED:
                queue_certificate(claim, site_url=site_url)
    except IntegrityError:
        # A double submission that raced past the first check: the first one won.
        return Claim.objects.get(user=user, event=event, credit_type=offer.code, enduring=None)
    return claim


def audit(actor, event: Event | None, action: str, obj, **detail: object) -> CmeAuditEntry:
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


def add_to_claim(
    claim: Claim,
    *,
    amount: object,
    attested: bool,
    site_url: str = "",
    now: datetime | None = None,
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
    offer = next(
        o for o in credit_offers(claim.user, claim.event, now=now) if o.code == claim.credit_type
    )
    current = effective_credit(claim)
    if offer.result.credit <= current or offer.credited_seconds <= latest_credited_seconds(claim):
        return claim
    problems = list(offer.problems)
    if not attested:
        problems.append(("attestation_required", f"Please attest: “{ATTESTATION_TEXT}”"))
    value = parse_amount(amount)
    problems += _amount_problems(value, offer)
    if value <= current:
        problems.append(("amount_not_more", f"Your claim already holds {current}."))
    elif value > offer.result.credit:
        problems.append(
            (
                "amount_over_computed",
                f"Add up to the computed total {offer.result.credit}; ask the organizer for "
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
            computed_credit=offer.result.credit,
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
        queue_certificate(locked, site_url=site_url)
    return locked


def review_claim(claim: Claim, *, approve: bool, actor, note: str, site_url: str = "") -> Claim:
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
            queue_certificate(claim, site_url=site_url)
    return claim


def correct_claim(
    claim: Claim, *, credit: object, reason: str, actor, site_url: str = ""
) -> ClaimCorrection:
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
            queue_certificate(claim, site_url=site_url)
    return correction


# Certificates --------------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def verify_url(code: str, *, site_url: str = "", version: int | None = None) -> str:
    """The public verification URL printed on a certificate: of its own version, so an
    older printout verifies as superseded (and links the current one)."""
    base = site_url or getattr(settings, "MEDVENUE_SITE_URL", "") or "http://localhost:8000"
    if version is None:
        return base.rstrip("/") + reverse("cme-verify", kwargs={"code": code})
    path = reverse("cme-verify-version", kwargs={"code": code, "version": version})
    return base.rstrip("/") + path


def current_certificate(claim: Claim) -> Certificate | None:
    return claim.certificates.order_by("-version").first()


def learner_name(user) -> str:
    profile = profile_of(user)
    return (profile.legal_name.strip() if profile else "") or user.public_name


def queue_certificate(
    claim: Claim, *, site_url: str = "", dispatch: bool = True
) -> Certificate | None:
    """Make sure the claim's current name and credit have a certificate version (queued and
    rendered after commit). A no-op when the latest version already says the same thing."""
    name, credit = learner_name(claim.user), effective_credit(claim)
    latest = current_certificate(claim)
    if latest and latest.status == CertificateStatus.REVOKED:
        return None
    if latest and latest.learner_name == name and latest.credit == credit:
        return None
    code = latest.code if latest else _unique_code()
    version = latest.version + 1 if latest else 1
    certificate = Certificate.objects.create(
        claim=claim,
        version=version,
        code=code,
        learner_name=name,
        degree=claim.degree,
        credit=credit,
        verify_url=verify_url(code, site_url=site_url, version=version),
        first_issued_at=latest.first_issued_at if latest else None,
    )
    audit(None, claim.event, "certificate.queued", certificate, version=certificate.version)
    if dispatch:
        transaction.on_commit(lambda: _dispatch(claim.pk))
    return certificate


def issue_certificates(claims: QuerySet[Claim], *, site_url: str = "") -> list[int]:
    """Bulk: queue certificates for the approved claims among `claims` that lack a current
    one (or whose rendering failed) and render them as one Celery group after commit.
    Returns the claim ids sent to the workers."""
    ids: list[int] = []
    with transaction.atomic():
        for claim in claims.filter(status=ClaimStatus.APPROVED).select_related("user"):
            queue_certificate(claim, site_url=site_url, dispatch=False)
            latest = current_certificate(claim)
            if latest and latest.status in (CertificateStatus.QUEUED, CertificateStatus.FAILED):
                ids.append(claim.pk)
        if ids:
            transaction.on_commit(lambda: _dispatch_group(ids))
    return ids


def _dispatch_group(claim_ids: list[int]) -> None:
    _send_batches([claim_ids[i : i + BATCH_SIZE] for i in range(0, len(claim_ids), BATCH_SIZE)])


def _send_batches(batches: list[list[int]]) -> None:
    from celery import group

    from conference.tasks import issue_certificates

    group(issue_certificates.s(batch) for batch in batches).apply_async()


def _unique_code() -> str:
    while True:
        code = new_code()
        if not Certificate.objects.filter(code=code).exists():
            return code


WINDOW_KEY = "cme:certificate-window"


def window_seconds() -> float:
    return float(getattr(settings, "CME_CERTIFICATE_WINDOW_SECONDS", 1.0))


def _dispatch(claim_id: int) -> None:
    dispatch_certificate(claim_id)


def dispatch_certificate(claim_id: int) -> bool:
    """After a claim (or a new version) commits: have its certificate rendered soon.

    Where rows can be locked without waiting (PostgreSQL), certificates are rendered in
    batches gathered over a short window: the first claim of a window sends one
    `collect_waiting_certificates` task delayed by `CME_CERTIFICATE_WINDOW_SECONDS` (a cache
    key shared by every web process marks the open window); the claims that follow within the
    window send nothing. Returns True when this call opened a window. Elsewhere (SQLite) each
    claim sends its own `issue_certificate` task, as before.
    """
    from conference.tasks import collect_waiting_certificates, issue_certificate

    if not connection.features.has_select_for_update_skip_locked:
        issue_certificate.delay(claim_id)
        return False
    window = window_seconds()
    # The key outlives the window by a minute: if the collector were lost, the next claim
    # after that opens a new window (certificates still waiting are collected with it).
    if not cache.add(WINDOW_KEY, claim_id, timeout=int(window) + 60):
        return False
    collect_waiting_certificates.apply_async(countdown=window)
    return True


def collect_waiting_certificates() -> list[list[int]]:
    """The window's task: close the window (claims from now on open the next), then send every
    claim whose certificate waits (`queued`) as batches of BATCH_SIZE in one Celery group —
    the bulk path, so each worker process renders whole batches. Returns the batches sent."""
    cache.delete(WINDOW_KEY)
    waiting = Certificate.objects.filter(status=CertificateStatus.QUEUED).order_by(
        "created_at", "id"
    )
    claim_ids = list(dict.fromkeys(waiting.values_list("claim_id", flat=True)))
    batches = [claim_ids[i : i + BATCH_SIZE] for i in range(0, len(claim_ids), BATCH_SIZE)]
    if batches:
        _send_batches(batches)
    return batches


def revoke_certificate(claim: Claim, *, reason: str, actor) -> Certificate:
    if not reason.strip():
        raise ClaimRefused([("reason_required", "Revoking needs a reason.")])
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update().filter(claim=claim).order_by("-version").first()
        )
        if certificate is None:
            raise ClaimRefused([("no_certificate", "This claim has no certificate.")])
        certificate.status = CertificateStatus.REVOKED
        certificate.revoked_at = timezone.now()
        certificate.revoked_reason = reason
        certificate.save(update_fields=["status", "revoked_at", "revoked_reason"])
        audit(actor, claim.event, "certificate.revoked", certificate, reason=reason)
    return certificate


def certificates_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "certificates"


def certificate_path(certificate: Certificate) -> Path:
    return certificates_root() / f"{certificate.code}-v{certificate.version}.pdf"


RENDERABLE = (CertificateStatus.QUEUED, CertificateStatus.FAILED)
BATCH_SIZE = 25


def issue_certificate(claim_id: int) -> Certificate | None:
    """Render the claim's latest certificate version if it is not rendered yet.

    Idempotent: one file and one row per claim version however often it runs. The PDF is
    written to a temporary file and renamed into place, so a worker killed mid-render leaves
    no half file (a rerun removes its leftovers and renders again).

    Where the database can lock rows without waiting (PostgreSQL), the claim's certificate is
    rendered together with up to BATCH_SIZE - 1 other waiting ones that no other worker holds:
    a burst of claims then costs one task's overhead per batch, and the tasks of the claims
    already rendered find nothing to do. The locks last until the batch is marked issued, so
    no two workers render the same certificate; a killed worker's locks go with its
    connection and its redelivered task takes the batch again.
    """
    if not connection.features.has_select_for_update_skip_locked:
        return render_certificates([claim_id]).get(claim_id)
    with transaction.atomic():
        claim_ids = _lock_waiting_batch(claim_id)
        latest, errors = _render_latest(claim_ids) if claim_ids else ({}, [])
    if errors:
        raise errors[0]
    return latest.get(claim_id) or current_certificate_of(claim_id)


def _lock_waiting_batch(claim_id: int) -> list[int]:
    """Lock the claim's renderable certificate and other waiting ones; [] when another
    worker holds the claim's (it renders it) or nothing waits."""
    waiting = Certificate.objects.select_for_update(skip_locked=True).filter(status__in=RENDERABLE)
    own = list(waiting.filter(claim_id=claim_id).values_list("claim_id", flat=True)[:1])
    if not own:
        return []
    others = (
        waiting.exclude(claim_id=claim_id)
        .order_by("created_at", "id")
        .values_list("claim_id", flat=True)[: BATCH_SIZE - 1]
    )
    return [claim_id, *dict.fromkeys(others)]


def current_certificate_of(claim_id: int) -> Certificate | None:
    return Certificate.objects.filter(claim_id=claim_id).order_by("-version").first()


def render_certificates(claim_ids: list[int]) -> dict[int, Certificate]:
    """`issue_certificate` for many claims with a few queries in all (bulk issuing).

    A certificate whose rendering fails is marked failed and the others go on; the first
    error is raised at the end, so a retry renders exactly the ones still missing.

    Where rows can be locked without waiting (PostgreSQL), only the certificates no other
    worker holds are rendered (`SELECT ... FOR UPDATE SKIP LOCKED`, held until they are marked
    issued): two batches naming the same claim never render it twice.
    """
    if not connection.features.has_select_for_update_skip_locked:
        latest, errors = _render_latest(claim_ids)
    else:
        with transaction.atomic():
            held = list(
                Certificate.objects.select_for_update(skip_locked=True)
                .filter(claim_id__in=claim_ids, status__in=RENDERABLE)
                .values_list("claim_id", flat=True)
            )
            latest, errors = _render_latest(list(dict.fromkeys(held))) if held else ({}, [])
        for claim_id in set(claim_ids) - set(latest):
            current = current_certificate_of(claim_id)
            if current is not None:
                latest[claim_id] = current
    if errors:
        raise errors[0]
    return latest


def _render_latest(claim_ids: list[int]) -> tuple[dict[int, Certificate], list[Exception]]:
    latest = _latest_certificates(claim_ids)
    for claim_id in set(claim_ids) - set(latest):
        logger.warning("issue_certificate: claim %s has no certificate", claim_id)
    todo = [c for c in latest.values() if c.status in RENDERABLE]
    credits = _credits_by_event({c.claim.event_id for c in todo})
    rendered, errors = [], []
    for certificate in todo:
        try:
            rendered.append((certificate, _render_file(certificate, credits)))
        except Exception as error:
            errors.append(error)
            _mark_failed(certificate, error)
    _mark_issued(rendered)
    return latest, errors


def _latest_certificates(claim_ids: list[int]) -> dict[int, Certificate]:
    rows = (
        Certificate.objects.filter(claim_id__in=claim_ids)
        .select_related("claim__event__organizer", "claim__user")
        .order_by("claim_id", "-version")
    )
    latest: dict[int, Certificate] = {}
    for certificate in rows:
        latest.setdefault(certificate.claim_id, certificate)
    return latest


def _credits_by_event(event_ids: set[int]) -> dict[int, dict[str, EventCredit]]:
    credits: dict[int, dict[str, EventCredit]] = {event_id: {} for event_id in event_ids}
    for event_credit in EventCredit.objects.filter(event_id__in=event_ids):
        credits[event_credit.event_id][event_credit.credit_type] = event_credit
    return credits


def _render_file(certificate: Certificate, credits: dict[int, dict[str, EventCredit]]) -> Path:
    from conference.services import cme_pdf

    final = certificate_path(certificate)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(final)
    if not final.exists():
        data = cme_pdf.certificate_data(certificate, credits=credits[certificate.claim.event_id])
        _write_atomically(final, lambda stream: cme_pdf.render_certificate(data, stream))
    return final


def _mark_failed(certificate: Certificate, error: Exception) -> None:
    certificate.status = CertificateStatus.FAILED
    certificate.error = f"{type(error).__name__}: {error}"[:500]
    Certificate.objects.filter(pk=certificate.pk).update(
        status=certificate.status, error=certificate.error
    )


def _partial_folder(final: Path) -> Path:
    """Temporary files live in a subfolder (same file system, so the rename is atomic) that
    only ever holds files being written or left by a killed worker."""
    return final.parent / ".partial"


def _remove_leftovers(final: Path) -> None:
    for leftover in _partial_folder(final).glob(final.name + ".*.partial"):
        leftover.unlink(missing_ok=True)


def _write_atomically(final: Path, write) -> None:
    folder = _partial_folder(final)
    folder.mkdir(exist_ok=True)
    temporary = folder / f"{final.name}.{secrets.token_hex(4)}.partial"
    try:
        with open(temporary, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def _mark_issued(rendered: list[tuple[Certificate, Path]]) -> None:
    """Mark the rendered versions issued (once: a concurrent or repeated run changes
    nothing), supersede their older versions, audit, and e-mail the learners after commit."""
    if not rendered:
        return
    now = timezone.now()
    with transaction.atomic():
        pending = set(
            Certificate.objects.select_for_update()
            .filter(pk__in=[c.pk for c, _ in rendered], status__in=RENDERABLE)
            .values_list("pk", flat=True)
        )
        fresh = []
        for certificate, final in rendered:
            if certificate.pk not in pending:
                certificate.refresh_from_db()
                continue
            certificate.status, certificate.error = CertificateStatus.ISSUED, ""
            certificate.file_path = str(final.relative_to(settings.MEDIA_ROOT))
            certificate.issued_at = now
            certificate.first_issued_at = certificate.first_issued_at or now
            fresh.append(certificate)
        Certificate.objects.bulk_update(
            fresh, ["status", "error", "file_path", "issued_at", "first_issued_at"]
        )
        _supersede_older(fresh)
        _issue_credentials(fresh)
        CmeAuditEntry.objects.bulk_create(
            CmeAuditEntry(
                event_id=c.claim.event_id,
                action="certificate.issued",
                object_type="Certificate",
                object_id=c.pk,
                detail={"version": c.version},
            )
            for c in fresh
        )
        transaction.on_commit(lambda: _mail_ready(fresh))


def _issue_credentials(issued: list[Certificate]) -> None:
    """Each issued version's Open Badges 3.0 credential (`services.credentials`). A failure
    (e.g. an unreadable signing key) never blocks the certificate: the credential is issued
    when the learner first downloads it."""
    from conference.services import credentials

    try:
        with transaction.atomic():
            credentials.ensure_credentials(issued)
    except Exception:
        logger.exception("certificates issued without their verifiable credentials")


def _supersede_older(issued: list[Certificate]) -> None:
    older = Q()
    for certificate in issued:
        if certificate.version > 1:
            older |= Q(claim_id=certificate.claim_id, version__lt=certificate.version)
    if older:
        Certificate.objects.filter(older, status=CertificateStatus.ISSUED).update(
            status=CertificateStatus.SUPERSEDED
        )


def _mail_ready(certificates: list[Certificate]) -> None:
    """Tell the learners (console backend by default); mail trouble never fails the task.
    Plain text and HTML parts say the same; the HTML sets the AMA phrase in italics."""
    from django.core.mail import EmailMultiAlternatives, get_connection

    messages = []
    for certificate in certificates:
        claim = certificate.claim
        base = certificate.verify_url.split("/verify/")[0]
        page = base + _claim_page(claim)
        name = PRESETS[claim.credit_type].name
        claimed = statements.credit_amount(claim.credit_type, certificate.credit, name)
        lines = [
            f"Your certificate for {claim.event.title} is ready: {claimed}.",
            f"Download it from {page}",
            f"Verification code: {certificate.code} ({certificate.verify_url})",
        ]
        message = EmailMultiAlternatives(
            f"Your CME certificate for {claim.event.title} is ready",
            "\n".join(lines),
            to=[claim.user.email],
        )
        message.attach_alternative(
            "".join(f"<p>{statements.phrase_html(line, email=True)}</p>" for line in lines),
            "text/html",
        )
        messages.append(message)
    try:
        get_connection().send_messages(messages)
    except OSError:
        logger.exception("certificates ready: the e-mails could not be sent")


def _claim_page(claim: Claim) -> str:
    """Where the learner finds the claim: the enduring activity's page or My CME of the event."""
    if claim.enduring_id:
        return reverse("cme:enduring", kwargs={"activity_id": claim.enduring_id})
    return reverse("cme:event", kwargs={"event_slug": claim.event.slug})


def certificate_file(certificate: Certificate) -> Path | None:
    if not certificate.file_path:
        return None
    path = Path(settings.MEDIA_ROOT) / certificate.file_path
    return path if path.is_file() else None


def may_download(user, certificate: Certificate) -> bool:
    """The learner, or staff of the event's organizer whose role covers CME (owners and CME
    coordinators)."""
    from conference.services.organizers import Area, organizers_for

    if not user.is_authenticated:
        return False
    if certificate.claim.user_id == user.pk:
        return True
    organizer_id = certificate.claim.event.organizer_id
    return user.is_staff and organizers_for(user, Area.CME).filter(pk=organizer_id).exists()


# Public verification ------------------------------------------------------------------------


def verify_certificate(code: str, *, version: int | None = None) -> dict | None:
    """What anyone with the code may see: never NPI, licenses, board IDs or birth dates.

    Without `version`, the newest issued (or superseded, revoked) version of the code; with
    it, that version — a superseded one says so and names the current version and its URL
    (`current_version`, `current_url`)."""
    shown = Certificate.objects.filter(code=code.strip().upper()).exclude(
        status__in=[CertificateStatus.QUEUED, CertificateStatus.FAILED]
    )
    certificate = (
        (shown.filter(version=version) if version is not None else shown)
        .select_related("claim__event__organizer", "claim__enduring__session")
        .order_by("-version")
        .first()
    )
    if certificate is None:
        return None
    info = _verification_info(certificate)
    if certificate.status == CertificateStatus.SUPERSEDED:
        current = shown.order_by("-version").first()
        info["current_version"] = current.version
        info["current_url"] = reverse(
            "cme-verify-version", kwargs={"code": current.code, "version": current.version}
        )
    return info


def _verification_info(certificate: Certificate) -> dict:
    event = certificate.claim.event
    enduring = certificate.claim.enduring
    rule = PRESETS[certificate.claim.credit_type]
    status = {
        CertificateStatus.ISSUED: "valid",
        CertificateStatus.SUPERSEDED: "superseded",
        CertificateStatus.REVOKED: "revoked",
    }[certificate.status]
    info = {
        "code": certificate.code,
        "status": status,
        "version": certificate.version,
        "name": certificate.learner_name,
        "degree": certificate.degree,
        "activity": event.title,
        "provider": event.cme_provider or event.organizer.name,
        "activity_start": event.start_date.isoformat(),
        "activity_end": event.end_date.isoformat(),
        "credit_type": rule.name,
        "credits": format(certificate.credit, ".2f"),
        "first_issued": _date(certificate.first_issued_at),
        "issued": _date(certificate.issued_at),
        "revoked_reason": certificate.revoked_reason if status == "revoked" else "",
    }
    if enduring is not None:
        # Enduring material: its own title and its release..expiry dates.
        info["activity"] = enduring.title or enduring.session.title
        info["activity_start"] = enduring.release_date.isoformat()
        info["activity_end"] = enduring.expiry_date.isoformat()
        info["enduring_material"] = {
            "event": event.title,
            "release_date": enduring.release_date.isoformat(),
            "review_date": enduring.review_date.isoformat(),
            "expiry_date": enduring.expiry_date.isoformat(),
        }
    return info


def _date(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


# Evaluations ---------------------------------------------------------------------------------


def ensure_evaluation_form(event: Event) -> EvaluationForm:
    """The event's evaluation form; created with the default questions (including the
    intended change in practice) the first time."""
    with transaction.atomic():
        form, created = EvaluationForm.objects.get_or_create(event=event)
        if created:
            EvaluationQuestion.objects.bulk_create(
                EvaluationQuestion(form=form, order=i, kind=kind, text=text)
                for i, (kind, text) in enumerate(DEFAULT_QUESTIONS)
            )
    return form


def submit_evaluation(user, event: Event, answers: dict[str, str]) -> EvaluationResponse:
    """Store the learner's answers (keys: question ids); once per learner and event, and only
    from an attendee with an active registration for the event."""
    if not Registration.objects.active().filter(user=user, event=event).exists():
        raise ClaimRefused(
            [("not_registered", "Only attendees registered for this event can evaluate it.")]
        )
    form = ensure_evaluation_form(event)
    existing = EvaluationResponse.objects.filter(form=form, user=user).first()
    if existing:
        return existing
    questions = list(form.questions.all())
    problems = _answer_problems(questions, answers)
    if problems:
        raise ClaimRefused(problems)
    try:
        with transaction.atomic():
            response = EvaluationResponse.objects.create(
                form=form, user=user, submitted_at=timezone.now()
            )
            EvaluationAnswer.objects.bulk_create(
                EvaluationAnswer(
                    response=response, question=q, value=answers.get(str(q.pk), "").strip()
                )
                for q in questions
            )
    except IntegrityError:
        return EvaluationResponse.objects.get(form=form, user=user)
    return response


def _answer_problems(
    questions: list[EvaluationQuestion], answers: dict[str, str]
) -> list[tuple[str, str]]:
    problems = []
    for question in questions:
        value = answers.get(str(question.pk), "").strip()
        if not value:
            if question.required:
                problems.append((f"q{question.pk}", f"Please answer: {question.text}"))
            continue
        allowed = [key for key, _ in question.choice_list()]
        if question.kind != QuestionKind.TEXT and value not in allowed:
            problems.append((f"q{question.pk}", f"Choose one of the options: {question.text}"))
        elif len(value) > 4000:
            problems.append((f"q{question.pk}", "Please keep answers under 4000 characters."))
    return problems


# Transcript ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptRow:
    event_title: str
    provider: str
    start_date: str
    end_date: str
    credit_type: str
    credit: Decimal
    designated_max: Decimal
    status: str
    certificate_code: str
    activity_format: str = "Live"


def transcript_rows(user) -> list[TranscriptRow]:
    """All of a learner's approved credits across events (after corrections); a claim whose
    certificate was revoked is left out."""
    claims = (
        Claim.objects.filter(user=user, status=ClaimStatus.APPROVED)
        .select_related("event__organizer", "enduring__session")
        .prefetch_related("corrections", "additions", "certificates")
        .order_by("event__start_date", "event__title", "enduring_id", "credit_type")
    )
    rows = []
    for claim in claims:
        certificates = sorted(claim.certificates.all(), key=lambda c: -c.version)
        certificate = certificates[0] if certificates else None
        if certificate and certificate.status == CertificateStatus.REVOKED:
            continue
        enduring = claim.enduring
        rows.append(
            TranscriptRow(
                event_title=enduring.title or enduring.session.title
                if enduring
                else claim.event.title,
                provider=claim.event.cme_provider or claim.event.organizer.name,
                # Enduring material: the release and expiry dates of the activity.
                start_date=(
                    enduring.release_date if enduring else claim.event.start_date
                ).isoformat(),
                end_date=(enduring.expiry_date if enduring else claim.event.end_date).isoformat(),
                credit_type=PRESETS[claim.credit_type].name,
                credit=effective_credit(claim),
                designated_max=claim.designated_max,
                status=certificate.get_status_display() if certificate else "",
                certificate_code=certificate.code if certificate else "",
                activity_format="Enduring material" if enduring else "Live",
            )
        )
    return rows
