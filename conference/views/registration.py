"""Register for an event and cancel, through the registration services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from conference.models import Event, Registration
from conference.services.refusals import Refused
from conference.services.registrations import (
    cancel_registration,
    register_attendee,
)


@login_required
@require_http_methods(["GET", "POST"])
def register(request, event_slug):
    """POST registers; a GET (e.g. back from the login page) returns to the event page."""
    event = get_object_or_404(Event.objects.published(), slug=event_slug)
    if request.method == "POST":
        try:
            register_attendee(event, request.user)
        except Refused as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"You are registered for {event.title}.")
    return redirect(event)


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request, registration_id):
    """POST cancels the user's own registration; other people's do not exist for them (404)."""
    registration = get_object_or_404(
        Registration.objects.select_related("event"), pk=registration_id, user=request.user
    )
    if request.method == "POST":
        try:
            cancel_registration(registration)
        except Refused as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"Your registration for {registration.event.title} is cancelled."
            )
    return redirect(_next_url(request, default=reverse("conference:my-events")))


def _next_url(request, *, default: str) -> str:
    target = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else default
