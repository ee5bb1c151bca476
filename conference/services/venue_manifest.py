"""The venue layout manifest (version 1): where the venue layer meets the event layer.

The layout comes from `venues` (the published snapshot, or the live tables for a draft); the
event, the page URLs and each hall's session on now and next come from `conference`. The shape
is documented in docs/venue-manifest.md.

Preparing a manifest costs a constant number of queries however many halls, placements and
sessions there are: the venue row (usually joined to the event), one query for now/next ids,
and two for those sessions with their speakers.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from conference.models import Event, Session
from conference.services.refusals import Refused
from venues.manifest import serialize_venue_layout
from venues.models import Hall

MANIFEST_VERSION = 1


class VenueMissing(Refused):
    """The event has no venue, so there is no manifest to build. (code `not_found`)"""

    def __init__(self, message: str) -> None:
        super().__init__("not_found", message)


@dataclass
class PreparedManifest:
    """Everything that decides the manifest's content; cheap to build, so a 304 costs little."""

    event: Event
    layout: dict[str, Any]
    layout_version: int
    draft: bool
    slots: dict[int, tuple[int | None, int | None]]
    moment: datetime

    @property
    def etag(self) -> str:
        slots = ",".join(
            f"{hall}:{now}:{upcoming}" for hall, (now, upcoming) in sorted(self.slots.items())
        )
        parts = [
            str(MANIFEST_VERSION),
            str(self.layout_version),
            slots,
            self.event.updated_at.isoformat(),
        ]
        if self.draft:
            parts.append(_layout_digest(self.layout))
        return '"' + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32] + '"'

    def render(self) -> dict[str, Any]:
        return _render(self)


def prepare_venue_manifest(
    event: Event, *, draft: bool = False, moment: datetime | None = None
) -> PreparedManifest:
    """Gather the layout and the now/next session ids of `event`'s venue.

    Attendees get the published layout. `draft=True` (organizer preview) and a venue that was
    never published use the layout as currently saved; its `layout_version` is then the last
    published one (0 when never published).
    """
    venue = event.venue
    if venue is None:
        raise VenueMissing(f"{event.title} has no venue yet.")
    use_draft = draft or not venue.published_layout
    layout = serialize_venue_layout(venue) if use_draft else venue.published_layout
    moment = moment or timezone.now()
    hall_ids = [hall["id"] for hall in layout.get("halls", [])]
    return PreparedManifest(
        event=event,
        layout=layout,
        layout_version=venue.layout_version,
        draft=use_draft,
        slots=session_slots(event, hall_ids, moment=moment),
        moment=moment,
    )


def build_venue_manifest(
    event: Event, *, draft: bool = False, moment: datetime | None = None
) -> dict[str, Any]:
    """The manifest of `event`'s venue as JSON-ready data."""
    return prepare_venue_manifest(event, draft=draft, moment=moment).render()


def session_slots(
    event: Event, hall_ids: list[int], *, moment: datetime
) -> dict[int, tuple[int | None, int | None]]:
    """Per hall id: (the session on now, the next one to start), as ids, in one query."""
    if not hall_ids:
        return {}
    in_hall = Session.objects.filter(event=event, hall=OuterRef("pk")).order_by("starts_at", "pk")
    on_now = in_hall.filter(starts_at__lte=moment, ends_at__gt=moment)
    upcoming = in_hall.filter(starts_at__gt=moment)
    rows = (
        Hall.objects.filter(pk__in=hall_ids)
        .annotate(
            now_id=Subquery(on_now.values("pk")[:1]),
            next_id=Subquery(upcoming.values("pk")[:1]),
        )
        .values_list("pk", "now_id", "next_id")
    )
    found = {pk: (now_id, next_id) for pk, now_id, next_id in rows}
    return {pk: found.get(pk, (None, None)) for pk in hall_ids}


def _layout_digest(layout: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(layout, sort_keys=True).encode()).hexdigest()[:16]


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _render(prepared: PreparedManifest) -> dict[str, Any]:
    event, venue = prepared.event, prepared.event.venue
    assert venue is not None  # noqa: S101 - prepare_venue_manifest refused an event without one
    sessions = _sessions(event, prepared.slots)
    return {
        "manifest_version": MANIFEST_VERSION,
        "venue": {
            "id": venue.pk,
            "slug": venue.slug,
            "name": venue.name,
            "layout_version": prepared.layout_version,
        },
        "event": {"slug": event.slug, "title": event.title, "timezone": event.timezone},
        "generated_at": _utc(prepared.moment),
        "lobby": prepared.layout.get("lobby", ""),
        "halls": [
            _hall(event, hall, sessions, prepared.slots.get(hall["id"], (None, None)))
            for hall in prepared.layout.get("halls", [])
        ],
    }


def _sessions(
    event: Event, slots: dict[int, tuple[int | None, int | None]]
) -> dict[int, dict[str, Any]]:
    ids = {session_id for pair in slots.values() for session_id in pair if session_id}
    if not ids:
        return {}
    found = Session.objects.filter(pk__in=ids).prefetch_related("speakers")
    return {session.pk: _session(event, session) for session in found}


def _session(event: Event, session: Session) -> dict[str, Any]:
    return {
        "id": session.pk,
        "title": session.title,
        "starts_at": _utc(session.starts_at),
        "ends_at": _utc(session.ends_at),
        # The event zone's abbreviation at the start, as every page shows it ("CET", "CST").
        "zone": session.starts_at.astimezone(event.tzinfo).tzname() or event.timezone,
        "speakers": [str(speaker) for speaker in session.speakers.all()],
        "stream_url": session.stream_url,
        "page_url": reverse(
            "conference:session-detail",
            kwargs={"event_slug": event.slug, "session_id": session.pk},
        ),
    }


def _hall(
    event: Event, hall: dict[str, Any], sessions: dict[int, dict[str, Any]], slot: tuple[Any, ...]
) -> dict[str, Any]:
    now_id, next_id = slot
    kwargs = {"event_slug": event.slug, "hall_slug": hall["slug"]}
    return {
        "id": hall["id"],
        "slug": hall["slug"],
        "name": hall["name"],
        "kind": hall["kind"],
        "width": hall["width"],
        "depth": hall["depth"],
        "boundary": hall["boundary"],
        "capacity": hall["capacity"],
        "description": hall["description"],
        "shell_url": default_storage.url(hall["shell"]) if hall.get("shell") else None,
        "page_url": (
            reverse("venue:lobby", kwargs={"event_slug": event.slug})
            if hall["kind"] == "lobby"
            else reverse("venue:hall", kwargs=kwargs)
        ),
        "map_url": reverse("venue:hall-map", kwargs=kwargs),
        "placements": hall["placements"],
        "zones": hall["zones"],
        "now": sessions.get(now_id),
        "next": sessions.get(next_id),
    }
