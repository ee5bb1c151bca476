"""Organizers and who works for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django import forms
from django.contrib import admin
from django.db.models import Count

from conference.admin.scoping import OrganizerScopedAdmin, ScopedInlineMixin, organizer_ids
from conference.models import MembershipRole, Organizer, OrganizerInvitation, OrganizerMembership
from conference.services.memberships import invite_member, withdraw_invitation
from conference.services.organizers import Area

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _OrganizerTotals(TypedDict):
    event_total: int
    member_total: int


class OwnerOnlyInlineMixin(ScopedInlineMixin):
    """Members and invitations: seen and changed only by the organizer's owners."""

    def _is_owner(self, request, organizer) -> bool:
        ids = organizer_ids(request, editable=True, area=Area.MEMBERS)
        if ids is None:
            return True
        # without an organizer (the inline's own queryset, already limited to the parent)
        return bool(ids) if organizer is None else organizer.pk in ids

    def has_view_permission(self, request, obj=None):
        return self._is_owner(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._is_owner(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._is_owner(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._is_owner(request, obj)


class MembershipFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form.cleaned_data.get("role", form.instance.role)
            for form in self.forms
            if form.instance.pk and not (form.cleaned_data or {}).get("DELETE")
        ]
        had_owner = any(form.initial.get("role") == MembershipRole.OWNER for form in self.forms)
        if had_owner and MembershipRole.OWNER not in kept:
            raise forms.ValidationError(
                "An organizer keeps at least one owner: invite the new owner first."
            )


class MembershipInline(OwnerOnlyInlineMixin, admin.TabularInline):
    """Members join by accepting an invitation; owners change their role or remove them."""

    model = OrganizerMembership
    formset = MembershipFormSet
    fields = ["member_email", "role", "created_at"]
    readonly_fields = ["member_email", "created_at"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="E-mail address")
    def member_email(self, obj: OrganizerMembership) -> str:
        return obj.user.email if obj.pk else ""


class InvitationForm(forms.ModelForm):
    class Meta:
        model = OrganizerInvitation
        fields = ["email", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for field in self.fields.values():
                field.disabled = True


class InvitationInline(OwnerOnlyInlineMixin, admin.TabularInline):
    """Pending invitations: add one to invite an address (the same answer whether an account
    uses it or not); delete one to withdraw it."""

    model = OrganizerInvitation
    form = InvitationForm
    fields = ["email", "role", "invited_by", "created_at", "expires_at"]
    readonly_fields = ["invited_by", "created_at", "expires_at"]
    extra = 0
    verbose_name = "invitation"
    verbose_name_plural = "pending invitations (the person accepts with the e-mailed link)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(accepted_at__isnull=True)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Organizer)
class OrganizerAdmin(OrganizerScopedAdmin):
    area = Area.ORGANIZER
    organizer_lookup = "pk"
    list_display = ["name", "slug", "contact_email", "event_count", "member_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["venues"]
    inlines = [MembershipInline, InvitationInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                event_total=Count("events", distinct=True),
                member_total=Count("memberships", distinct=True),
            )
            .order_by(*Organizer._meta.ordering)
        )

    @admin.display(description="Events", ordering="event_total")
    def event_count(self, obj: WithAnnotations[Organizer, _OrganizerTotals]) -> int:
        return obj.event_total

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, obj: WithAnnotations[Organizer, _OrganizerTotals]) -> int:
        return obj.member_total

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_formset(self, request, form, formset, change):
        """New invitations go through the invitation service (which e-mails the link)."""
        if formset.model is not OrganizerInvitation:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for invitation in formset.deleted_forms:
            if invitation.instance.pk:
                withdraw_invitation(invitation.instance)
                formset.deleted_objects.append(invitation.instance)
        for invitation_form in formset.extra_forms:
            if not invitation_form.has_changed() or invitation_form in formset.deleted_forms:
                continue
            invitation = invite_member(
                form.instance,
                email=invitation_form.cleaned_data["email"],
                role=invitation_form.cleaned_data["role"],
                invited_by=request.user,
                base_url=request.build_absolute_uri("/"),
            )
            formset.new_objects.append(invitation)
        if formset.new_objects:
            self.message_user(
                request,
                "Invitations are e-mailed to the addresses given; a person becomes a member "
                "once they accept.",
            )
