"""The hall layout editor in the admin: placement and zone inlines, the SVG floor plan of the
saved layout, the layout check, and an action that publishes the layout of the selected halls'
venues.

`HallLayoutMixin` is mixed into `HallAdmin` (conference/admin/venues.py); it adds to whatever
that admin already declares rather than replacing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from conference.admin.scoping import ScopedInlineMixin
from conference.models import Event
from venues.floorplan import render_floor_plan_svg
from venues.manifest import serialize_venue_layout
from venues.models import Hall, Placement, Venue, Zone
from venues.services import LayoutInvalid, publish_layout
from venues.validation import layout_halls, validate_hall_layout

if TYPE_CHECKING:
    from conference.admin.scoping import OrganizerScopedAdmin

    # the admin the mixin is mixed into (`HallAdmin`); at run time a plain class
    _HallAdminBase = OrganizerScopedAdmin
else:
    _HallAdminBase = object

_LAYOUT_ERRORS = "_medvenue_layout_errors"


def has_unpublished_changes(venue: Venue) -> bool:
    """Whether the saved layout differs from what attendees see (the published snapshot)."""
    snapshot = serialize_venue_layout(venue, halls=layout_halls(venue))
    return venue.layout_version == 0 or snapshot != venue.published_layout


SMALL_JSON: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.JSONField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 28})}
}
MAX_LISTED_ERRORS = 10


class PlacementInline(ScopedInlineMixin, admin.TabularInline):
    model = Placement
    fk_name = "hall"
    fields = [
        "kind",
        "label",
        "x",
        "z",
        "yaw",
        "width",
        "depth",
        "height",
        "target_hall",
        "props",
        "order",
    ]
    formfield_overrides = SMALL_JSON
    extra = 0
    classes = ["collapse"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields.get("target_hall")
        if (
            isinstance(field, forms.ModelChoiceField)
            and field.queryset is not None
            and obj is not None
        ):
            field.queryset = field.queryset.filter(venue_id=obj.venue_id).exclude(pk=obj.pk)
        return formset


class ZoneInline(ScopedInlineMixin, admin.TabularInline):
    model = Zone
    fields = ["kind", "label", "polygon", "props", "order"]
    formfield_overrides = SMALL_JSON
    extra = 0
    classes = ["collapse"]


def _admin_hall_links(hall: Hall) -> dict[str, str]:
    halls = Hall.objects.filter(venue_id=hall.venue_id).values_list("slug", "pk")
    return {slug: reverse("admin:venues_hall_change", args=[pk]) for slug, pk in halls}


def _preview_url(hall: Hall) -> str | None:
    event = Event.objects.filter(venue_id=hall.venue_id).order_by("-start_date").first()
    if event is None:
        return None
    try:
        return reverse("venue:hall", kwargs={"event_slug": event.slug, "hall_slug": hall.slug})
    except NoReverseMatch:
        return None


PUBLISH_DESCRIPTION = "Publish the layout of the selected halls' venues"


@admin.action(description=PUBLISH_DESCRIPTION)
def publish_venue_layouts(modeladmin, request, queryset) -> None:
    venues = Venue.objects.filter(pk__in=queryset.values("venue_id")).order_by("name")
    for venue in venues:
        _publish_one(modeladmin, request, venue)


def _publish_one(modeladmin, request, venue: Venue) -> None:
    try:
        result = publish_layout(venue)
    except LayoutInvalid as invalid:
        errors = invalid.report.errors
        listed = "; ".join(errors[:MAX_LISTED_ERRORS])
        more = (
            f" (and {len(errors) - MAX_LISTED_ERRORS} more)"
            if len(errors) > MAX_LISTED_ERRORS
            else ""
        )
        modeladmin.message_user(
            request, f"{venue.name} was not published: {listed}{more}", messages.ERROR
        )
        return
    if result.changed:
        text = f"{venue.name}: layout version {result.version} is now live."
    else:
        text = f"{venue.name}: nothing changed since version {result.version}."
    for warning in result.warnings:
        modeladmin.message_user(request, warning, messages.WARNING)
    modeladmin.message_user(request, text, messages.SUCCESS)


class HallLayoutMixin(_HallAdminBase):
    """Placement and zone inlines, the floor plan and the layout check on the Hall page.

    A save whose layout breaks a rule says so instead of "changed successfully" (the rows are
    saved, the layout cannot be published until fixed), and the page shows a banner with a
    Publish button while the venue has saved changes attendees do not see yet.
    """

    layout_inlines = [PlacementInline, ZoneInline]
    layout_readonly_fields = ["floor_plan", "layout_check"]
    change_form_template = "admin/venues/hall/change_form.html"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        errors = validate_hall_layout(form.instance).errors
        setattr(request, _LAYOUT_ERRORS, errors)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        errors = getattr(request, _LAYOUT_ERRORS, None)
        if errors and level == messages.SUCCESS:
            listed = "; ".join(errors[:MAX_LISTED_ERRORS])
            extra = len(errors) - MAX_LISTED_ERRORS
            more = f" (and {extra} more)" if extra > 0 else ""
            message = format_html(
                "{} The layout is saved but breaks {} rule(s), so it cannot be published "
                "until they are fixed: {}{}",
                message,
                len(errors),
                listed,
                more,
            )
            level = messages.ERROR
        return super().message_user(request, message, level, *args, **kwargs)

    def response_change(self, request, obj):
        """A layout that breaks a rule keeps the organizer on the hall's page to fix it."""
        response = super().response_change(request, obj)
        if getattr(request, _LAYOUT_ERRORS, None) and "_popup" not in request.POST:
            return HttpResponseRedirect(reverse("admin:venues_hall_change", args=[obj.pk]))
        return response

    def get_urls(self):
        publish = self.admin_site.admin_view(require_POST(self.publish_view))
        return [
            path("<path:object_id>/publish/", publish, name="venues_hall_publish"),
            *super().get_urls(),
        ]

    def publish_view(self, request, object_id):
        hall = self.get_object(request, unquote(object_id))
        if hall is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, hall):
            raise PermissionDenied
        _publish_one(self, request, hall.venue)
        return HttpResponseRedirect(reverse("admin:venues_hall_change", args=[hall.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            venue = obj.venue
            context["layout_unpublished"] = has_unpublished_changes(venue)
            context["layout_version"] = venue.layout_version
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_inlines(self, request, obj):
        inlines = list(super().get_inlines(request, obj))
        return inlines + [i for i in self.layout_inlines if i not in inlines]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + [f for f in self.layout_readonly_fields if f not in fields]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            actions["publish_venue_layouts"] = (
                publish_venue_layouts,
                "publish_venue_layouts",
                PUBLISH_DESCRIPTION,  # the action's `short_description`
            )
        return actions

    @admin.display(description="Floor plan")
    def floor_plan(self, obj: Hall | None) -> str:
        if obj is None or obj.pk is None:
            return "Save the hall to see its floor plan."
        svg = render_floor_plan_svg(obj, links=_admin_hall_links(obj))
        preview = _preview_url(obj)
        link = (
            format_html(
                '<p><a href="{}" target="_blank" rel="noopener">Preview in 3D</a> '
                "(shows the published layout).</p>",
                preview,
            )
            if preview
            else format_html(
                "<p>{}</p>", "No event uses this venue yet, so there is no 3D preview."
            )
        )
        figure = format_html(
            '<div class="medvenue-floor-plan">{}</div><p class="help">Drawn from the saved layout; it updates '
            "when you save. Portals link to the halls they lead to.</p>{}",
            mark_safe(svg),  # noqa: S308 - every text in the SVG is XML-escaped by the renderer
            link,
        )
        return figure

    @admin.display(description="Layout check")
    def layout_check(self, obj: Hall | None) -> str:
        if obj is None or obj.pk is None:
            return "-"
        report = validate_hall_layout(obj)
        if not report.errors and not report.warnings:
            return "No problems found in this hall."
        return format_html(
            "<ul>{}{}</ul>",
            format_html_join(
                "",
                '<li class="medvenue-layout-error">Error: {}</li>',
                ((e,) for e in report.errors),
            ),
            format_html_join("", "<li>Warning: {}</li>", ((w,) for w in report.warnings)),
        )
