"""The venue pages: the 3D lobby and halls, each with its server-rendered 2D twin.

Both views read the same layout manifest the browser renders (and embed it in the page, which
saves the browser a request), so the 3D venue and its accessible twin never disagree.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from conference.models import Event, Registration
from conference.services.media import rooms as rooms_service
from conference.services.organizers import organizers_viewable_by
from conference.services.recordings.watching import hall_recordings, hall_screen_recording
from conference.services.venue_manifest import build_venue_manifest
from venues.floorplan import render_floor_plan_svg
from venues.models import Hall

KIND_LABELS = {
    "lobby": "Lobby",
    "auditorium": "Auditorium",
    "poster_hall": "Poster hall",
    "exhibit_hall": "Exhibit hall",
    "lounge": "Lounge",
}


@dataclass
class TwinSession:
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    speakers: list[str]
    page_url: str
    has_stream: bool


@dataclass
class TwinHall:
    slug: str
    name: str
    kind: str
    kind_label: str
    description: str
    capacity: int
    page_url: str
    map_url: str
    now: TwinSession | None
    next: TwinSession | None
    portals: list[dict] = field(default_factory=list)
    booths: list[dict] = field(default_factory=list)
    posters: list[dict] = field(default_factory=list)
    kiosks: list[dict] = field(default_factory=list)
    seats: int = 0


def _is_organizer_staff(user, event: Event) -> bool:
    return organizers_viewable_by(user).filter(pk=event.organizer_id).exists()


def _has_active_registration(user, event: Event) -> bool:
    return Registration.objects.active().filter(user=user, event=event).exists()


def _guard(request, event_slug: str):
    """Return (event, None) when the user may enter the venue, else (None, response).

    The rule of the venue contract: login, then an active registration for a published event,
    or membership of the organizer's staff, or superuser.
    """
    event = get_object_or_404(Event.objects.select_related("venue", "organizer"), slug=event_slug)
    if not request.user.is_authenticated:
        return None, redirect_to_login(request.get_full_path())
    staff = _is_organizer_staff(request.user, event)
    if not event.is_published and not staff:
        raise Http404("No event matches this address.")
    if not staff and not _has_active_registration(request.user, event):
        return None, render(request, "venue/forbidden.html", {"event": event}, status=403)
    if event.venue_id is None:
        return None, render(request, "venue/no_venue.html", {"event": event}, status=404)
    return event, None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _twin_session(data: dict | None) -> TwinSession | None:
    if not data:
        return None
    return TwinSession(
        title=data.get("title", ""),
        starts_at=_parse_time(data.get("starts_at")),
        ends_at=_parse_time(data.get("ends_at")),
        speakers=list(data.get("speakers") or []),
        page_url=data.get("page_url", ""),
        has_stream=bool(data.get("stream_url")),
    )


def _seat_count(placement: dict) -> int:
    props = placement.get("props") or {}
    return int(props.get("rows") or 0) * int(props.get("columns") or 0)


def _twin_hall(data: dict, page_urls: dict[str, str], names: dict[str, str]) -> TwinHall:
    by_kind: dict[str, list[dict]] = {}
    for placement in data.get("placements") or []:
        by_kind.setdefault(placement.get("kind"), []).append(placement)
    portals = []
    for portal in by_kind.get("portal", []):
        target = (portal.get("props") or {}).get("target_hall", "")
        if target in page_urls:
            portals.append(
                {"label": portal.get("label") or names[target], "url": page_urls[target]}
            )
    return TwinHall(
        slug=data["slug"],
        name=data["name"],
        kind=data.get("kind", ""),
        kind_label=KIND_LABELS.get(data.get("kind", ""), data.get("kind", "")),
        description=data.get("description") or "",
        capacity=int(data.get("capacity") or 0),
        page_url=data["page_url"],
        map_url=data.get("map_url") or "",
        now=_twin_session(data.get("now")),
        next=_twin_session(data.get("next")),
        portals=portals,
        booths=by_kind.get("booth", []),
        posters=by_kind.get("poster_board", []),
        kiosks=by_kind.get("kiosk", []),
        seats=sum(_seat_count(p) for p in by_kind.get("seat_block", [])),
    )


def _twin_halls(manifest: dict) -> list[TwinHall]:
    page_urls = {h["slug"]: h["page_url"] for h in manifest["halls"]}
    names = {h["slug"]: h["name"] for h in manifest["halls"]}
    return [_twin_hall(h, page_urls, names) for h in manifest["halls"]]


def _render_venue(request, event: Event, manifest: dict, hall_slug: str):
    halls = _twin_halls(manifest)
    current = next((h for h in halls if h.slug == hall_slug), None)
    if current is None:
        raise Http404("This venue has no hall at this address.")
    screen = _screen_recording(request, event, manifest, current)
    listed = _hall_recordings(request, event, manifest, current)
    context = {
        "event": event,
        "manifest": manifest,
        "hall_recording": screen,
        "hall_recordings": listed,
        "hall_recording_media": _recording_media(screen, listed),
        "halls": halls,
        "on_now": [h for h in halls if h.now],
        "hall": current,
        "is_lobby": hall_slug == manifest.get("lobby"),
        "lobby_url": reverse("venue:lobby", kwargs={"event_slug": event.slug}),
        "manifest_url": reverse("venue-api:manifest", kwargs={"event_slug": event.slug}),
        "floor_plan_svg": floor_plan_svg(event, hall_slug, manifest),
        "hall_rooms": _hall_rooms(event, hall_slug, manifest),
    }
    return render(request, "venue/hall.html", context)


def _hall_rooms(event: Event, hall_slug: str, manifest: dict) -> list[dict]:
    return rooms_service.listed_rooms(event, hall_slug, manifest)


def _screen_recording(request, event: Event, manifest: dict, hall: TwinHall) -> dict | None:
    """The recording the hall's screen plays for this viewer: only when no session is on now."""
    if hall.now is not None or hall.kind == "lobby":
        return None
    hall_id = next(h["id"] for h in manifest["halls"] if h["slug"] == hall.slug)
    return hall_screen_recording(event, hall_id, user=request.user, moment=timezone.now())


def _recording_media(screen: dict | None, listed: list[dict]) -> dict[str, dict]:
    """Captions and chapters of each playable recording by id, for the panel's player (JSON)."""
    entries = ([screen] if screen else []) + listed
    return {
        str(entry["id"]): {"captions": entry["captions"], "chapters": entry["chapters"]}
        for entry in reversed(entries)  # the screen's own entry wins for its id
    }


def _hall_recordings(request, event: Event, manifest: dict, hall: TwinHall) -> list[dict]:
    """The hall's earlier recordings this viewer may watch ("Play here" works even while live)."""
    if hall.kind == "lobby":
        return []
    hall_id = next(h["id"] for h in manifest["halls"] if h["slug"] == hall.slug)
    return hall_recordings(event, hall_id, user=request.user, moment=timezone.now())


@require_safe
def lobby(request, event_slug: str):
    event, denied = _guard(request, event_slug)
    if denied:
        return denied
    manifest = venue_manifest(event)
    return _render_venue(request, event, manifest, manifest.get("lobby") or "")


@require_safe
def hall(request, event_slug: str, hall_slug: str):
    event, denied = _guard(request, event_slug)
    if denied:
        return denied
    return _render_venue(request, event, venue_manifest(event), hall_slug)


@require_safe
def hall_map(request, event_slug: str, hall_slug: str):
    event, denied = _guard(request, event_slug)
    if denied:
        return denied
    manifest = venue_manifest(event)
    if not any(h["slug"] == hall_slug for h in manifest["halls"]):
        raise Http404("This venue has no hall at this address.")
    svg = floor_plan_svg(event, hall_slug, manifest)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response


# --- The manifest and the floor plan ---------------------------------------------------------


def venue_manifest(event: Event) -> dict:
    """The layout manifest (version 1) of the event's venue, exactly as the browser receives it."""
    return build_venue_manifest(event)


def floor_plan_svg(event: Event, hall_slug: str, manifest: dict) -> str:
    """The hall's SVG floor plan, its portals linked to the pages of the halls they lead to."""
    links = {h["slug"]: h["page_url"] for h in manifest["halls"]}
    hall = get_object_or_404(Hall, venue=event.venue_id, slug=hall_slug)
    return render_floor_plan_svg(hall, links=links)
