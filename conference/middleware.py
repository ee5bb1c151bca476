"""Show times in the event's time zone on every page that belongs to an event."""

import zoneinfo

from django.utils import timezone

from conference.models import Event


class EventTimezoneMiddleware:
    """Activate the time zone of the event named by the URL's `event_slug`, else UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("event_slug")
        if not slug:
            return None
        tz_name = Event.objects.filter(slug=slug).values_list("timezone", flat=True).first()
        if tz_name:
            timezone.activate(zoneinfo.ZoneInfo(tz_name))
        return None
