"""The world the live, fault, stage and studio tests share: a published event whose venue hall
has a session on now, and people registered for it."""

import datetime as dt

from django.utils import timezone

from conference.models import Registration
from tests.factories import (
    EventFactory,
    HallFactory,
    ProfileFactory,
    SessionFactory,
    SpeakerFactory,
    UserFactory,
)


def session_on_now(*, started: int = 10, left: int = 50, hall=None, **session_fields):
    """A session that started `started` minutes ago and ends in `left` minutes, in `hall` (a new
    one if None) of the event's venue, with `session_fields`; the event began yesterday."""
    event = EventFactory(start_date=timezone.now().date() - dt.timedelta(days=1))
    hall = hall or HallFactory()
    event.venue = hall.venue
    event.save()
    now = timezone.now()
    session = SessionFactory(
        event=event,
        hall=hall,
        starts_at=now - dt.timedelta(minutes=started),
        ends_at=now + dt.timedelta(minutes=left),
        **session_fields,
    )
    return event, hall, session


def registered(event, role=None, **user_fields):
    """A user with a profile, registered for `event` (as `role`, else the default role)."""
    user = UserFactory(**user_fields)
    ProfileFactory(user=user)
    roles = {} if role is None else {"role": role}
    Registration.objects.create(user=user, event=event, **roles)
    return user


def people(session, roles: dict, *, speakers=()) -> dict:
    """Users with a profile, registered for the session's event as `roles` says (key -> role),
    displayed as the key in title case; those named in `speakers` speak in the session."""
    found = {}
    for key, role in roles.items():
        found[key] = registered(session.event, role, display_name=key.title())
    for key in speakers:
        session.speakers.add(SpeakerFactory(event=session.event, user=found[key]))
    return found
