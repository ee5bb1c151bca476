"""GET /api/events/<event_slug>/venue/: the layout manifest the browser venue renders.

Access follows the venue contract: login (401), then an active registration for a published
event (403), or staff of the event's organizer, or a superuser. Unknown and unpublished events
are 404 to everyone else. Organizer staff may add `?draft=1` to preview the unpublished layout.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from conference.models import Event, Registration
from conference.services.organizers import organizers_viewable_by
from conference.services.venue_manifest import VenueMissing, prepare_venue_manifest

CACHE_CONTROL = "private, max-age=15"


def _error(status: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Session realm="MedVenue"'
    return response


def _is_organizer_staff(user, event: Event) -> bool:
    return organizers_viewable_by(user).filter(pk=event.organizer_id).exists()


def _is_registered(user, event: Event) -> bool:
    return Registration.objects.active().filter(user=user, event=event).exists()


def _etag_matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if header.strip() == "*":
        return True
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in candidates


def _cached(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, ["Cookie"])
    return response


@require_safe
def venue_manifest(request: HttpRequest, event_slug: str) -> HttpResponse:
    event = Event.objects.select_related("venue").filter(slug=event_slug).first()
    if event is None or not (event.is_published or request.user.is_authenticated):
        return _error(404, "not_found", "No event matches this address.")
    if not request.user.is_authenticated:
        return _error(401, "not_authenticated", "Log in to enter the venue.")
    staff = _is_organizer_staff(request.user, event)
    if not staff and not event.is_published:
        return _error(404, "not_found", "No event matches this address.")
    if not staff and not _is_registered(request.user, event):
        return _error(403, "not_registered", "Register for this event to enter its venue.")
    draft = staff and request.GET.get("draft") == "1"
    try:
        prepared = prepare_venue_manifest(event, draft=draft)
    except VenueMissing:
        return _error(404, "no_venue", "This event has no venue yet; check back later.")
    if _etag_matches(request, prepared.etag):
        return _cached(HttpResponse(status=304), prepared.etag)
    return _cached(JsonResponse(prepared.render()), prepared.etag)
