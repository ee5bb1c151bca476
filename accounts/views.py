import json

from django.contrib import admin, messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts import throttle
from accounts.forms import (
    BoardFormSet,
    EmailAuthenticationForm,
    EraseAccountForm,
    LicenseFormSet,
    ProfileForm,
    SignupForm,
    formset_pairs,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.models import ProfessionalProfile
from accounts.privacy import erase_account, erasure_plan, export_user_data, export_zip
from accounts.services import register_user, update_profile

TOO_MANY_REQUESTS = 429


def _add_validation_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, by field when the form has that field."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = TOO_MANY_REQUESTS
        return response


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login page (`admin.site.login`, under the same throttle as the site's, via
    `ThrottledAdminAuthenticationForm`), answering 429 while throttled like the site's."""
    response = admin.site.login(request)
    form = (getattr(response, "context_data", None) or {}).get("form")
    if getattr(form, "throttled", False):
        response.status_code = TOO_MANY_REQUESTS
    return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request page, limited per client address like the login page."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs):
        key = throttle.ip_key(throttle.RESET_REQUEST, request)
        seconds = throttle.seconds_blocked(key)
        if seconds:
            form = self.get_form()
            form.is_valid()
            form.add_error(None, throttle.blocked_message(seconds, what="reset requests"))
            response = self.form_invalid(form)
            response.status_code = TOO_MANY_REQUESTS
            return response
        throttle.record_failure(key)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("accounts:password_change_done")


def _safe_next(request: HttpRequest) -> str | None:
    """The page to return to after signing up (e.g. an invitation link), if it is ours."""
    target = request.GET.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else None


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = register_user(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                legal_name=form.cleaned_data["legal_name"],
                degree=form.cleaned_data["degree"],
            )
        except ValidationError as error:
            _add_validation_errors(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome to MedVenue. Please complete your profile.")
            return redirect(_safe_next(request) or "accounts:profile")
    return render(request, "accounts/signup.html", {"form": form})


def _profile_forms(request: AuthenticatedHttpRequest, profile: ProfessionalProfile):
    data = request.POST if request.method == "POST" else None
    return (
        ProfileForm(data, instance=profile, user=request.user),
        LicenseFormSet(data, instance=profile, prefix="licenses"),
        BoardFormSet(data, instance=profile, prefix="boards"),
    )


def _save_profile(request: AuthenticatedHttpRequest, form, licenses, boards) -> bool:
    try:
        update_profile(
            request.user,
            display_name=form.cleaned_data["display_name"],
            profile_data=form.cleaned_data,
            licenses=formset_pairs(licenses, "state", "number"),
            boards=formset_pairs(boards, "board", "board_id"),
        )
    except ValidationError as error:
        _add_validation_errors(form, error)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    instance = ProfessionalProfile.objects.filter(user=request.user).first()
    form, licenses, boards = _profile_forms(request, instance or ProfessionalProfile())
    if request.method == "POST":
        all_valid = all([form.is_valid(), licenses.is_valid(), boards.is_valid()])
        if all_valid and _save_profile(request, form, licenses, boards):
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    context = {"form": form, "licenses": licenses, "boards": boards}
    return render(request, "accounts/profile.html", context)


@never_cache
@login_required
@require_GET
def export(request: AuthenticatedHttpRequest) -> HttpResponse:
    data = export_user_data(request.user)
    stamp = timezone.now().strftime("%Y%m%d")
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="medvenue-my-data-{stamp}.json"'
    return response


@never_cache
@login_required
@require_GET
def export_archive(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The JSON export and the person's certificate PDFs in one zip."""
    stamp = timezone.now().strftime("%Y%m%d")
    response = HttpResponse(export_zip(request.user), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="medvenue-my-data-{stamp}.zip"'
    return response


@never_cache
@login_required
@require_GET
def my_data(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "accounts/my_data.html")


@login_required
@require_http_methods(["POST"])
def reminders(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The profile's "E-mail me before sessions in my agenda" switch."""
    enabled = request.POST.get("agenda_reminder_emails") == "on"
    if request.user.agenda_reminder_emails != enabled:
        request.user.agenda_reminder_emails = enabled
        request.user.save(update_fields=["agenda_reminder_emails"])
    messages.success(
        request,
        "Reminder e-mails are on." if enabled else "Reminder e-mails are off.",
    )
    return redirect("accounts:profile")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def erase(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What erasure removes and keeps (with reasons and periods); confirmed by password."""
    form = EraseAccountForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        erase_account(request.user)
        logout(request)
        return render(request, "accounts/erased.html")
    return render(request, "accounts/erase.html", {"form": form, "plan": erasure_plan()})
