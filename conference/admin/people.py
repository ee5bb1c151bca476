"""Users and profiles for organizer staff: the people of their own organizers, read only.

A person is visible to the staff of an organizer when they registered for one of its events,
speak at one, or are a member of it. Only superusers change accounts.
"""

from django.contrib import admin
from django.db.models import Q

from accounts.admin import EmailUserAdmin, ProfessionalProfileAdmin
from accounts.models import ProfessionalProfile, User
from conference.admin.scoping import organizer_ids
from conference.models import OrganizerMembership, Registration, Speaker


def users_of_organizers(users, ids: frozenset[int] | None):
    """Registrants, speakers and members of the organizers `ids` (None: everyone)."""
    if ids is None:
        return users
    if not ids:
        return users.none()
    registrants = Registration.objects.filter(event__organizer__in=ids).values("user_id")
    speakers = Speaker.objects.filter(event__organizer__in=ids, user__isnull=False)
    members = OrganizerMembership.objects.filter(organizer__in=ids).values("user_id")
    return users.filter(
        Q(pk__in=registrants) | Q(pk__in=speakers.values("user_id")) | Q(pk__in=members)
    )


class OrganizerPeopleMixin:
    def visible_users(self, request, users):
        return users_of_organizers(users, organizer_ids(request, editable=False))

    def has_module_permission(self, request):
        return organizer_ids(request, editable=False) != frozenset()

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if not organizer_ids(request, editable=False):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()


class OrganizerUserAdmin(OrganizerPeopleMixin, EmailUserAdmin):
    pass


class OrganizerProfileAdmin(OrganizerPeopleMixin, ProfessionalProfileAdmin):
    pass


admin.site.unregister(User)
admin.site.register(User, OrganizerUserAdmin)
admin.site.unregister(ProfessionalProfile)
admin.site.register(ProfessionalProfile, OrganizerProfileAdmin)
