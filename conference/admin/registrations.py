"""Registrations: who comes to which event. Cancelling goes through the registration service.

Registrations are made by attendees (or the API), so the admin has no add form; organizers
change the role, and cancel with the action.
"""

from django.contrib import admin, messages

from conference.admin.scoping import OrganizerScopedAdmin
from conference.models import Registration
from conference.services.organizers import Area
from conference.services.refusals import Refused
from conference.services.registrations import cancel_registration


@admin.register(Registration)
class RegistrationAdmin(OrganizerScopedAdmin):
    area = Area.REGISTRATIONS
    organizer_lookup = "event__organizer"
    list_display = ["user_email", "user_name", "event", "role", "status", "created_at"]
    list_filter = [("event", admin.RelatedOnlyFieldListFilter), "role", "status"]
    list_select_related = ["user__profile", "event"]
    search_fields = ["user__email", "user__display_name", "event__title"]
    date_hierarchy = "created_at"
    fields = ["user", "event", "role", "status", "created_at", "cancelled_at"]
    readonly_fields = ["user", "event", "status", "created_at", "cancelled_at"]
    actions = ["cancel_selected"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="E-mail", ordering="user__email")
    def user_email(self, obj: Registration) -> str:
        return obj.user.email

    @admin.display(description="Name", ordering="user__display_name")
    def user_name(self, obj: Registration) -> str:
        return obj.user.public_name

    @admin.action(description="Cancel the selected registrations")
    def cancel_selected(self, request, queryset):
        cancelled, skipped = 0, 0
        for registration in queryset.select_related("user", "event"):
            try:
                cancel_registration(registration)
            except Refused:
                skipped += 1
            else:
                cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} registration(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} registration(s) were already cancelled.", messages.WARNING
            )
