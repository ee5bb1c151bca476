"""Who may see and change which organizer's data."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet

from conference.models import MembershipRole, Organizer


def organizers_viewable_by(user) -> QuerySet[Organizer]:
    if not user.is_authenticated or not user.is_active:
        return Organizer.objects.none()
    if user.is_superuser:
        return Organizer.objects.all()
    return Organizer.objects.filter(memberships__user=user)


def organizers_editable_by(user) -> QuerySet[Organizer]:
    if not user.is_authenticated or not user.is_active:
        return Organizer.objects.none()
    if user.is_superuser:
        return Organizer.objects.all()
    return Organizer.objects.filter(
        memberships__user=user,
        memberships__role__in=[MembershipRole.OWNER, MembershipRole.STAFF],
    )


def can_edit_organizer(user, organizer_id: int | None) -> bool:
    if organizer_id is None:
        return bool(user.is_superuser)
    return organizers_editable_by(user).filter(pk=organizer_id).exists()


def organizer_may_use_venue(organizer: Organizer, venue) -> bool:
    """Whether `organizer` may hold events in `venue` (it is one of the organizer's venues)."""
    return organizer.venues.filter(pk=venue.pk).exists()


def set_venue_organizers(venue, organizers: Iterable[Organizer], *, user) -> None:
    """Make `venue` belong to exactly `organizers`, among the organizers `user` may edit.

    Links to organizers the user may not edit are left as they are.
    """
    editable = set(organizers_editable_by(user).values_list("pk", flat=True))
    chosen = {organizer.pk for organizer in organizers} & editable
    with transaction.atomic():
        current = set(venue.organizers.values_list("pk", flat=True))
        venue.organizers.remove(*((current & editable) - chosen))
        venue.organizers.add(*(chosen - current))
