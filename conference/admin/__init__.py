"""The organizers' admin, one module per area; every admin is scoped to the user's organizers."""

from conference.admin import (  # noqa: F401
    cme,
    credentials,
    events,
    moderation,
    organizers,
    people,
    recordings,
    registrations,
    rooms,
    sessions,
    speakers,
    venues,
)
