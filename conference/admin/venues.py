"""Venues and halls. A venue belongs to the organizers that list it in `Organizer.venues`.

Registered here rather than in `venues/admin.py` because `venues` never imports `conference`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.db.models import Count

from conference.admin.scoping import (
    OrganizerScopedAdmin,
    ScopedInlineMixin,
    organizer_ids,
    scope_queryset,
)
from conference.admin.venue_layout import HallLayoutMixin
from conference.models import Organizer
from conference.services.organizers import set_venue_organizers
from venues.models import Hall, Venue

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _VenueTotals(TypedDict):
    hall_total: int


class VenueForm(forms.ModelForm):
    organizers = forms.ModelMultipleChoiceField(
        queryset=Organizer.objects.none(),
        required=False,
        widget=FilteredSelectMultiple("organizers", is_stacked=False),
        help_text="Organizers that may hold events in this venue and edit it.",
    )

    organizer_choices = Organizer.objects.none()
    organizers_required = True

    class Meta:
        model = Venue
        fields = ["name", "slug", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelMultipleChoiceField, self.fields["organizers"])  # declared above
        field.queryset = self.organizer_choices
        field.required = self.organizers_required
        if self.instance.pk:
            field.initial = list(self.instance.organizers.values_list("pk", flat=True))


class HallInline(ScopedInlineMixin, admin.TabularInline):
    model = Hall
    fields = ["name", "slug", "kind", "width_m", "depth_m", "capacity", "order"]
    prepopulated_fields = {"slug": ["name"]}
    extra = 0
    show_change_link = True


@admin.register(Venue)
class VenueAdmin(OrganizerScopedAdmin):
    organizer_lookup = "organizers"
    form = VenueForm
    list_display = ["name", "slug", "hall_count", "layout_version", "organizer_names"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["layout_version", "created_at", "organizer_names"]
    inlines = [HallInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(hall_total=Count("halls", distinct=True))
            .prefetch_related("organizers")
            .order_by(*Venue._meta.ordering)
        )

    def get_fields(self, request, obj=None):
        editable = obj is None or self.has_change_permission(request, obj)
        organizers = "organizers" if editable else "organizer_names"
        return ["name", "slug", "description", organizers, "layout_version", "created_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        choices = scope_queryset(
            Organizer.objects.all(), "pk", organizer_ids(request, editable=True)
        )
        attributes = {
            "organizer_choices": choices,
            "organizers_required": not request.user.is_superuser,
        }
        return type(form.__name__, (form,), attributes)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "organizers" not in form.fields:
            return
        set_venue_organizers(
            form.instance, form.cleaned_data.get("organizers") or [], user=request.user
        )

    @admin.display(description="Halls", ordering="hall_total")
    def hall_count(self, obj: WithAnnotations[Venue, _VenueTotals]) -> int:
        return obj.hall_total

    @admin.display(description="Organizers")
    def organizer_names(self, obj: Venue) -> str:
        return ", ".join(organizer.name for organizer in obj.organizers.all())


@admin.register(Hall)
class HallAdmin(HallLayoutMixin, OrganizerScopedAdmin):
    """Halls of the user's venues. Placement and zone inlines are added by the layout editor."""

    organizer_lookup = "venue__organizers"
    list_display = ["name", "venue", "kind", "capacity", "width_m", "depth_m", "order"]
    list_filter = [("venue", admin.RelatedOnlyFieldListFilter), "kind"]
    list_select_related = ["venue"]
    search_fields = ["name", "slug", "venue__name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = []

    class Media:
        # The floor plan's frame and the layout check's errors (no style attributes: CSP).
        css = {"all": ["admin/venue-layout.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("venue")

    def scope_choices(self, request, queryset, *, area=None):
        """Hall labels name their venue: load it with the hall."""
        return super().scope_choices(request, queryset, area=area).select_related("venue")
