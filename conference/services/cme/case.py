"""The engine's input from the database: `build_credit_case` turns sessions, attendance rows,
faculty roles and the event's designations into the pure `CreditCase`, and `learner_credit`
is what one learner earned at one moment (the sessions ended by then)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db.models import QuerySet

from accounts.models import User
from conference.credit import AttendanceEvent as EngineEvent
from conference.credit import (
    CreditCase,
    CreditResult,
    CreditTypeRule,
    Learner,
    SessionSpec,
    compute_credit,
)
from conference.credit.designation import Attainable, attainable
from conference.credit.intervals import Interval, subtract
from conference.credit.rules import ID_KINDS, KNOWN_DEGREES, customised_rule, parse_codes
from conference.models import AttendanceEvent, Event, EventCredit, Session, SessionKind, Speaker
from conference.services.cme.learner import LearnerCase, load_learner


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


def credit_sessions(event: Event) -> QuerySet[Session]:
    """The event's credit-eligible sessions (breaks never are)."""
    return (
        event.sessions.filter(is_cme_eligible=True)
        .exclude(kind=SessionKind.BREAK)
        .prefetch_related("credit_exclusions")
    )


def session_spec(session: Session, parts: list[tuple[int, int]] | None = None) -> SessionSpec:
    """The session for the engine: its credit-eligible windows are its time minus the parts
    without credit (`parts` as (offset, length) minutes, default the prefetched
    `credit_exclusions`)."""
    if parts is None:
        parts = [(p.offset_minutes, p.length_minutes) for p in session.credit_exclusions.all()]
    whole = (session.starts_at, session.ends_at)
    cuts = [
        (
            session.starts_at + timedelta(minutes=offset),
            session.starts_at + timedelta(minutes=offset + length),
        )
        for offset, length in parts
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


def _eligible_windows(whole: Interval, cuts: list[Interval]) -> tuple[Interval, ...]:
    """() means the whole session to the engine; a session cut away entirely keeps one empty
    window, which counts nothing."""
    if not cuts:
        return ()
    return tuple(subtract([whole], cuts)) or ((whole[0], whole[0]),)


def _faculty_session_ids(user: User, event: Event) -> frozenset[str]:
    speakers = Speaker.objects.filter(event=event, user=user)
    return frozenset(
        str(pk) for pk in Session.objects.filter(speakers__in=speakers).values_list("pk", flat=True)
    )


def build_credit_case(learner: LearnerCase, *, sessions: list[Session] | None = None) -> CreditCase:
    """The engine's input for the learner at their event, from the database (`sessions`: the
    event's credit sessions when the caller has them). Sessions whose recording the learner
    claimed as enduring material are left out (CME.md: nobody earns credit for both the live
    session and its recording; see `cme.enduring`)."""
    user, event = learner.user, learner.event
    if sessions is None:
        sessions = list(credit_sessions(event))
    sessions = [s for s in sessions if s.pk not in learner.claimed_as_enduring]
    credits = list(event.credits.all())
    rows = AttendanceEvent.objects.filter(user=user, session__in=[s.pk for s in sessions])
    return CreditCase(
        learner=Learner(
            degree=learner.degree,
            faculty_of_sessions=_faculty_session_ids(user, event),
            ids=learner.ids,
        ),
        rules=tuple(rule_for(c) for c in credits),
        sessions=tuple(session_spec(s) for s in sessions),
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


def compute_event_credit(
    user: User,
    event: Event,
    *,
    ended_by: datetime | None = None,
    learner: LearnerCase | None = None,
) -> CreditResult:
    """The learner's credit; with `ended_by`, over the sessions ended by then only (what a
    claim at that moment counts). `learner`: the case already loaded for this request."""
    case = build_credit_case(learner or load_learner(user, event))
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


@dataclass(frozen=True)
class LearnerCredit:
    """What one learner earned at `now`: the engine's result over the sessions ended by then,
    when claims open for them, whether credit-eligible sessions are still to come, and the
    most anyone could attend at the event (docs/cme-claims.md "Designation")."""

    case: CreditCase
    result: CreditResult
    first_end: datetime | None
    sessions_to_come: bool
    attainable: Attainable


def learner_credit(learner: LearnerCase, now: datetime) -> LearnerCredit:
    sessions = list(credit_sessions(learner.event))
    case = build_credit_case(learner, sessions=sessions)
    return LearnerCredit(
        case=case,
        result=compute_credit(ended_case(case, now)),
        first_end=first_session_end(case),
        sessions_to_come=any(s.end > now for s in case.sessions),
        attainable=attainable([session_spec(s) for s in sessions]),
    )


def first_session_end(case: CreditCase) -> datetime | None:
    """The end of the first credit-eligible session the learner attended (without attendance:
    the first one): claims open then (docs/cme-claims.md "Claiming")."""
    attended = {e.session for e in case.attendance}
    ends = [s.end for s in case.sessions if s.id in attended] or [s.end for s in case.sessions]
    return min(ends) if ends else None
