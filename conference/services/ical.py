"""iCalendar feeds of sessions, with times in each event's own time zone.

Every DTSTART/DTEND carries the TZID of the session's event and the calendar holds a matching
VTIMEZONE (built by icalendar from zoneinfo), so calendar clients place sessions correctly on
both sides of a daylight-saving change.
"""

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta

import icalendar
from django.db.models import QuerySet
from django.utils import timezone

from conference.models import Event, Session

PRODID = "-//MedVenue//Conference schedule//EN"
UID_DOMAIN = "medvenue"


def sessions_for_calendar(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """`sessions` with everything the calendar prints loaded in a fixed number of queries."""
    return sessions.select_related("event", "hall", "track").prefetch_related("speakers")


def session_uid(session: Session) -> str:
    """A UID that stays the same for a session across downloads, so clients update, not add."""
    return f"session-{session.pk}@{UID_DOMAIN}"


def build_calendar(
    sessions: Iterable[Session],
    *,
    name: str,
    url_for: Callable[[Session], str],
    now: datetime | None = None,
    alarm_minutes: int | None = None,
) -> bytes:
    """Render `sessions` as an iCalendar file; `url_for` gives each session's absolute URL.
    With `alarm_minutes`, each session carries a display alarm that long before it starts."""
    stamp = now or timezone.now()
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    days: list[date] = []
    for session in sessions:
        component = _session_component(session, url=url_for(session), stamp=stamp)
        if alarm_minutes is not None:
            component.add_component(_alarm(session, alarm_minutes))
        calendar.add_component(component)
        days += [session.starts_at.date(), session.ends_at.date()]
    if days:
        calendar.add_missing_timezones(
            first_date=date(min(days).year - 1, 1, 1), last_date=date(max(days).year + 1, 12, 31)
        )
    return bytes(calendar.to_ical())


def _session_component(session: Session, *, url: str, stamp: datetime) -> icalendar.Event:
    event: Event = session.event
    component = icalendar.Event()
    component.add("uid", session_uid(session))
    component.add("dtstamp", stamp.astimezone(UTC))
    component.add("dtstart", session.starts_at.astimezone(event.tzinfo))
    component.add("dtend", session.ends_at.astimezone(event.tzinfo))
    component.add("summary", session.title)
    if session.hall is not None:
        component.add("location", session.hall.name)
    component.add("description", _description(session))
    component.add("url", url)
    if session.track is not None:
        component.add("categories", [session.track.name])
    return component


def _alarm(session: Session, minutes: int) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Starts in {minutes} min: {session.title}")
    alarm.add("trigger", timedelta(minutes=-minutes))
    return alarm


def _description(session: Session) -> str:
    lines = [f"{session.event.title} — {session.get_kind_display()}"]
    speakers = [str(speaker) for speaker in session.speakers.all()]
    if speakers:
        lines.append("Speakers: " + "; ".join(speakers))
    if session.is_cme_eligible:
        lines.append(_cme_line(session))
    if session.abstract:
        lines += ["", session.abstract]
    return "\n".join(lines)


def _cme_line(session: Session) -> str:
    if session.designated_minutes:
        return f"CME eligible: {session.designated_minutes} designated minutes."
    return "CME eligible."


def calendar_filename(stem: str) -> str:
    """A file name safe for a Content-Disposition header."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:80]
    return f"{safe or 'schedule'}.ics"
