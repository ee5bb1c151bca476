"""Users and profiles for organizer staff: the people of their own organizers, read only, and
only the fields their role needs.

A person is visible to an organizer's staff whose role covers people (owner, CME coordinator,
docs/roles.md) when they are a member of the organizer, registered for one of its events, or
the account linked to one of its speakers. Staff see the account's e-mail, name and join
date (never permissions or last login) and, in the profile, the CME fields (legal, given and family names, degree,
NPI, licences, boards, birth month and day, consent to share with boards). Only superusers
change accounts.
"""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import Q

from accounts.admin import EmailUserAdmin, ProfessionalProfileAdmin
from accounts.models import ProfessionalProfile, User
from conference.admin.scoping import organizer_ids
from conference.models import OrganizerMembership, Registration, Speaker
from conference.services.organizers import Area

if TYPE_CHECKING:
    from accounts.admin import PeopleScopeMixin

    # what `OrganizerPeopleMixin` is mixed into; at run time a plain class
    _PeopleAdminBase = PeopleScopeMixin
else:
    _PeopleAdminBase = object

STAFF_USER_FIELDS = ["email", "display_name", "is_active", "date_joined"]
STAFF_PROFILE_FIELDS = [
    "user",
    "legal_name",
    ("given_name", "family_name"),
    "degree",
    "specialty",
    "npi",
    "nabp_eprofile_id",
    ("birth_month", "birth_day"),
    "consent_share_with_boards",
]


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


class OrganizerPeopleMixin(_PeopleAdminBase):
    area = Area.PEOPLE

    def _ids(self, request):
        return organizer_ids(request, editable=False, area=self.area)

    def visible_users(self, request, users):
        return users_of_organizers(users, self._ids(request))

    def has_module_permission(self, request):
        return request.user.is_superuser or self._ids(request) != frozenset()

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if not self._ids(request):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()


class OrganizerUserAdmin(OrganizerPeopleMixin, EmailUserAdmin):
    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return [(None, {"fields": STAFF_USER_FIELDS})]

    def get_list_display(self, request):
        if request.user.is_superuser:
            return super().get_list_display(request)
        return ["email", "display_name", "is_active", "date_joined"]

    def get_list_filter(self, request):
        return super().get_list_filter(request) if request.user.is_superuser else ["is_active"]

    def get_inlines(self, request, obj):
        return super().get_inlines(request, obj) if request.user.is_superuser else []


class OrganizerProfileAdmin(OrganizerPeopleMixin, ProfessionalProfileAdmin):
    area = Area.LEARNER_CME

    def get_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fields(request, obj)
        return STAFF_PROFILE_FIELDS


admin.site.unregister(User)
admin.site.register(User, OrganizerUserAdmin)
admin.site.unregister(ProfessionalProfile)
admin.site.register(ProfessionalProfile, OrganizerProfileAdmin)
