"""Meeting rooms: the rooms of a hall, one room's page, and its JSON endpoints (docs/rooms.md).

Every endpoint re-checks access through `conference.services.media.rooms` (the hall's checks,
then the room's); a refusal is `{"error": message}` with the status the service chose.
"""

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from conference.models import Event
from conference.services.media import rooms as service
from conference.services.media.config import INSTALL_HINT, media_enabled
from conference.services.media.stage import MediaRefused
from conference.views.refusals import http_status, json_body, json_refusals
from conference.views.venue import _guard, venue_manifest
from venues.models import Hall

MAX_BODY_BYTES = 8192
ACTIONS = {"mute", "unmute", "remove", "lock", "unlock"}


def _hall(event, hall_slug: str) -> Hall:
    return get_object_or_404(Hall, venue=event.venue_id, slug=hall_slug)


def _published_ids(event, hall_slug: str) -> set[int]:
    manifest = venue_manifest(event)
    hall = next((h for h in manifest["halls"] if h["slug"] == hall_slug), None)
    if hall is None:
        raise Http404("This venue has no hall at this address.")
    return {p["id"] for p in hall["placements"] if p["kind"] == "meeting_room"}


def _body(request) -> dict:
    return json_body(request, max_bytes=MAX_BODY_BYTES)


def _user_id(data: dict) -> int:
    value = data.get("user")
    if isinstance(value, bool) or not isinstance(value, int):
        raise MediaRefused("`user` is the id of a person in the room.", code="invalid")
    return value


def _resolve(request, event_slug: str, hall_slug: str, room_id: int):
    """(room, access) for a JSON endpoint, or MediaRefused."""
    event = Event.objects.filter(slug=event_slug).select_related("venue").first()
    if event is None or event.venue_id is None:
        raise MediaRefused("No event matches this address.", code="not_found")
    hall = Hall.objects.filter(venue=event.venue_id, slug=hall_slug).first()
    if hall is None:
        raise MediaRefused("This venue has no hall at this address.", code="not_found")
    room = service.get_room(hall, room_id)
    return room, service.room_access(request.user, room, event_slug=event_slug)


def _endpoint(handler):
    """Run `handler(request, room, access, data)`; refusals become JSON errors."""

    @json_refusals
    def view(request, event_slug: str, hall_slug: str, room_id: int):
        room, access = _resolve(request, event_slug, hall_slug, room_id)
        data = _body(request) if request.method == "POST" else {}
        return JsonResponse(handler(request, room, access, data) or {"ok": True})

    view.__name__ = handler.__name__
    return never_cache(view)


def _room_links(event_slug: str, hall_slug: str, room_id: int) -> dict[str, str]:
    base = reverse(
        "venue:room",
        kwargs={"event_slug": event_slug, "hall_slug": hall_slug, "room_id": room_id},
    )
    names = ("join", "leave", "renew", "state", "chat", "queue", "admit", "end_slot", "note")
    links = {f"{name}_url": f"{base}{name.replace('_', '-')}/" for name in names}
    links["moderate_url"] = base + "moderate/"
    links["report_url"] = base + "report/"
    links["list_url"] = reverse(
        "venue:rooms", kwargs={"event_slug": event_slug, "hall_slug": hall_slug}
    )
    return links


def listed_rooms(event, hall_slug: str, manifest: dict | None = None) -> list[dict]:
    """The hall's published meeting rooms with who is in each."""
    manifest = manifest or venue_manifest(event)
    if not any(h["slug"] == hall_slug for h in manifest["halls"]):
        raise Http404("This venue has no hall at this address.")
    return service.listed_rooms(event, hall_slug, manifest)


@require_safe
@never_cache
def rooms(request, event_slug: str, hall_slug: str):
    """The rooms of a hall with who is in each and how full it is (HTML, or JSON with
    `?format=json` for the room page's list)."""
    event, denied = _guard(request, event_slug)
    if denied:
        return denied
    hall = _hall(event, hall_slug)
    listed = listed_rooms(event, hall_slug)
    if request.GET.get("format") == "json":
        return JsonResponse({"hall": hall.name, "rooms": listed})
    return render(
        request,
        "rooms/list.html",
        {"event": event, "hall": hall, "rooms": listed, "media_on": media_enabled()},
    )


@require_safe
@never_cache
def room(request, event_slug: str, hall_slug: str, room_id: int):
    event, denied = _guard(request, event_slug)
    if denied:
        return denied
    hall = _hall(event, hall_slug)
    if room_id not in _published_ids(event, hall_slug):
        raise Http404("This hall has no such room.")
    try:
        meeting = service.get_room(hall, room_id)
        access = service.room_access(request.user, meeting, event_slug=event_slug)
    except MediaRefused as error:
        return render(
            request,
            "rooms/forbidden.html",
            {"event": event, "hall": hall, "reason": error.message},
            status=status if (status := http_status(error)) in (401, 403, 404) else 403,
        )
    config = {
        "room": meeting.placement.pk,
        "label": meeting.label,
        "kind": meeting.kind,
        "capacity": meeting.capacity,
        "is_host": access.is_host,
        "name": access.name,
        "media": media_enabled(),
        **_room_links(event_slug, hall_slug, room_id),
    }
    context = {
        "event": event,
        "hall": hall,
        "room": meeting,
        "kind_label": service.KIND_LABELS.get(meeting.kind, meeting.kind),
        "host_times": service.host_times(meeting, zone=event.tzinfo),
        "access": access,
        "media_on": media_enabled(),
        "install_hint": INSTALL_HINT,
        "note": service.get_note(access, meeting),
        "room_config": config,
        "hall_url": reverse(
            "venue:hall", kwargs={"event_slug": event_slug, "hall_slug": hall_slug}
        ),
    }
    return render(request, "rooms/room.html", context)


@require_POST
@_endpoint
def join(request, room, access, data):
    return service.join_room(access, room)


@require_POST
@_endpoint
def leave(request, room, access, data):
    service.leave_room(access, room)


@require_POST
@_endpoint
def renew(request, room, access, data):
    return service.renew_room_token(access, room)


@require_safe
@_endpoint
def state(request, room, access, data):
    since = request.GET.get("since", "0")
    return service.room_state(access, room, since=int(since) if since.isdigit() else 0)


@require_POST
@_endpoint
def chat(request, room, access, data):
    message = service.post_message(access, room, text=str(data.get("text", "")))
    return {"id": message.pk}


@require_POST
@_endpoint
def queue(request, room, access, data):
    action = data.get("action")
    if action == "request":
        return service.request_slot(access, room)
    if action == "leave":
        return service.leave_queue(access, room)
    raise MediaRefused("`action` is request or leave.", code="invalid")


@require_POST
@_endpoint
def admit(request, room, access, data):
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int):
        raise MediaRefused("`count` is a number of people.", code="invalid")
    return service.admit(access, room, count=count)


@require_POST
@_endpoint
def end_slot(request, room, access, data):
    return service.end_slot(access, room, user_id=_user_id(data))


@require_http_methods(["GET", "POST"])
@_endpoint
def note(request, room, access, data):
    if request.method == "POST":
        text = data.get("text", "")
        if not isinstance(text, str):
            raise MediaRefused("`text` is the note's text.", code="invalid")
        service.save_note(access, room, text=text)
    return {"text": service.get_note(access, room)}


@require_POST
@_endpoint
def moderate(request, room, access, data):
    action = data.get("action")
    if action not in ACTIONS:
        raise MediaRefused(f"`action` is one of {', '.join(sorted(ACTIONS))}.", code="invalid")
    if action in ("lock", "unlock"):
        service.set_locked(access, room, locked=action == "lock")
    elif action == "remove":
        service.remove(access, room, user_id=_user_id(data))
    else:
        service.mute(access, room, user_id=_user_id(data), muted=action == "mute")


@require_POST
@_endpoint
def report(request, room, access, data):
    filed = service.report_room(access, room, reason=str(data.get("reason", "")))
    return {"id": filed.pk}
