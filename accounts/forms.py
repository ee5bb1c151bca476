from __future__ import annotations

import calendar
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.http import HttpRequest

from accounts import throttle
from accounts.models import (
    BoardCertification,
    Degree,
    ProfessionalProfile,
    StateLicense,
    User,
)
from accounts.services import DUPLICATE_EMAIL_MESSAGE, PROFILE_FIELDS, email_is_taken

MONTH_CHOICES = [("", "—"), *((month, calendar.month_name[month]) for month in range(1, 13))]


class SignupForm(forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    legal_name = forms.CharField(
        max_length=200, help_text="Your name as it must appear on certificates."
    )
    degree = forms.ChoiceField(choices=Degree.choices)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if email_is_taken(email):
            raise ValidationError(DUPLICATE_EMAIL_MESSAGE, code="duplicate_email")
        return email

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password2:
            candidate = User(email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password2, candidate)
            except ValidationError as error:
                self.add_error("password2", error)
        return cleaned


class ThrottledLoginMixin(AuthenticationForm):
    """Refuse login attempts while the e-mail or the client address is throttled.

    Mixed into an AuthenticationForm; `throttled` tells the view to answer 429.
    """

    # The login views build these forms with the request (the throttle needs its address).
    request: HttpRequest
    throttled = False

    def throttle_keys(self) -> tuple[throttle.ThrottleKey, ...]:
        email = self.data.get(self.add_prefix("username"), "")
        return (
            throttle.email_key(throttle.LOGIN, email),
            throttle.ip_key(throttle.LOGIN, self.request),
        )

    def clean(self) -> dict[str, Any]:
        keys = self.throttle_keys()
        seconds = throttle.seconds_blocked(*keys)
        if seconds:
            self.throttled = True
            raise ValidationError(throttle.blocked_message(seconds), code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                throttle.record_failure(*keys)
            raise
        throttle.clear(throttle.email_key(throttle.LOGIN, self.get_user().email))
        return cleaned


class EmailAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """Log in with e-mail and password."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail address and password do not match an account.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "E-mail address"
        self.fields["username"].widget.attrs["autocomplete"] = "email"


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form under the same throttle (`admin.site.login_form`)."""


class ProfileForm(forms.ModelForm):
    display_name = forms.CharField(
        max_length=80, required=False, help_text="Shown to other attendees in the venue."
    )
    birth_month = forms.TypedChoiceField(
        choices=MONTH_CHOICES, coerce=int, empty_value=None, required=False
    )
    birth_day = forms.IntegerField(
        min_value=1,
        max_value=31,
        required=False,
        help_text="Month and day only; we never ask for the year.",
    )

    class Meta:
        model = ProfessionalProfile
        fields = list(PROFILE_FIELDS)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["display_name"].initial = user.display_name
        self.order_fields(["display_name", *self.Meta.fields])

    def clean_npi(self) -> str:
        return self.cleaned_data["npi"].strip()

    def clean_nabp_eprofile_id(self) -> str:
        return self.cleaned_data["nabp_eprofile_id"].strip()


class ProfileRowFormSet(BaseInlineFormSet):
    unique_message = "Each row must be different."

    def get_unique_error_message(self, unique_check) -> str:
        return self.unique_message


class LicenseRowFormSet(ProfileRowFormSet):
    unique_message = "List each state only once."


class BoardRowFormSet(ProfileRowFormSet):
    unique_message = "List each board only once."


LicenseFormSet: type[
    BaseInlineFormSet[StateLicense, ProfessionalProfile, forms.ModelForm[StateLicense]]
] = inlineformset_factory(
    ProfessionalProfile,
    StateLicense,
    formset=LicenseRowFormSet,
    fields=["state", "number"],
    extra=1,
    can_delete=True,
)
BoardFormSet: type[
    BaseInlineFormSet[BoardCertification, ProfessionalProfile, forms.ModelForm[BoardCertification]]
] = inlineformset_factory(
    ProfessionalProfile,
    BoardCertification,
    formset=BoardRowFormSet,
    fields=["board", "board_id"],
    extra=1,
    can_delete=True,
)


def formset_pairs(formset, key_field: str, value_field: str) -> list[tuple[str, str]]:
    """The (key, value) rows a valid formset asks to keep: filled in and not deleted."""
    deleted = set(formset.deleted_forms)
    return [
        (form.cleaned_data[key_field], form.cleaned_data[value_field])
        for form in formset.forms
        if form not in deleted and form.cleaned_data.get(key_field)
    ]


class EraseAccountForm(forms.Form):
    """Erasure is confirmed with the account's password."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label="I understand that my account is erased for good and cannot be restored.",
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("This is not your password.", code="wrong_password")
        return password
