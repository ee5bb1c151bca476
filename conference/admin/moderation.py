"""Hall moderation in admin, for the organizer's staff (moderators work in the hall's panel):
removals, listed and lifted; chat messages hidden by a moderator or held by the keyword filter,
listed for the audit."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from conference.admin.scoping import OrganizerScopedAdmin, request_roles
from conference.models import ChatMessage, HallRemoval, MembershipRole
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


class ModerationAreaAdmin(OrganizerScopedAdmin):
    """An admin of the moderation area, shown to the organizer's staff but not to moderators:
    moderators have no admin (docs/roles.md), they see the same in the hall's panel."""

    organizer_lookup = "hall__venue__organizers"
    area = Area.MODERATION

    def _works_in_admin(self, request) -> bool:
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
        return False  # made in the hall, by a moderator

    def has_delete_permission(self, request, obj=None):
        return False  # kept for the record


@admin.register(HallRemoval)
class HallRemovalAdmin(ModerationAreaAdmin):
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
    readonly_fields = fields = (
        "user",
        "hall",
        "reason",
        "removed_by",
        "created_at",
        "until",
        "lifted_at",
        "lifted_by",
        "lift_reason",
    )

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


class ChatStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("hidden", "hidden by a moderator"), ("held", "held by the keyword filter")]

    def queryset(self, request, queryset):
        if self.value() == "hidden":
            return queryset.filter(is_removed=True)
        if self.value() == "held":
            return queryset.filter(is_held=True, is_removed=False)
        return queryset


@admin.register(ChatMessage)
class ModeratedChatAdmin(ModerationAreaAdmin):
    """Chat messages that attendees no longer see: hidden by a moderator (with who, when and
    why) or held for review by the event's keyword filter. Read only: hiding and releasing
    happen in the hall's panel, where the hall sees the change at once."""

    list_display = ["created", "hall", "author_name", "text", "state", "hidden_by_name", "why"]
    list_filter = [ChatStateFilter, ("hall", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["hall", "hidden_by"]
    search_fields = ["author_name", "text", "hide_reason"]
    readonly_fields = fields = (
        "hall",
        "author",
        "author_name",
        "text",
        "created_at",
        "is_removed",
        "hidden_at",
        "hidden_by",
        "hide_reason",
        "is_held",
        "held_keyword",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).filter(Q(is_removed=True) | Q(is_held=True))

    def has_change_permission(self, request, obj=None):
        return False  # read only (the view permission shows the record)

    def changelist_view(self, request, extra_context=None):
        title = "Chat hidden by moderators or held by the keyword filter"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    @admin.display(description="Sent", ordering="created_at")
    def created(self, obj: ChatMessage) -> str:
        return date_format(timezone.localtime(obj.created_at), "D j M, H:i")

    @admin.display(description="State")
    def state(self, obj: ChatMessage) -> str:
        if obj.is_removed:
            when = date_format(timezone.localtime(obj.hidden_at), "H:i") if obj.hidden_at else ""
            return f"hidden {when}".strip()
        return "held for review"

    @admin.display(description="Hidden by")
    def hidden_by_name(self, obj: ChatMessage) -> str:
        if not obj.is_removed:
            return "—"
        return obj.hidden_by.display_name if obj.hidden_by else "—"

    @admin.display(description="Why")
    def why(self, obj: ChatMessage) -> str:
        if obj.is_removed:
            return obj.hide_reason or "—"
        return f"matched “{obj.held_keyword}”" if obj.held_keyword else "—"
