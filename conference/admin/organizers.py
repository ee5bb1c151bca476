"""Organizers and who works for them."""

from django import forms
from django.contrib import admin
from django.db.models import Count

from accounts.models import User
from conference.admin.scoping import OrganizerScopedAdmin, ScopedInlineMixin
from conference.models import MembershipRole, Organizer, OrganizerMembership


class MembershipForm(forms.ModelForm):
    """Members are named by e-mail address, so nobody has to browse the list of all users."""

    user_email = forms.EmailField(
        label="E-mail address",
        help_text="The person's MedVenue account. They need staff status to open the admin.",
    )

    class Meta:
        model = OrganizerMembership
        fields = ["role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["user_email"].initial = self.instance.user.email
            self.fields["user_email"].disabled = True

    def clean_user_email(self):
        email = self.cleaned_data["user_email"]
        if self.instance.pk:
            return email
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise forms.ValidationError(
                "No account uses this e-mail address; ask the person to sign up first."
            )
        organizer_id = self.instance.organizer_id
        if organizer_id and user.memberships.filter(organizer_id=organizer_id).exists():
            raise forms.ValidationError("This person is already a member of this organizer.")
        self.instance.user = user
        return email


class MembershipFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen: set[str] = set()
        for form in self.forms:
            email = (form.cleaned_data or {}).get("user_email", "").lower()
            if not email or form.cleaned_data.get("DELETE"):
                continue
            if email in seen:
                form.add_error("user_email", "This person is listed twice.")
            seen.add(email)


class MembershipInline(ScopedInlineMixin, admin.TabularInline):
    model = OrganizerMembership
    form = MembershipForm
    formset = MembershipFormSet
    fields = ["user_email", "role", "created_at"]
    readonly_fields = ["created_at"]
    extra = 0

    def _is_owner(self, request, organizer) -> bool:
        if request.user.is_superuser:
            return True
        if organizer is None:
            return False
        return organizer.memberships.filter(user=request.user, role=MembershipRole.OWNER).exists()

    def has_add_permission(self, request, obj=None):
        return self._is_owner(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._is_owner(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._is_owner(request, obj)


@admin.register(Organizer)
class OrganizerAdmin(OrganizerScopedAdmin):
    organizer_lookup = "pk"
    list_display = ["name", "slug", "contact_email", "event_count", "member_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["venues"]
    inlines = [MembershipInline]

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
    def event_count(self, obj: Organizer) -> int:
        return obj.event_total

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, obj: Organizer) -> int:
        return obj.member_total

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
