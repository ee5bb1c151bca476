"""Who may see and change which organizer's data."""

from collections.abc import Iterable
from enum import StrEnum

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User
from conference.models import MembershipRole, Organizer, OrganizerMembership
from venues.models import Venue


class Area(StrEnum):
    """What organizer staff work on. Each admin page, export and live action belongs to one."""

    ORGANIZER = "organizer"  # the organizer's own page (name, contact, venues)
    MEMBERS = "members"  # memberships and invitations
    CONTENT = "content"  # events, tracks, sessions, speakers, venues, halls, layouts, recordings
    CME = "cme"  # credit designations, evaluations, post-tests, claims, certificates, exports
    REGISTRATIONS = "registrations"  # the registrant list
    PEOPLE = "people"  # accounts of members and registrants: names, e-mail, degree
    LEARNER_CME = "learner_cme"  # learners' CME fields: NPI, licences, boards, birth month/day
    MODERATION = "moderation"  # live moderation in the organizer's halls


_ALL = frozenset(Area)
# role -> (areas it may view, areas it may change). docs/roles.md is this table in prose.
ROLE_AREAS: dict[str, tuple[frozenset[Area], frozenset[Area]]] = {
    MembershipRole.OWNER: (_ALL, _ALL - {Area.PEOPLE, Area.LEARNER_CME}),
    MembershipRole.CME_COORDINATOR: (
        frozenset(
            {
                Area.ORGANIZER,
                Area.CONTENT,
                Area.CME,
                Area.REGISTRATIONS,
                Area.PEOPLE,
                Area.LEARNER_CME,
            }
        ),
        frozenset({Area.CME}),
    ),
    MembershipRole.CONTENT_MANAGER: (
        frozenset({Area.ORGANIZER, Area.CONTENT}),
        frozenset({Area.CONTENT}),
    ),
    MembershipRole.MODERATOR: (frozenset({Area.MODERATION}), frozenset({Area.MODERATION})),
}


def roles_for(area: Area | str, *, editable: bool) -> list[str]:
    """The membership roles that may view (or change) `area`."""
    index = 1 if editable else 0
    return [role for role, areas in ROLE_AREAS.items() if Area(area) in areas[index]]


def member_roles(user: User) -> dict[int, str]:
    """Organizer id -> the user's membership role there (empty for inactive users)."""
    if not user.is_authenticated or not user.is_active:
        return {}
    return dict(OrganizerMembership.objects.filter(user=user).values_list("organizer_id", "role"))


def organizers_of_member(user: User) -> QuerySet[Organizer]:
    """Organizers `user` is a member of in any role (they may see its unpublished events)."""
    if not user.is_authenticated or not user.is_active:
        return Organizer.objects.none()
    if user.is_superuser:
        return Organizer.objects.all()
    return Organizer.objects.filter(memberships__user=user)


def organizers_for(user: User, area: Area | str, *, editable: bool = False) -> QuerySet[Organizer]:
    """Organizers whose `area` the user's role lets them view (or change)."""
    if not user.is_authenticated or not user.is_active:
        return Organizer.objects.none()
    if user.is_superuser:
        return Organizer.objects.all()
    return Organizer.objects.filter(
        memberships__user=user, memberships__role__in=roles_for(area, editable=editable)
    )


def organizers_viewable_by(user: User) -> QuerySet[Organizer]:
    """Organizers whose events (published or not) the user may see: any membership."""
    return organizers_of_member(user)


def organizers_editable_by(user: User) -> QuerySet[Organizer]:
    """Organizers whose content (events, sessions, venues, ...) the user may change."""
    return organizers_for(user, Area.CONTENT, editable=True)


def organizer_may_use_venue(organizer: Organizer, venue: Venue) -> bool:
    """Whether `organizer` may hold events in `venue` (it is one of the organizer's venues)."""
    return organizer.venues.filter(pk=venue.pk).exists()


def set_venue_organizers(venue: Venue, organizers: Iterable[Organizer], *, user: User) -> None:
    """Make `venue` belong to exactly `organizers`, among the organizers `user` may edit.

    Links to organizers the user may not edit are left as they are.
    """
    editable = set(organizers_editable_by(user).values_list("pk", flat=True))
    chosen = {organizer.pk for organizer in organizers} & editable
    with transaction.atomic():
        current = set(venue.organizers.values_list("pk", flat=True))
        venue.organizers.remove(*((current & editable) - chosen))
        venue.organizers.add(*(chosen - current))
