from conference.models.events import Event, Session, SessionKind, Track
from conference.models.organizers import MembershipRole, Organizer, OrganizerMembership
from conference.models.registrations import Registration, RegistrationRole, RegistrationStatus
from conference.models.speakers import Disclosure, RelationshipKind, Speaker

__all__ = [
    "Disclosure",
    "Event",
    "MembershipRole",
    "Organizer",
    "OrganizerMembership",
    "Registration",
    "RegistrationRole",
    "RegistrationStatus",
    "RelationshipKind",
    "Session",
    "SessionKind",
    "Speaker",
    "Track",
]
