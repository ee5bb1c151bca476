"""Who may see and change which organizer's data."""

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
