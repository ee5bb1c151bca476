"""The world the stage and studio tests share: a published event whose venue hall has a session
on now, and people registered with the roles a test names."""

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


def session_on_now(*, started: int = 10, left: int = 50):
    """A session that started `started` minutes ago and ends in `left` minutes, in a hall of the
    event's venue; the event began yesterday."""
    event = EventFactory(start_date=timezone.now().date() - dt.timedelta(days=1))
    hall = HallFactory()
    event.venue = hall.venue
    event.save()
    now = timezone.now()
    session = SessionFactory(
        event=event,
        hall=hall,
        starts_at=now - dt.timedelta(minutes=started),
        ends_at=now + dt.timedelta(minutes=left),
    )
    return event, hall, session


def people(session, roles: dict, *, speakers=()) -> dict:
    """Users with a profile, registered for the session's event as `roles` says (key -> role),
    displayed as the key in title case; those named in `speakers` speak in the session."""
    found = {}
    for key, role in roles.items():
        user = UserFactory(display_name=key.title())
        ProfileFactory(user=user)
        Registration.objects.create(user=user, event=session.event, role=role)
        found[key] = user
    for key in speakers:
        session.speakers.add(SpeakerFactory(event=session.event, user=found[key]))
    return found
