"""The venue half of the layout manifest: halls, placements and zones as JSON-ready data.

`conference.services.venue_manifest` adds the event, the page URLs and the sessions on now.
The shape is documented in docs/venue-manifest.md.
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from venues.models import Hall, HallKind, Placement, PlacementKind, Venue, Zone
from venues.validation import layout_halls
from venues.validators import clean_placement_props, clean_polygon, clean_zone_props


def serialize_venue_layout(venue: Venue, *, halls: list[Hall] | None = None) -> dict[str, Any]:
    """{"lobby": slug, "halls": [...]} for the venue's current (saved) layout."""
    halls = layout_halls(venue) if halls is None else halls
    lobby = next((hall.slug for hall in halls if hall.kind == HallKind.LOBBY), "")
    return {"lobby": lobby, "halls": [serialize_hall(hall) for hall in halls]}


def _number(value: Decimal | float | int) -> float:
    return round(float(value), 3)


def serialize_hall(hall: Hall) -> dict[str, Any]:
    return {
        "id": hall.pk,
        "slug": hall.slug,
        "name": hall.name,
        "kind": hall.kind,
        "width": _number(hall.width_m),
        "depth": _number(hall.depth_m),
        "boundary": [[_number(x), _number(z)] for x, z in hall.outline()],
        "capacity": hall.capacity,
        "description": hall.description,
        "shell": hall.shell_model.name if hall.shell_model else "",
        "placements": [serialize_placement(p) for p in hall.placements.all()],
        "zones": [data for zone in hall.zones.all() if (data := serialize_zone(zone))],
    }


def serialize_placement(placement: Placement) -> dict[str, Any]:
    return {
        "id": placement.pk,
        "kind": placement.kind,
        "label": placement.label,
        "x": _number(placement.x),
        "z": _number(placement.z),
        "yaw": _number(placement.yaw),
        "width": _number(placement.width),
        "depth": _number(placement.depth),
        "height": _number(placement.height),
        "props": _placement_props(placement),
    }


def _placement_props(placement: Placement) -> dict[str, Any]:
    """Checked props; an unpublished draft may hold bad ones, passed on as they are."""
    try:
        props = clean_placement_props(placement.kind, placement.props)
    except (ValidationError, KeyError):
        props = dict(placement.props) if isinstance(placement.props, dict) else {}
    if placement.kind == PlacementKind.PORTAL:
        target = placement.target_hall
        props["target_hall"] = target.slug if target else ""
    return props


def serialize_zone(zone: Zone) -> dict[str, Any] | None:
    """The zone, or None when an unpublished draft holds one with an unusable outline."""
    try:
        polygon = clean_polygon(zone.polygon)
        props = clean_zone_props(zone.kind, zone.props)
    except (ValidationError, KeyError):
        return None
    return {
        "id": zone.pk,
        "kind": zone.kind,
        "label": zone.label,
        "polygon": [[_number(x), _number(z)] for x, z in polygon],
        "props": props,
    }
