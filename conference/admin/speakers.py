"""Speakers (faculty) and their financial-relationship disclosures."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin
from django.db.models import Count

from conference.admin.scoping import OrganizerScopedAdmin, ScopedInlineMixin, organizer_ids
from conference.models import Disclosure, Speaker
from conference.services.organizers import Area

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _SpeakerTotals(TypedDict):
    disclosure_total: int
    session_total: int


class DisclosureFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if not self.instance.has_nothing_to_disclose:
            return
        listed = [
            form
            for form in self.forms
            if form.is_valid()
            and form.cleaned_data.get("company")
            and not form.cleaned_data.get("DELETE")
        ]
        if listed:
            raise forms.ValidationError(
                "The speaker is marked as having nothing to disclose, yet relationships are "
                "listed: untick “has nothing to disclose” or remove the relationships."
            )


class DisclosureInline(ScopedInlineMixin, admin.TabularInline):
    model = Disclosure
    formset = DisclosureFormSet
    fields = ["company", "relationship", "details", "mitigated"]
    extra = 0


@admin.register(Speaker)
class SpeakerAdmin(OrganizerScopedAdmin):
    organizer_lookup = "event__organizer"
    list_display = [
        "name",
        "credentials",
        "event",
        "affiliation",
        "has_nothing_to_disclose",
        "disclosure_count",
        "disclosure_signed_at",
        "session_count",
    ]
    list_filter = [("event", admin.RelatedOnlyFieldListFilter), "has_nothing_to_disclose"]
    list_select_related = ["event"]
    search_fields = ["name", "email", "affiliation", "event__title"]
    autocomplete_fields = ["event", "user"]
    inlines = [DisclosureInline]
    fieldsets = [
        (None, {"fields": ["event", "name", "credentials", "affiliation", "email", "user"]}),
        ("Biography", {"fields": ["bio"]}),
        ("Disclosure", {"fields": ["has_nothing_to_disclose", "disclosure_signed_at"]}),
    ]

    def _sees_people(self, request, obj) -> bool:
        ids = organizer_ids(request, editable=False, area=Area.PEOPLE)
        if ids is None:
            return True
        return bool(ids) if obj is None else obj.event.organizer_id in ids

    def get_fieldsets(self, request, obj=None):
        """Roles without access to people (content managers) see whether a speaker has an
        account, not which one; the link is kept as it is when they save."""
        fieldsets = super().get_fieldsets(request, obj)
        if self._sees_people(request, obj):
            return fieldsets
        swap = {"user": "linked_account"}
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        swap.get(f, f) if isinstance(f, str) else f for f in options["fields"]
                    ],
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "linked_account"]

    @admin.display(description="MedVenue account")
    def linked_account(self, obj: Speaker | None) -> str:
        return "linked" if obj is not None and obj.user_id else "none"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                disclosure_total=Count("disclosures", distinct=True),
                session_total=Count("sessions", distinct=True),
            )
            .order_by(*Speaker._meta.ordering)
        )

    @admin.display(description="Disclosures", ordering="disclosure_total")
    def disclosure_count(self, obj: WithAnnotations[Speaker, _SpeakerTotals]) -> int:
        return obj.disclosure_total

    @admin.display(description="Sessions", ordering="session_total")
    def session_count(self, obj: WithAnnotations[Speaker, _SpeakerTotals]) -> int:
        return obj.session_total
