"""Schedule rules: sessions inside the event's days, no double-booked hall or speaker."""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from conference.models import Event, Session, SessionKind, Speaker


def _local(moment: datetime, event: Event) -> str:
    return date_format(timezone.localtime(moment, event.tzinfo), "D j M, H:i")


def _overlapping(
    event: Event, starts_at: datetime, ends_at: datetime, exclude_pk: int | None
) -> QuerySet[Session]:
    sessions = Session.objects.filter(event=event, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude_pk:
        sessions = sessions.exclude(pk=exclude_pk)
    return sessions


def session_conflicts(
    session: Session, *, speakers: Iterable[Speaker] | None
) -> dict[str, list[str]]:
    """Return field -> messages for every schedule rule `session` breaks (empty when fine).

    `speakers` are the speakers the session is about to have (the form's choice); `None` skips
    the speaker check, as a model's `clean()` cannot see many-to-many values yet.
    """
    errors: dict[str, list[str]] = {}
    event = session.event if session.event_id else None
    starts_at, ends_at = session.starts_at, session.ends_at
    if not (event and starts_at and ends_at):
        return errors
    if ends_at <= starts_at:
        errors["ends_at"] = ["The session must end after it starts."]
        return errors
    if starts_at < event.starts_at or ends_at > event.ends_at:
        errors.setdefault("starts_at", []).append(
            f"The session must take place within the event's dates "
            f"({date_format(event.start_date)} – {date_format(event.end_date)}, {event.timezone})."
        )
    others = _overlapping(event, starts_at, ends_at, session.pk)
    if session.hall_id and session.kind != SessionKind.BREAK:
        clash = others.filter(hall_id=session.hall_id).exclude(kind=SessionKind.BREAK).first()
        if clash:
            errors.setdefault("hall", []).append(
                f"{session.hall} is already booked for “{clash.title}” "
                f"({_local(clash.starts_at, event)}–{_local(clash.ends_at, event)})."
            )
    if speakers is not None:
        bookings = Session.speakers.through.objects.filter(
            speaker_id__in=[speaker.pk for speaker in speakers], session__in=others
        ).select_related("speaker", "session")
        for booking in bookings:
            errors.setdefault("speakers", []).append(
                f"{booking.speaker.name} is speaking in “{booking.session.title}” at the same time."
            )
    return errors


SOON_MINUTES = 30


@dataclass(frozen=True)
class LiveState:
    """Whether a session is on ("live"), starts within `SOON_MINUTES` ("soon", with the whole
    minutes left, rounded up) or neither ("")."""

    state: str
    minutes: int = 0

    @property
    def is_live(self) -> bool:
        return self.state == "live"

    @property
    def is_soon(self) -> bool:
        return self.state == "soon"


def live_state(starts_at: datetime | None, ends_at: datetime | None, *, now: datetime) -> LiveState:
    if starts_at is None or ends_at is None:
        return LiveState("")
    if starts_at <= now < ends_at:
        return LiveState("live")
    seconds = (starts_at - now).total_seconds()
    if 0 < seconds <= SOON_MINUTES * 60:
        return LiveState("soon", math.ceil(seconds / 60))
    return LiveState("")


def venue_join_url(session: Session) -> str | None:
    """The page of the session's hall in the event's venue, asking it to seat the visitor."""
    event = session.event
    hall = session.hall
    if not (event.venue_id and hall and hall.venue_id == event.venue_id):
        return None
    url = reverse("venue:hall", kwargs={"event_slug": event.slug, "hall_slug": hall.slug})
    return f"{url}?join=1"
