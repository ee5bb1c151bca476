"""factory_boy factories shared by every test package."""

import datetime as dt
import zoneinfo

import factory
from django.utils import timezone

from accounts.models import Degree, ProfessionalProfile, User
from conference.models import (
    Disclosure,
    Event,
    MembershipRole,
    Organizer,
    OrganizerMembership,
    Registration,
    Session,
    Speaker,
    Track,
)
from venues.models import Hall, HallKind, Venue

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    display_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProfessionalProfile

    user = factory.SubFactory(UserFactory)
    legal_name = factory.Sequence(lambda n: f"Learner Number{n}")
    degree = Degree.MD


class OrganizerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organizer

    name = factory.Sequence(lambda n: f"Society {n}")
    slug = factory.Sequence(lambda n: f"society-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizerMembership

    organizer = factory.SubFactory(OrganizerFactory)
    user = factory.SubFactory(UserFactory, is_staff=True)
    role = MembershipRole.OWNER


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    name = factory.Sequence(lambda n: f"Venue {n}")
    slug = factory.Sequence(lambda n: f"venue-{n}")


class HallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hall

    venue = factory.SubFactory(VenueFactory)
    name = factory.Sequence(lambda n: f"Hall {n}")
    slug = factory.Sequence(lambda n: f"hall-{n}")
    kind = HallKind.AUDITORIUM


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    organizer = factory.SubFactory(OrganizerFactory)
    slug = factory.Sequence(lambda n: f"event-{n}")
    title = factory.Sequence(lambda n: f"Annual Congress {n}")
    timezone = "America/Chicago"
    start_date = factory.LazyFunction(lambda: timezone.now().date())
    end_date = factory.LazyAttribute(lambda o: o.start_date + dt.timedelta(days=1))
    is_published = True


class TrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Track

    event = factory.SubFactory(EventFactory)
    name = factory.Sequence(lambda n: f"Track {n}")


def event_local(event: Event, day_offset: int, hour: int, minute: int = 0) -> dt.datetime:
    """An aware datetime at the given wall-clock time on the event's `day_offset`th day."""
    day = event.start_date + dt.timedelta(days=day_offset)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(event.timezone))


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    event = factory.SubFactory(EventFactory)
    title = factory.Sequence(lambda n: f"Session {n}")
    starts_at = factory.LazyAttribute(lambda o: event_local(o.event, 0, 9))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=1))


class SpeakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Speaker

    event = factory.SubFactory(EventFactory)
    name = factory.Sequence(lambda n: f"Dr. Speaker {n}")
    credentials = "MD"


class DisclosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disclosure

    speaker = factory.SubFactory(SpeakerFactory)
    company = "Acme Pharma"
    relationship = "consultant"


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    user = factory.SubFactory(UserFactory)
    event = factory.SubFactory(EventFactory)
