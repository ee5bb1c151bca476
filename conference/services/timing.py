"""Move a session to the clock: "Start now" and "End now", for a session that starts late,
overruns or ends early (and for a demo started on another day).

Both keep the rest of the schedule valid (the hall and the speakers are free, the event's days
cover the session; an event is extended by the days needed) and leave an audit entry, because
the session's times are what the credit engine intersects attendance with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from conference.models import Event, Session
from conference.services.cme.records import audit
from conference.services.refusals import Refused
from conference.services.schedule import session_conflicts


class TimingRefused(Refused):
    """The session cannot move as asked; the message says why, for the organizer. (code `invalid`)"""

    def __init__(self, message: str) -> None:
        super().__init__("invalid", message)


@dataclass(frozen=True)
class TimingPlan:
    """What "Start now" or "End now" would do, for the confirmation page."""

    action: str  # "start" or "end"
    session: Session
    starts_at: datetime
    ends_at: datetime
    extends_event_to: tuple[Any, ...] | None  # (start_date, end_date) when the event's days grow
    effects: list[str]


def local(moment: datetime, event: Event, fmt: str = "H:i") -> str:
    return date_format(timezone.localtime(moment, event.tzinfo), fmt)


def _whole_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def plan_start_now(session: Session, *, now: datetime | None = None) -> TimingPlan:
    """The session starts at this minute and keeps its length."""
    now = now or timezone.now()
    if session.is_cancelled:
        raise TimingRefused("The session is cancelled; un-cancel it before starting it.")
    if session.starts_at <= now < session.ends_at:
        raise TimingRefused("The session is already on.")
    starts_at = _whole_minute(now)
    ends_at = starts_at + (session.ends_at - session.starts_at)
    event = session.event
    days = _event_days_covering(event, starts_at, ends_at)
    _check_schedule(session, starts_at, ends_at, days)
    effects = [
        f"The session runs {local(starts_at, event)}–{local(ends_at, event)} "
        f"({event.timezone}) instead of {local(session.starts_at, event, 'D j M, H:i')}–"
        f"{local(session.ends_at, event)}, and is live in {session.hall or 'no hall'} now.",
        "CME: only attendance inside the new times counts for this session; minutes spent in "
        "the hall before now do not. Parts without credit keep their place from the start.",
        "Claims for this session open when it ends (use “End now” to end it early).",
    ]
    if days:
        effects.append(
            f"The event's days grow to {date_format(days[0])} – {date_format(days[1])} so that "
            "they hold the session."
        )
    return TimingPlan("start", session, starts_at, ends_at, days, effects)


def plan_end_now(session: Session, *, now: datetime | None = None) -> TimingPlan:
    """A session that is on ends at this moment."""
    now = now or timezone.now()
    if not (session.starts_at <= now < session.ends_at):
        state = "has not started yet" if now < session.starts_at else "is already over"
        raise TimingRefused(f"Only a session that is on can end now; this one {state}.")
    ends_at = max(now.replace(microsecond=0), session.starts_at + timedelta(seconds=1))
    event = session.event
    length = int((ends_at - session.starts_at).total_seconds() // 60)
    effects = [
        f"The session ends at {local(ends_at, event)} ({event.timezone}) instead of "
        f"{local(session.ends_at, event)}: {length} min instead of {session.duration_minutes}.",
        "CME: attendees can claim credit for it right away; their attendance up to now counts"
        + (
            f" (at most the {session.designated_minutes} designated minutes)."
            if session.designated_minutes
            else "."
        ),
        "People still in the hall stay connected, but time after the end earns no credit.",
    ]
    return TimingPlan("end", session, session.starts_at, ends_at, None, effects)


def _event_days_covering(
    event: Event, starts_at: datetime, ends_at: datetime
) -> tuple[date, date] | None:
    first = timezone.localtime(starts_at, event.tzinfo).date()
    last = timezone.localtime(ends_at - timedelta(microseconds=1), event.tzinfo).date()
    start_date, end_date = min(first, event.start_date), max(last, event.end_date)
    if (start_date, end_date) == (event.start_date, event.end_date):
        return None
    return (start_date, end_date)


def _check_schedule(
    session: Session, starts_at: datetime, ends_at: datetime, days: tuple[date, date] | None
) -> None:
    moved = Session(
        pk=session.pk,
        event=session.event,
        hall=session.hall,
        kind=session.kind,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    if days:
        moved.event = Event(
            pk=session.event.pk,
            timezone=session.event.timezone,
            start_date=days[0],
            end_date=days[1],
        )
    problems = session_conflicts(moved, speakers=list(session.speakers.all()))
    if problems:
        messages = [message for field in problems.values() for message in field]
        raise TimingRefused(" ".join(messages))


def apply_plan(plan: TimingPlan, *, actor: User | None) -> Session:
    """Move the session as planned (re-checked under a lock) and audit it."""
    with transaction.atomic():
        session = (
            Session.objects.select_for_update().select_related("event").get(pk=plan.session.pk)
        )
        if (session.starts_at, session.ends_at) != (plan.session.starts_at, plan.session.ends_at):
            raise TimingRefused("The session's times changed meanwhile; look again.")
        if plan.extends_event_to:
            event = session.event
            event.start_date, event.end_date = plan.extends_event_to
            event.save(update_fields=["start_date", "end_date"])
        if plan.action == "start":
            _check_schedule(session, plan.starts_at, plan.ends_at, None)
        before = (session.starts_at.isoformat(), session.ends_at.isoformat())
        session.starts_at, session.ends_at = plan.starts_at, plan.ends_at
        session.save(update_fields=["starts_at", "ends_at"])
        audit(
            actor,
            session.event,
            f"session.{plan.action}_now",
            session,
            before=list(before),
            after=[plan.starts_at.isoformat(), plan.ends_at.isoformat()],
        )
    return session
