"""Events, their tracks, speakers and sessions on one page, and the schedule grid."""

from __future__ import annotations

import zoneinfo
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from conference.admin.schedule import build_schedule
from conference.admin.scoping import (
    EventZoneFormMixin,
    OrganizerScopedAdmin,
    ScopedInlineMixin,
)
from conference.admin.sessions import SessionInline
from conference.models import Event, Speaker, Track
from conference.models.events import validate_timezone
from conference.services import dashboard
from conference.services.moderation import keyword_problems, parse_keywords
from conference.services.organizers import organizer_may_use_venue
from conference.services.spreadsheets import csv_text

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _EventTotals(TypedDict):
    session_total: int


class EventForm(forms.ModelForm):
    class Meta:
        model = Event
        fields = [
            "organizer",
            "title",
            "slug",
            "description",
            "is_published",
            "timezone",
            "start_date",
            "end_date",
            "venue",
            "registration_opens_at",
            "registration_closes_at",
            "capacity",
            "cme_provider",
            "accreditation_statement",
            "cme_joint_providers",
            "moderation_keywords",
        ]

    def clean_moderation_keywords(self):
        text = self.cleaned_data.get("moderation_keywords", "")
        problems = keyword_problems(text)
        if problems:
            raise forms.ValidationError(problems)
        return "\n".join(parse_keywords(text))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        organizer, venue = cleaned.get("organizer"), cleaned.get("venue")
        if organizer and venue and not organizer_may_use_venue(organizer, venue):
            self.add_error("venue", f"{venue} is not one of {organizer}'s venues.")
        return cleaned

    def _post_clean(self):
        super()._post_clean()  # type: ignore[misc]  # django-stubs omits BaseForm._post_clean
        event = self.instance
        if not event.pk or self.errors:
            return
        outside = event.sessions.filter(
            Q(starts_at__lt=event.starts_at) | Q(ends_at__gt=event.ends_at)
        )
        count = outside.count()
        if count:
            self.add_error(
                None,
                f"{count} session(s) would fall outside the event's new dates; "
                "move them first or keep the dates.",
            )


class TrackInline(ScopedInlineMixin, admin.TabularInline):
    model = Track
    fields = ["name", "color", "order"]
    extra = 0


class SpeakerInline(ScopedInlineMixin, admin.TabularInline):
    model = Speaker
    fields = ["name", "credentials", "affiliation", "email", "has_nothing_to_disclose"]
    extra = 0
    show_change_link = True


@admin.register(Event)
class EventAdmin(EventZoneFormMixin, OrganizerScopedAdmin):
    organizer_lookup = "organizer"
    form = EventForm
    list_display = [
        "title",
        "organizer",
        "start_date",
        "end_date",
        "timezone",
        "venue",
        "is_published",
        "session_count",
        "schedule_link",
        "dashboard_link",
    ]
    list_filter = [
        ("organizer", admin.RelatedOnlyFieldListFilter),
        "is_published",
        ("venue", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["organizer", "venue"]
    search_fields = ["title", "slug", "organizer__name"]
    date_hierarchy = "start_date"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["venue"]
    actions = ["open_schedule"]
    fieldsets = [
        (None, {"fields": ["organizer", "title", "slug", "description", "is_published"]}),
        ("Dates", {"fields": ["timezone", "start_date", "end_date"]}),
        ("Venue", {"fields": ["venue"]}),
        (
            "Registration",
            {"fields": ["registration_opens_at", "registration_closes_at", "capacity"]},
        ),
        ("CME", {"fields": ["cme_provider", "accreditation_statement", "cme_joint_providers"]}),
        ("Recordings", {"fields": ["recordings_public"]}),
        ("Moderation", {"fields": ["moderation_keywords"]}),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(session_total=Count("sessions"))
        return queryset.order_by(*Event._meta.ordering)

    def get_inlines(self, request, obj):
        """Sessions come once the event exists: the schedule rules need its saved dates."""
        if obj is None:
            return [TrackInline, SpeakerInline]
        return [TrackInline, SpeakerInline, SessionInline]

    @admin.display(description="Sessions", ordering="session_total")
    def session_count(self, obj: WithAnnotations[Event, _EventTotals]) -> int:
        return obj.session_total

    @admin.display(description="Schedule")
    def schedule_link(self, obj: Event) -> str:
        url = reverse("admin:conference_event_schedule", args=[obj.pk])
        return format_html('<a href="{}">Schedule</a>', url)

    @admin.display(description="Dashboard")
    def dashboard_link(self, obj: Event) -> str:
        url = reverse("admin:conference_event_dashboard", args=[obj.pk])
        return format_html('<a href="{}">Dashboard</a>', url)

    @admin.action(description="Open the schedule of the selected event")
    def open_schedule(self, request, queryset):
        event = queryset.order_by("pk").first()
        if queryset.count() != 1 or event is None:
            self.message_user(request, "Select exactly one event.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:conference_event_schedule", args=[event.pk]))

    def get_urls(self):
        schedule = self.admin_site.admin_view(self.schedule_view)
        dashboard_view = self.admin_site.admin_view(self.dashboard_view)
        return [
            path("<path:object_id>/schedule/", schedule, name="conference_event_schedule"),
            path("<path:object_id>/dashboard/", dashboard_view, name="conference_event_dashboard"),
            *super().get_urls(),
        ]

    def schedule_view(self, request, object_id):
        event = self.get_object(request, unquote(object_id))
        if event is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": event,
            "title": f"Schedule of {event}",
            "schedule": build_schedule(event),
        }
        with timezone.override(event.tzinfo):
            return TemplateResponse(
                request, "admin/conference/event/schedule.html", context
            ).render()

    def dashboard_view(self, request, object_id):
        """How the event is going (plots with CSV downloads); `?csv=<figure>` downloads one."""
        event = self.get_object(request, unquote(object_id))
        if event is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        key = request.GET.get("csv")
        if key is not None:
            if key not in dashboard.FIGURES:
                raise Http404("No such figure.")
            return _csv_response(dashboard.FIGURES[key](event), event)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": event,
            "title": f"Dashboard of {event}",
            "figures": dashboard.dashboard(event),
            "generated_at": timezone.localtime(timezone.now(), event.tzinfo),
        }
        return TemplateResponse(request, "admin/conference/event/dashboard.html", context)

    def form_zone(self, request, object_id) -> zoneinfo.ZoneInfo | None:
        """Existing events show times in their zone; new ones read them in the chosen zone."""
        if object_id is None:
            zone = request.POST.get("timezone", "")
        else:
            try:
                events = self.get_queryset(request).filter(pk=unquote(object_id))
                zone = events.values_list("timezone", flat=True).first() or ""
            except (ValueError, ValidationError):
                return None
        try:
            validate_timezone(zone)
        except ValidationError:
            return None
        return zoneinfo.ZoneInfo(zone)


def _csv_response(figure, event: Event) -> HttpResponse:
    """The figure's numbers as CSV, written by the one guarded writer (services.spreadsheets)."""
    text = csv_text(figure.columns, figure.rows)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    name = f"{event.slug}-{figure.key}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@admin.register(Track)
class TrackAdmin(OrganizerScopedAdmin):
    organizer_lookup = "event__organizer"
    list_display = ["name", "event", "color", "order"]
    list_filter = [("event", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["event"]
    search_fields = ["name", "event__title"]
    autocomplete_fields = ["event"]
