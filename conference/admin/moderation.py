"""Removals from halls: moderators and staff of the organizer see them all and can lift one."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from conference.admin.scoping import OrganizerScopedAdmin, request_roles
from conference.models import HallRemoval, MembershipRole
from conference.services.moderation import ModerationError, lift_removal, removal_state
from conference.services.organizers import Area


class ActiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("lifted", "lifted"), ("ended", "ended")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(lifted_at=None, until__gt=now)
        if self.value() == "lifted":
            return queryset.exclude(lifted_at=None)
        if self.value() == "ended":
            return queryset.filter(lifted_at=None, until__lte=now)
        return queryset


class LiftForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        required=False,
        label="Why (optional, kept in the audit)",
        widget=forms.TextInput(attrs={"size": 60}),
    )


@admin.register(HallRemoval)
class HallRemovalAdmin(OrganizerScopedAdmin):
    organizer_lookup = "hall__venue__organizers"
    area = Area.MODERATION
    list_display = [
        "person",
        "hall",
        "reason",
        "removed_by_name",
        "removed_at",
        "ends",
        "state",
        "lift_link",
    ]
    list_filter = [ActiveFilter, ("hall", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user", "hall", "removed_by", "lifted_by"]
    search_fields = ["user__display_name", "reason"]
    readonly_fields = [
        "user",
        "hall",
        "reason",
        "removed_by",
        "created_at",
        "until",
        "lifted_at",
        "lifted_by",
        "lift_reason",
    ]
    fields = readonly_fields

    def _works_in_admin(self, request) -> bool:
        """Moderators have no admin (docs/roles.md): they see removals in the hall's panel."""
        user = request.user
        if user.is_active and user.is_superuser:
            return True
        return bool(set(request_roles(request).values()) - {MembershipRole.MODERATOR})

    def has_module_permission(self, request):
        return self._works_in_admin(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._works_in_admin(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._works_in_admin(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return False  # removals are made in the hall, by a moderator

    def has_delete_permission(self, request, obj=None):
        return False  # kept for the record; lifting ends one

    @admin.display(description="Person")
    def person(self, obj: HallRemoval) -> str:
        return obj.user.display_name or f"Attendee #{obj.user_id}"

    @admin.display(description="Removed by")
    def removed_by_name(self, obj: HallRemoval) -> str:
        return obj.removed_by.display_name if obj.removed_by else "—"

    @admin.display(description="Removed at", ordering="created_at")
    def removed_at(self, obj: HallRemoval) -> str:
        return date_format(timezone.localtime(obj.created_at), "D j M, H:i")

    @admin.display(description="Until", ordering="until")
    def ends(self, obj: HallRemoval) -> str:
        return date_format(timezone.localtime(obj.until), "D j M, H:i")

    @admin.display(description="State")
    def state(self, obj: HallRemoval) -> str:
        state = removal_state(obj)
        if state == "lifted" and obj.lifted_by:
            return f"lifted by {obj.lifted_by.display_name or obj.lifted_by_id}"
        return state

    @admin.display(description="")
    def lift_link(self, obj: HallRemoval) -> str:
        if removal_state(obj) != "active":
            return ""
        url = reverse("admin:conference_hallremoval_lift", args=[obj.pk])
        return format_html('<a href="{}">Lift</a>', url)

    def get_urls(self):
        lift = self.admin_site.admin_view(self.lift_view)
        return [
            path("<path:object_id>/lift/", lift, name="conference_hallremoval_lift"),
            *super().get_urls(),
        ]

    def lift_view(self, request, object_id):
        removal = self.get_object(request, unquote(object_id))
        if removal is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, removal):
            raise PermissionDenied
        form = LiftForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                lift_removal(removal, actor=request.user, reason=form.cleaned_data["reason"])
            except ModerationError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                who = removal.user.display_name or f"Attendee #{removal.user_id}"
                self.message_user(
                    request, f"{who} may enter {removal.hall} again.", messages.SUCCESS
                )
            return HttpResponseRedirect(reverse("admin:conference_hallremoval_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": removal,
            "title": "Lift this removal",
            "form": form,
        }
        return TemplateResponse(request, "admin/conference/hallremoval/lift.html", context)
