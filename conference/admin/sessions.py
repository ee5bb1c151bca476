"""Sessions: the schedule grid's rows, validated against the schedule rules on every form."""

import copy
import zoneinfo
from datetime import date, datetime, time, timedelta
from itertools import combinations
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminURLFieldWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.forms.models import construct_instance
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from conference.admin.recordings import SessionRecordingInline
from conference.admin.scoping import (
    EventZoneFormMixin,
    OrganizerScopedAdmin,
    ScopedInlineMixin,
    organizer_ids,
    scope_queryset,
)
from conference.models import (
    Event,
    Registration,
    RegistrationStatus,
    Session,
    SessionCreditExclusion,
    SessionKind,
)
from conference.services.cme.designation import session_designation_problem
from conference.services.schedule import session_conflicts
from conference.services.timing import TimingRefused, apply_plan, plan_end_now, plan_start_now
from venues.models import Hall

TIMING_PLANS = {"start": plan_start_now, "end": plan_end_now}


def local_time(moment: datetime, event: Event, fmt: str = "H:i") -> str:
    return date_format(timezone.localtime(moment, event.tzinfo), fmt)


class SessionForm(forms.ModelForm):
    """Checks what only the form knows: hall, track and speakers, and speaker double-booking.

    `parent_event` is set on the inline's form (the event page), where choices are narrowed
    and, through `shared_choices`, loaded once for all rows instead of once per row.
    """

    parent_event: Event | None = None
    shared_choices: dict[str, list] | None = None
    stream_url = Session._meta.get_field("stream_url").formfield(
        assume_scheme="https", widget=AdminURLFieldWidget
    )

    def clean_attention_window_seconds(self) -> int:
        """Empty means the default answer window (checks only run when an interval is set)."""
        value = self.cleaned_data.get("attention_window_seconds")
        return (
            value
            if value is not None
            else Session._meta.get_field("attention_window_seconds").default
        )

    class Meta:
        model = Session
        fields = [
            "event",
            "title",
            "kind",
            "abstract",
            "starts_at",
            "ends_at",
            "hall",
            "track",
            "speakers",
            "captioners",
            "is_cme_eligible",
            "designated_minutes",
            "qa_moderation_required",
            "stream_url",
            "attention_check_minutes",
            "attention_window_seconds",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "attention_window_seconds" in self.fields:
            self.fields["attention_window_seconds"].required = False
        event = self.parent_event or (self.instance.event if self.instance.event_id else None)
        help_text = (
            f"Local time of the event ({event.timezone})."
            if event
            else "Local time of the event chosen above, in its time zone."
        )
        for name in ("starts_at", "ends_at"):
            if name in self.fields:
                self.fields[name].help_text = help_text
        if self.parent_event is not None:
            self._narrow_choices(self.parent_event)

    def _narrow_choices(self, event: Event) -> None:
        narrowed: dict[str, dict[str, Any]] = {
            "hall": {"venue_id": event.venue_id},
            "track": {"event_id": event.pk},
            "speakers": {"event_id": event.pk},
        }
        for name, lookup in narrowed.items():
            if name not in self.fields:
                continue
            field = self.fields[name]
            if not isinstance(field, forms.ModelChoiceField) or field.queryset is None:
                continue  # never: the three are relations, chosen among rows
            field.queryset = field.queryset.filter(**lookup)
            if self.shared_choices is not None:
                if name not in self.shared_choices:
                    # a model choice field's choices are a ModelChoiceIterator, which the
                    # stubs' union of every possible `choices` input does not tell
                    self.shared_choices[name] = list(field.choices)  # type: ignore[arg-type]
                field.choices = self.shared_choices[name]

    def _event(self) -> Event | None:
        return self.cleaned_data.get("event") or self.parent_event

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        event = self._event()
        if event is not None:
            self._check_event_links(cleaned, event)
            self._check_designated_minutes(cleaned)
        self._check_schedule()
        return cleaned

    def _check_event_links(self, cleaned: dict, event: Event) -> None:
        hall, track = cleaned.get("hall"), cleaned.get("track")
        if hall and event.venue_id is None:
            self.add_error("hall", "Choose the event's venue before placing sessions in halls.")
        elif hall and hall.venue_id != event.venue_id:
            self.add_error("hall", f"{hall.name} is not in {event.venue}, the event's venue.")
        if track and track.event_id != event.pk:
            self.add_error("track", f"The track “{track.name}” belongs to another event.")
        for speaker in cleaned.get("speakers") or []:
            if speaker.event_id != event.pk:
                self.add_error(
                    "speakers", f"{speaker.name} is a speaker of another event, not of {event}."
                )
        registered = set(
            Registration.objects.filter(event=event, status=RegistrationStatus.ACTIVE).values_list(
                "user_id", flat=True
            )
        )
        for person in cleaned.get("captioners") or []:
            if person.pk not in registered:
                self.add_error(
                    "captioners",
                    f"{person} is not registered for {event}: register them first "
                    "(captioners enter the studio like the event's other people).",
                )

    def _check_schedule(self) -> None:
        """The schedule rules of `services.schedule` (within the event's days, no double-booked
        hall) on the session as submitted; the speakers are checked in `_post_clean`, once the
        form's choice is known. A rule of a field the form does not show is a form error."""
        draft = construct_instance(
            self, copy.copy(self.instance), self._meta.fields, self._meta.exclude
        )
        for field, problems in session_conflicts(draft, speakers=None).items():
            for message in problems:
                self.add_error(field if field in self.fields else None, message)

    def _check_designated_minutes(self, cleaned: dict) -> None:
        """At most the session's length (the parts without credit are checked by their
        inline, which sees them as submitted)."""
        minutes, starts, ends = (
            cleaned.get(k) for k in ("designated_minutes", "starts_at", "ends_at")
        )
        if minutes is None or not starts or not ends:
            return
        draft = Session(designated_minutes=minutes, starts_at=starts, ends_at=ends)
        problem = session_designation_problem(draft, parts=[])
        if problem:
            self.add_error("designated_minutes", problem)

    def _post_clean(self):
        """After the schedule check of `clean` (without speakers), check the speakers."""
        super()._post_clean()  # type: ignore[misc]  # django-stubs omits BaseForm._post_clean
        speakers = self.cleaned_data.get("speakers")
        if not speakers or self.has_error("starts_at") or self.has_error("ends_at"):
            return
        conflicts = session_conflicts(self.instance, speakers=speakers)
        for message in conflicts.get("speakers", []):
            self.add_error("speakers", message)


def _overlap(first: SessionForm, second: SessionForm) -> bool:
    a, b = first.cleaned_data, second.cleaned_data
    return a["starts_at"] < b["ends_at"] and b["starts_at"] < a["ends_at"]


class SessionInlineFormSet(forms.BaseInlineFormSet):
    """Rows of one submit checked against each other (the database sees them only later)."""

    def clean(self):
        super().clean()
        rows = [
            form
            for form in self.forms
            if form.is_valid()
            and form.has_changed()
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("starts_at")
            and form.cleaned_data.get("ends_at")
        ]
        for first, second in combinations(rows, 2):
            if _overlap(first, second):
                self._check_pair(first, second)

    def _check_pair(self, first: SessionForm, second: SessionForm) -> None:
        a, b = first.cleaned_data, second.cleaned_data
        breaks = SessionKind.BREAK in (a.get("kind"), b.get("kind"))
        when = (
            f"{local_time(a['starts_at'], self.instance)}–{local_time(a['ends_at'], self.instance)}"
        )
        if a.get("hall") and a.get("hall") == b.get("hall") and not breaks:
            second.add_error(
                "hall", f"{a['hall']} is already booked for “{a['title']}” ({when}) in this list."
            )
        shared = set(a.get("speakers") or []) & set(b.get("speakers") or [])
        for speaker in sorted(shared, key=lambda speaker: speaker.name):
            second.add_error(
                "speakers", f"{speaker.name} is speaking in “{a['title']}” at the same time."
            )


class SessionInline(ScopedInlineMixin, admin.TabularInline):
    model = Session
    form = SessionForm
    formset = SessionInlineFormSet
    fields = [
        "title",
        "kind",
        "starts_at",
        "ends_at",
        "hall",
        "track",
        "speakers",
        "is_cme_eligible",
        "designated_minutes",
    ]
    extra = 0
    show_change_link = True
    ordering = ["starts_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("hall", "track")
            .prefetch_related("speakers")
        )

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        attributes = {"parent_event": obj, "shared_choices": {}}
        formset.form = type(formset.form.__name__, (formset.form,), attributes)
        return formset


class SessionDayFilter(admin.SimpleListFilter):
    """The local calendar day of the session's start, in its event's time zone."""

    title = "day"
    parameter_name = "day"

    def lookups(self, request, model_admin):
        starts = model_admin.get_queryset(request).values_list("starts_at", "event__timezone")
        days = {timezone.localtime(start, zoneinfo.ZoneInfo(zone)).date() for start, zone in starts}
        return [(day.isoformat(), date_format(day, "D j M Y")) for day in sorted(days)]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return queryset.none()
        zones = queryset.values_list("event__timezone", flat=True).distinct()
        return queryset.filter(_day_condition(day, set(zones)))


def _day_condition(day: date, zones: set[str]) -> Q:
    condition = Q(pk__in=[])
    for zone in zones:
        tz = zoneinfo.ZoneInfo(zone)
        start = datetime.combine(day, time.min, tzinfo=tz)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
        condition |= Q(event__timezone=zone, starts_at__gte=start, starts_at__lt=end)
    return condition


class HallListFilter(admin.RelatedOnlyFieldListFilter):
    """Halls in use, labelled with their venue in one query."""

    def field_choices(self, field, request, model_admin):
        used = model_admin.get_queryset(request).values_list("hall_id", flat=True)
        halls = Hall.objects.filter(pk__in=used).select_related("venue")
        return [(hall.pk, str(hall)) for hall in halls]


class CreditExclusionFormSet(forms.BaseInlineFormSet):
    """The session's designated minutes must fit in its time minus these parts."""

    def clean(self):
        super().clean()
        session = self.instance
        parts = [
            (form.cleaned_data["offset_minutes"], form.cleaned_data["length_minutes"])
            for form in self.forms
            if form.is_valid()
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("offset_minutes") is not None
            and form.cleaned_data.get("length_minutes") is not None
        ]
        problem = session_designation_problem(session, parts=parts)
        if problem:
            raise ValidationError(f"Designated minutes: {problem}")


class CreditExclusionInline(ScopedInlineMixin, admin.TabularInline):
    """Breaks and non-accredited segments inside a session, in minutes from its start."""

    model = SessionCreditExclusion
    formset = CreditExclusionFormSet
    extra = 0
    fields = ["offset_minutes", "length_minutes", "reason"]


@admin.register(Session)
class SessionAdmin(EventZoneFormMixin, OrganizerScopedAdmin):
    """Times are shown and read in the event's zone: the session's event on its page, and on
    the add page the event chosen in the form (or given as `?event=<id>`) when it is saved."""

    organizer_lookup = "event__organizer"
    form = SessionForm
    list_display = [
        "title",
        "event",
        "local_day",
        "local_times",
        "hall",
        "track",
        "kind",
        "is_cme_eligible",
        "speaker_names",
        "timing_links",
    ]
    list_filter = [
        ("event", admin.RelatedOnlyFieldListFilter),
        SessionDayFilter,
        ("hall", HallListFilter),
        "kind",
        ("track", admin.RelatedOnlyFieldListFilter),
        "is_cme_eligible",
    ]
    list_select_related = ["event", "hall__venue", "track"]
    search_fields = ["title", "event__title", "speakers__name"]
    autocomplete_fields = ["event", "hall", "track", "speakers", "captioners"]
    ordering = ["starts_at", "title"]
    inlines = [CreditExclusionInline, SessionRecordingInline]
    fieldsets = [
        (None, {"fields": ["event", "title", "kind", "abstract"]}),
        ("When and where", {"fields": ["starts_at", "ends_at", "hall", "track"]}),
        ("Faculty", {"fields": ["speakers", "captioners"]}),
        (
            "CME and live room",
            {
                "fields": [
                    "is_cme_eligible",
                    "designated_minutes",
                    "is_cancelled",
                    "qa_moderation_required",
                    "stream_url",
                    "attention_check_minutes",
                    "attention_window_seconds",
                ]
            },
        ),
    ]

    change_form_template = "admin/conference/session/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("speakers")

    @admin.display(description="Live")
    def timing_links(self, obj: Session) -> str:
        """ "Live now" with "End now" during the session, else "Start now"."""
        now = timezone.now()
        if obj.starts_at <= now < obj.ends_at:
            url = reverse("admin:conference_session_timing", args=[obj.pk, "end"])
            return format_html('Live now · <a href="{}">End now</a>', url)
        url = reverse("admin:conference_session_timing", args=[obj.pk, "start"])
        return format_html('<a href="{}">Start now</a>', url)

    def get_urls(self):
        timing = self.admin_site.admin_view(self.timing_view)
        return [
            path(
                "<path:object_id>/timing/<str:action>/",
                timing,
                name="conference_session_timing",
            ),
            *super().get_urls(),
        ]

    def timing_view(self, request, object_id, action):
        """Confirm, then do "Start now" / "End now"; the page states the CME effects first."""
        if action not in TIMING_PLANS:
            raise PermissionDenied
        session = self.get_object(request, unquote(object_id))
        if session is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, session):
            raise PermissionDenied
        change_url = reverse("admin:conference_session_change", args=[session.pk])
        try:
            plan = TIMING_PLANS[action](session)
            if request.method == "POST":
                apply_plan(plan, actor=request.user)
                self.log_change(request, session, f"{action.capitalize()} now")
                self.message_user(request, " ".join(plan.effects[:1]), messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        except TimingRefused as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": session,
            "title": f"{action.capitalize()} “{session}” now",
            "plan": plan,
        }
        return TemplateResponse(request, "admin/conference/session/timing.html", context)

    @admin.display(description="Day", ordering="starts_at")
    def local_day(self, obj: Session) -> str:
        return local_time(obj.starts_at, obj.event, "D j M Y")

    @admin.display(description="Time (event's zone)", ordering="starts_at")
    def local_times(self, obj: Session) -> str:
        start, end = local_time(obj.starts_at, obj.event), local_time(obj.ends_at, obj.event)
        return f"{start}–{end} {obj.event.timezone}"

    @admin.display(description="Speakers")
    def speaker_names(self, obj: Session) -> str:
        return ", ".join(speaker.name for speaker in obj.speakers.all())

    def form_zone(self, request, object_id) -> zoneinfo.ZoneInfo | None:
        """The time zone to show and read times in: the session's event, or the chosen one."""
        try:
            if object_id is not None:
                sessions = self.get_queryset(request).filter(pk=unquote(object_id))
                zone = sessions.values_list("event__timezone", flat=True).first()
            else:
                event_id = request.POST.get("event") or request.GET.get("event")
                visible = organizer_ids(request, editable=False)
                chosen = Event.objects.filter(pk=event_id) if event_id else Event.objects.none()
                events = scope_queryset(chosen, "organizer", visible)
                zone = events.values_list("timezone", flat=True).first()
        except (ValueError, ValidationError):
            return None
        return zoneinfo.ZoneInfo(zone) if zone else None
