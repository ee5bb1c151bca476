"""Admin test data: two organizers, each with a venue, an event and everything in it."""

from conference.models import MembershipRole
from tests.factories import (
    EventFactory,
    HallFactory,
    MembershipFactory,
    OrganizerFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
    UserFactory,
    VenueFactory,
    event_local,
)


class World:
    """Two organizers, Alpha and Beta, each with a venue, an event and everything in it."""

    def __init__(self):
        for side, name, zone in (("a", "Alpha", "America/Chicago"), ("b", "Beta", "Europe/Berlin")):
            organizer = OrganizerFactory(name=f"{name} Society", slug=f"{name.lower()}-society")
            venue = VenueFactory(name=f"{name} Venue", slug=f"{name.lower()}-venue")
            organizer.venues.add(venue)
            hall = HallFactory(venue=venue, name=f"{name} Hall", slug=f"{name.lower()}-hall")
            event = EventFactory(
                organizer=organizer, venue=venue, title=f"{name} Congress", timezone=zone
            )
            track = TrackFactory(event=event, name=f"{name} Track")
            speaker = SpeakerFactory(
                event=event,
                name=f"Dr {name} Speaker",
                user=UserFactory(email=f"{side}-speaker@example.org"),
            )
            session = SessionFactory(
                event=event,
                hall=hall,
                track=track,
                title=f"{name} Keynote",
                starts_at=event_local(event, 0, 9),
                ends_at=event_local(event, 0, 10),
            )
            session.speakers.add(speaker)
            registrant = UserFactory(email=f"{side}-registrant@example.org")
            registration = RegistrationFactory(event=event, user=registrant)
            staff = MembershipFactory(
                organizer=organizer, user__email=f"{side}-staff@example.org"
            ).user
            for attribute, value in {
                "organizer": organizer,
                "venue": venue,
                "hall": hall,
                "event": event,
                "track": track,
                "speaker": speaker,
                "session": session,
                "registration": registration,
                "registrant": registrant,
                "staff": staff,
            }.items():
                setattr(self, f"{attribute}_{side}", value)
        self.moderator_a = MembershipFactory(
            organizer=self.organizer_a,
            role=MembershipRole.MODERATOR,
            user__email="a-moderator@example.org",
        ).user
        self.cme_a = MembershipFactory(
            organizer=self.organizer_a,
            role=MembershipRole.CME_COORDINATOR,
            user__email="a-cme@example.org",
        ).user
        self.content_a = MembershipFactory(
            organizer=self.organizer_a,
            role=MembershipRole.CONTENT_MANAGER,
            user__email="a-content@example.org",
        ).user


def inline_management(*prefixes: str, total: int = 0, initial: int = 0) -> dict[str, int]:
    data = {}
    for prefix in prefixes:
        data[f"{prefix}-TOTAL_FORMS"] = total
        data[f"{prefix}-INITIAL_FORMS"] = initial
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
    return data
