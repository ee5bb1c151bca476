"""The schedule grid of one event: a table per local day, halls as columns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict, cast

from django.urls import reverse
from django.utils import timezone

from conference.models import Event, Session
from venues.models import Hall

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Placement(TypedDict):
    """What `build_schedule` sets on each session for the grid's template."""

    local_start: datetime
    local_end: datetime
    track_color: str
    admin_url: str


if TYPE_CHECKING:
    PlacedSession = WithAnnotations[Session, _Placement]


@dataclass
class ScheduleDay:
    day: date
    rows: list[tuple[str, list[list[PlacedSession]]]] = field(default_factory=list)


@dataclass
class Schedule:
    event: Event
    columns: list[str]
    days: list[ScheduleDay]


NO_HALL = "No hall"
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")


def _event_days(event: Event, sessions: list[PlacedSession]) -> list[date]:
    span = (event.end_date - event.start_date).days + 1
    days = {event.start_date + timedelta(days=offset) for offset in range(max(span, 0))}
    days |= {session.local_start.date() for session in sessions}
    return sorted(days)


def _columns(event: Event, sessions: list[PlacedSession]) -> list[Hall | None]:
    halls: list[Hall | None] = list(event.venue.halls.all()) if event.venue is not None else []
    for session in sessions:
        if session.hall is not None and session.hall not in halls:
            halls.append(session.hall)
    if any(session.hall is None for session in sessions):
        halls.append(None)
    return halls


def _day_rows(
    day_sessions: list[PlacedSession], halls: list[Hall | None]
) -> list[tuple[str, list[list[PlacedSession]]]]:
    starts = sorted({session.local_start.strftime("%H:%M") for session in day_sessions})
    rows = []
    for start in starts:
        cells = [
            [
                session
                for session in day_sessions
                if session.hall == hall and session.local_start.strftime("%H:%M") == start
            ]
            for hall in halls
        ]
        rows.append((start, cells))
    return rows


def build_schedule(event: Event) -> Schedule:
    """Every session of `event` placed by local day, start time and hall."""
    sessions = cast(
        "list[PlacedSession]",
        list(
            event.sessions.select_related("hall", "track")
            .prefetch_related("speakers")
            .order_by("starts_at", "hall__order")
        ),
    )
    for session in sessions:
        session.local_start = timezone.localtime(session.starts_at, event.tzinfo)
        session.local_end = timezone.localtime(session.ends_at, event.tzinfo)
        color = session.track.color if session.track else ""
        session.track_color = color if HEX_COLOR.fullmatch(color) else ""
        session.admin_url = reverse("admin:conference_session_change", args=[session.pk])
    halls = _columns(event, sessions)
    days = []
    for day in _event_days(event, sessions):
        day_sessions = [session for session in sessions if session.local_start.date() == day]
        days.append(ScheduleDay(day=day, rows=_day_rows(day_sessions, halls)))
    columns = [hall.name if hall is not None else NO_HALL for hall in halls]
    return Schedule(event=event, columns=columns, days=days)
