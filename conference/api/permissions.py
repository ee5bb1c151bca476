"""Who may see what through the API: every viewset scopes its queryset with these helpers.

Object permissions alone do not guard list views, so visibility is decided here, in the
queryset, once for list and detail alike.
"""

from django.db.models import Q, QuerySet

from conference.models import Event, Registration, Session, Speaker
from conference.services.organizers import organizers_viewable_by


def events_visible_to(user) -> QuerySet[Event]:
    """Published events for everyone, plus unpublished ones of the caller's own organizers."""
    if not user.is_authenticated:
        return Event.objects.published()
    return Event.objects.filter(
        Q(is_published=True) | Q(organizer__in=organizers_viewable_by(user))
    )


def sessions_visible_to(user) -> QuerySet[Session]:
    return Session.objects.filter(event__in=events_visible_to(user).values("pk"))


def speakers_visible_to(user) -> QuerySet[Speaker]:
    return Speaker.objects.filter(event__in=events_visible_to(user).values("pk"))


def registrations_of(user) -> QuerySet[Registration]:
    """The caller's own registrations, never anyone else's."""
    if not user.is_authenticated:
        return Registration.objects.none()
    return Registration.objects.filter(user=user)
