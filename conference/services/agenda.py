"""A person's agenda: favourite sessions, conflicts between them, a secret calendar feed with
alarms, reminder e-mails before a favourite starts, and what the venue shows as "starting soon".
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from conference.models import (
    AgendaFeed,
    AgendaReminder,
    Event,
    FavouriteSession,
    Registration,
    ReminderStatus,
    Session,
    SessionKind,
)
from conference.services.organizers import organizers_viewable_by
from conference.services.refusals import Refused
from conference.services.schedule import venue_join_url

logger = logging.getLogger(__name__)

REMINDER_MINUTES = 10  # e-mail, calendar alarm and venue notification: this long before
UNSUBSCRIBE_SALT = "medvenue.agenda.unsubscribe"


class AgendaError(Refused):
    """A session that cannot go into an agenda; the message is for the person. (code `invalid`)"""

    def __init__(self, message: str) -> None:
        super().__init__("invalid", message)


# --- favourites ----------------------------------------------------------------------------


def add_favourite(user: User, session: Session) -> FavouriteSession:
    if not session.event.is_published:
        raise AgendaError("This session is not published.")
    if session.kind == SessionKind.BREAK:
        raise AgendaError("Breaks are not added to an agenda.")
    try:
        with transaction.atomic():
            return FavouriteSession.objects.create(user=user, session=session)
    except IntegrityError:
        return FavouriteSession.objects.get(user=user, session=session)


def remove_favourite(user: User, session: Session) -> None:
    FavouriteSession.objects.filter(user=user, session=session).delete()


def favourite_ids(user: User, event: Event | None = None) -> set[int]:
    if not user.is_authenticated:
        return set()
    favourites = FavouriteSession.objects.filter(user=user)
    if event is not None:
        favourites = favourites.filter(session__event=event)
    return set(favourites.values_list("session_id", flat=True))


def favourite_sessions(user: User) -> QuerySet[Session]:
    """The person's favourites in published events, in time order, ready for pages and feeds."""
    return (
        Session.objects.filter(favourites__user=user, event__is_published=True)
        .select_related("event", "hall", "track")
        .prefetch_related("speakers")
        .order_by("starts_at", "title")
    )


def conflicts(sessions: Iterable[Session]) -> dict[int, list[Session]]:
    """Session id -> the other sessions of `sessions` overlapping it (cancelled ones ignored)."""
    ordered = sorted((s for s in sessions if not s.is_cancelled), key=lambda s: (s.starts_at, s.pk))
    found: dict[int, list[Session]] = defaultdict(list)
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            if second.starts_at >= first.ends_at:
                break
            found[first.pk].append(second)
            found[second.pk].append(first)
    return dict(found)


def venue_event_ids(user: User) -> set[int]:
    """Events whose venue the person may enter: active registrations, organizer staff."""
    registered = Registration.objects.active().filter(user=user).values_list("event_id", flat=True)
    staff = Event.objects.filter(organizer__in=organizers_viewable_by(user)).values_list(
        "pk", flat=True
    )
    return set(registered) | set(staff)


def join_url_for(session: Session, allowed_event_ids: set[int]) -> str | None:
    return venue_join_url(session) if session.event_id in allowed_event_ids else None


# --- the secret calendar feed ---------------------------------------------------------------


def agenda_feed(user: User, *, create: bool) -> AgendaFeed | None:
    feed = AgendaFeed.objects.filter(user=user).first()
    if feed is None and create:
        feed, _ = AgendaFeed.objects.get_or_create(
            user=user, defaults={"token": secrets.token_urlsafe(32)}
        )
    return feed


def renew_agenda_feed(user: User) -> AgendaFeed:
    """A new secret address; the old one stops working at once."""
    feed, created = AgendaFeed.objects.get_or_create(
        user=user, defaults={"token": secrets.token_urlsafe(32)}
    )
    if not created:
        feed.token = secrets.token_urlsafe(32)
        feed.save(update_fields=["token"])
    return feed


def revoke_agenda_feed(user: User) -> None:
    AgendaFeed.objects.filter(user=user).delete()


def user_for_feed_token(token: str) -> User | None:
    feed = AgendaFeed.objects.filter(token=token).select_related("user").first()
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


# --- reminder e-mails -----------------------------------------------------------------------


def unsubscribe_token(user: User) -> str:
    return signing.dumps({"u": user.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def user_for_unsubscribe_token(token: str) -> User | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()


def set_reminder_emails(user: User, *, enabled: bool) -> None:
    if user.agenda_reminder_emails != enabled:
        user.agenda_reminder_emails = enabled
        user.save(update_fields=["agenda_reminder_emails"])


def _due_favourites(now: datetime) -> QuerySet[FavouriteSession, tuple[int, datetime, int]]:
    return FavouriteSession.objects.filter(
        session__starts_at__gt=now,
        session__starts_at__lte=now + timedelta(minutes=REMINDER_MINUTES),
        session__is_cancelled=False,
        session__event__is_published=True,
        user__is_active=True,
        user__agenda_reminder_emails=True,
    ).values_list("user_id", "session__starts_at", "session_id")


def plan_reminders(*, now: datetime | None = None) -> list[int]:
    """Claim one reminder row per person and slot starting within `REMINDER_MINUTES`; return
    the pending ones (also those a stopped worker left), each to be sent by its own task."""
    now = now or timezone.now()
    slots: dict[tuple[int, datetime], list[int]] = defaultdict(list)
    for user_id, starts_at, session_id in _due_favourites(now):
        slots[(user_id, starts_at)].append(session_id)
    AgendaReminder.objects.bulk_create(
        [
            AgendaReminder(user_id=user_id, starts_at=starts_at, session_ids=sorted(ids))
            for (user_id, starts_at), ids in slots.items()
        ],
        ignore_conflicts=True,
    )
    pending = AgendaReminder.objects.filter(status=ReminderStatus.PENDING, starts_at__gt=now)
    return list(pending.values_list("pk", flat=True))


def send_reminder(reminder_id: int, *, now: datetime | None = None) -> str:
    """Send one reminder e-mail unless it was sent, is too late, or is no longer wanted;
    returns the final status. The row is locked while the e-mail leaves."""
    now = now or timezone.now()
    with transaction.atomic():
        reminder = (
            AgendaReminder.objects.select_for_update()
            .select_related("user")
            .filter(pk=reminder_id)
            .first()
        )
        if reminder is None or reminder.status != ReminderStatus.PENDING:
            return reminder.status if reminder else "missing"
        user = reminder.user
        sessions = list(
            favourite_sessions(user).filter(starts_at=reminder.starts_at, is_cancelled=False)
        )
        if not sessions or not user.agenda_reminder_emails or reminder.starts_at <= now:
            reminder.status = ReminderStatus.SKIPPED
            reminder.save(update_fields=["status"])
            return reminder.status
        _reminder_message(user, sessions, now=now).send()
        reminder.status = ReminderStatus.SENT
        reminder.sent_at = now
        reminder.save(update_fields=["status", "sent_at"])
        return reminder.status


def site_url() -> str:
    return settings.MEDVENUE_SITE_URL or "http://127.0.0.1:8000"


def _reminder_message(
    user: User, sessions: list[Session], *, now: datetime
) -> EmailMultiAlternatives:
    base = site_url()
    event = sessions[0].event
    starts = timezone.localtime(sessions[0].starts_at, event.tzinfo)
    minutes = max(1, round((sessions[0].starts_at - now).total_seconds() / 60))
    unsubscribe = base + reverse("conference:agenda-unsubscribe", args=[unsubscribe_token(user)])
    allowed = venue_event_ids(user)
    context = {
        "user": user,
        "event": event,
        "starts": starts,
        "minutes": minutes,
        "items": [
            {
                "session": session,
                "page_url": base + session.get_absolute_url(),
                "join_url": (base + url) if (url := join_url_for(session, allowed)) else None,
            }
            for session in sessions
        ],
        "unsubscribe_url": unsubscribe,
        "profile_url": base + reverse("accounts:profile"),
    }
    subject = (
        f"Starting in {minutes} min: {sessions[0].title}"
        if len(sessions) == 1
        else f"Starting in {minutes} min: {len(sessions)} sessions in your agenda"
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=_render_in_zone("conference/email/agenda_reminder.txt", context, event),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    return message


def _render_in_zone(template: str, context: dict[str, Any], event: Event) -> str:
    with timezone.override(event.tzinfo):
        return render_to_string(template, context)


# --- the venue's notification ---------------------------------------------------------------


@dataclass(frozen=True)
class Upcoming:
    session_id: int
    title: str
    hall: str
    starts_at: datetime
    minutes: int
    join_url: str | None
    page_url: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.session_id,
            "title": self.title,
            "hall": self.hall,
            "starts_at": self.starts_at.isoformat(),
            "minutes": self.minutes,
            "join_url": self.join_url,
            "page_url": self.page_url,
        }


def upcoming_favourites(user: User, *, now: datetime | None = None) -> list[Upcoming]:
    """Favourites starting within `REMINDER_MINUTES` (the venue shows them with a Join button)."""
    now = now or timezone.now()
    sessions = favourite_sessions(user).filter(
        is_cancelled=False,
        starts_at__gt=now,
        starts_at__lte=now + timedelta(minutes=REMINDER_MINUTES),
    )
    allowed = venue_event_ids(user) if sessions else set()
    return [
        Upcoming(
            session_id=session.pk,
            title=session.title,
            hall=session.hall.name if session.hall else "",
            starts_at=session.starts_at,
            minutes=max(1, -(-int((session.starts_at - now).total_seconds()) // 60)),
            join_url=join_url_for(session, allowed),
            page_url=session.get_absolute_url(),
        )
        for session in sessions
    ]
