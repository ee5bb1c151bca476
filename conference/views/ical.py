"""iCalendar downloads: one event's program, and the sessions of the user's events."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache

from conference.models import Event, RegistrationStatus, Session
from conference.services.ical import build_calendar, calendar_filename, sessions_for_calendar


def event_schedule_ics(request, event_slug):
    event = get_object_or_404(Event.objects.published(), slug=event_slug)
    sessions = sessions_for_calendar(event.sessions.order_by("starts_at", "title"))
    body = build_calendar(sessions, name=event.title, url_for=_absolute_url(request))
    return _calendar_response(body, filename=calendar_filename(f"{event.slug}-schedule"))


@never_cache
@login_required
def my_schedule_ics(request):
    sessions = Session.objects.filter(
        event__is_published=True,
        event__registrations__user=request.user,
        event__registrations__status=RegistrationStatus.ACTIVE,
    ).order_by("starts_at", "title")
    body = build_calendar(
        sessions_for_calendar(sessions), name="My MedVenue schedule", url_for=_absolute_url(request)
    )
    return _calendar_response(body, filename=calendar_filename("my-medvenue-schedule"))


def _absolute_url(request):
    return lambda session: request.build_absolute_uri(session.get_absolute_url())


def _calendar_response(body: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
