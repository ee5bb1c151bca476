"""People in the admin: e-mail based users and their professional profiles.

These classes show every user to superusers and nobody to anyone else. The conference app
registers subclasses that let organizer staff see the people of their own events.
"""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from accounts.models import BoardCertification, ProfessionalProfile, StateLicense, User

if TYPE_CHECKING:
    # what `PeopleScopeMixin` is mixed into; at run time a plain class
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("A user with this e-mail address already exists.")
        return email


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes: dict = {}


class ProfessionalProfileInline(admin.StackedInline):
    model = ProfessionalProfile
    can_delete = False
    extra = 0
    fields = [
        "legal_name",
        ("given_name", "family_name"),
        "name_needs_review",
        "degree",
        "specialty",
        "npi",
        "nabp_eprofile_id",
        ("birth_month", "birth_day"),
        "consent_share_with_boards",
        "consent_share_with_exhibitors",
    ]


class PeopleScopeMixin(_AdminBase):
    """Superusers see and change everyone; others see `visible_users()` and change nobody."""

    user_path = "pk"

    def visible_users(self, request, users):
        return users if request.user.is_superuser else users.none()

    def scope_choices(self, request, queryset, *, area=None):
        users = self.visible_users(request, User.objects.all())
        return queryset.filter(**{f"{self.user_path}__in": users.values("pk")})

    def get_queryset(self, request):
        return self.scope_choices(request, super().get_queryset(request))

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class EmailUserAdmin(PeopleScopeMixin, UserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    inlines = [ProfessionalProfileInline]
    list_display = ["email", "display_name", "is_staff", "is_superuser", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "display_name", "profile__legal_name"]
    ordering = ["email"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal", {"fields": ["display_name"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]

    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "usable_password", "password1", "password2"],
            },
        )
    ]

    def get_inlines(self, request, obj):
        """The profile is edited once the account exists."""
        return self.inlines if obj is not None else []


class StateLicenseInline(admin.TabularInline):
    model = StateLicense
    extra = 0


class BoardCertificationInline(admin.TabularInline):
    model = BoardCertification
    extra = 0


class ProfessionalProfileAdmin(PeopleScopeMixin, admin.ModelAdmin):
    user_path = "user"
    list_display = ["legal_name", "user", "degree", "specialty", "npi"]
    list_filter = ["degree"]
    list_select_related = ["user"]
    search_fields = ["legal_name", "user__email", "npi", "specialty"]
    autocomplete_fields = ["user"]
    inlines = [StateLicenseInline, BoardCertificationInline]


admin.site.register(User, EmailUserAdmin)
admin.site.register(ProfessionalProfile, ProfessionalProfileAdmin)
