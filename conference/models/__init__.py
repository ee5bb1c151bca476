from conference.models.events import Event, Session, SessionKind, Track
from conference.models.live import (
    AttendanceEvent,
    AttendanceKind,
    Audience,
    ChatMessage,
    HallFeed,
    LiveItem,
    Poll,
    PollOption,
    PollStatus,
    PollVote,
    Question,
    QuestionStatus,
    QuestionVote,
)
from conference.models.organizers import MembershipRole, Organizer, OrganizerMembership
from conference.models.registrations import Registration, RegistrationRole, RegistrationStatus
from conference.models.speakers import Disclosure, RelationshipKind, Speaker

__all__ = [
    "AttendanceEvent",
    "AttendanceKind",
    "Audience",
    "ChatMessage",
    "Disclosure",
    "Event",
    "HallFeed",
    "LiveItem",
    "MembershipRole",
    "Organizer",
    "OrganizerMembership",
    "Poll",
    "PollOption",
    "PollStatus",
    "PollVote",
    "Question",
    "QuestionStatus",
    "QuestionVote",
    "Registration",
    "RegistrationRole",
    "RegistrationStatus",
    "RelationshipKind",
    "Session",
    "SessionKind",
    "Speaker",
    "Track",
]
