"""The SVG floor plan of a hall: admin preview, mini-map and the accessible 2D map.

Drawn from the saved layout in the hall's own metres (x to the right, z down the page, so the
front of the hall is at the top). Every text is XML-escaped; portals become links when `links`
gives a URL for the hall they lead to.
"""

import math
from collections import Counter
from xml.sax.saxutils import escape, quoteattr

from django.core.exceptions import ValidationError

from venues import geometry
from venues.models import Hall, Placement, PlacementKind, RoomKind, Zone
from venues.validators import clean_placement_props, clean_polygon

MARGIN = 1.0
SVG_NS = "http://www.w3.org/2000/svg"
STYLE = """
.fp-floor{fill:#f8fafc;stroke:#334155;stroke-width:.15}
.fp-zone{fill-opacity:.16;stroke-width:.06;stroke-dasharray:.3 .2}
.fp-zone-podium{fill:#f59e0b;stroke:#b45309}
.fp-zone-audience{fill:#3b82f6;stroke:#1d4ed8}
.fp-zone-restricted{fill:#ef4444;stroke:#b91c1c}
.fp-zone-quiet{fill:#10b981;stroke:#047857}
.fp-zone-capacity{fill:#8b5cf6;stroke:#6d28d9}
.fp-item{stroke-width:.06}
.fp-stage{fill:#78350f;stroke:#451a03}
.fp-screen{fill:#0f172a;stroke:#020617}
.fp-seat-block{fill:#e2e8f0;stroke:#64748b}
.fp-seat{fill:#475569}
.fp-booth{fill:#fde68a;stroke:#b45309}
.fp-kiosk{fill:#a5f3fc;stroke:#0e7490}
.fp-poster-board{fill:#fbcfe8;stroke:#9d174d}
.fp-portal{fill:#a78bfa;stroke:#5b21b6}
.fp-spawn{fill:#22c55e;stroke:#14532d}
.fp-meeting-room{fill:#ccfbf1;stroke:#0f766e;stroke-dasharray:.25 .12}
.fp-label{font-family:system-ui,sans-serif;fill:#0f172a;text-anchor:middle;dominant-baseline:central}
.fp-zone-label{font-style:italic;fill:#334155}
a .fp-portal:hover,a:focus .fp-portal{fill:#7c3aed}
"""


def _n(value) -> str:
    """A coordinate with at most three decimals and no trailing zeros."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _points(points) -> str:
    return " ".join(f"{_n(x)},{_n(z)}" for x, z in points)


def render_floor_plan_svg(
    hall: Hall, *, links: dict[str, str] | None = None, title: str | None = None
) -> str:
    """The hall's floor plan as a standalone, accessible SVG document (a string)."""
    links = links or {}
    placements = list(hall.placements.select_related("target_hall").order_by("order", "id"))
    zones = list(hall.zones.order_by("order", "id"))
    outline = hall.outline()
    xs, zs = [p[0] for p in outline], [p[1] for p in outline]
    min_x, min_z = min(xs) - MARGIN, min(zs) - MARGIN
    width, depth = max(xs) - min(xs) + 2 * MARGIN, max(zs) - min(zs) + 2 * MARGIN
    font = max(0.35, min(width, depth) / 45)
    area = geometry.bounds(outline)
    ident = f"floorplan-{hall.pk or 'new'}"
    heading = title or f"Floor plan of {hall.name}"
    parts = [
        f'<svg xmlns="{SVG_NS}" viewBox="{_n(min_x)} {_n(min_z)} {_n(width)} {_n(depth)}" '
        f'role="{"group" if links else "img"}" aria-labelledby="{ident}-title {ident}-desc" '
        f'class="floor-plan" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<title id="{ident}-title">{escape(heading)}</title>',
        f'<desc id="{ident}-desc">{escape(describe_hall(hall, placements, zones))}</desc>',
        f"<style>{STYLE}</style>",
        f'<polygon class="fp-floor" points="{_points(outline)}"/>',
        '<g class="fp-zones">',
        *(_zone(zone, font) for zone in zones),
        "</g>",
        '<g class="fp-placements">',
        *(_placement(p, links, font) for p in placements),
        "</g>",
        '<g class="fp-labels" aria-hidden="true">',
        *(_label(p, font, area) for p in placements if p.kind != PlacementKind.SPAWN),
        "</g>",
        "</svg>",
    ]
    return "\n".join(parts)


ROOM_NAMES = {kind.value: kind.label.lower() for kind in RoomKind}
KIND_NAMES: dict[str, tuple[str, str]] = {
    PlacementKind.STAGE: ("stage", "stages"),
    PlacementKind.SCREEN: ("screen", "screens"),
    PlacementKind.SEAT_BLOCK: ("seat block", "seat blocks"),
    PlacementKind.BOOTH: ("exhibitor booth", "exhibitor booths"),
    PlacementKind.PORTAL: ("portal", "portals"),
    PlacementKind.KIOSK: ("information kiosk", "information kiosks"),
    PlacementKind.POSTER_BOARD: ("poster board", "poster boards"),
    PlacementKind.SPAWN: ("entrance", "entrances"),
    PlacementKind.MEETING_ROOM: ("meeting room", "meeting rooms"),
}


def describe_hall(hall: Hall, placements: list[Placement], zones: list[Zone]) -> str:
    """A sentence or two for screen readers: size, what stands where, where portals lead."""
    counts = Counter(p.kind for p in placements)
    things = [
        f"{count} {KIND_NAMES[kind][0 if count == 1 else 1]}"
        for kind, count in counts.items()
        if kind in KIND_NAMES
    ]
    seats = sum(p.seat_count for p in placements)
    text = f"{hall.name}, {_n(hall.width_m)} by {_n(hall.depth_m)} metres, front at the top."
    if hall.description:
        text += f" {hall.description}"
    if things:
        text += " Contains " + ", ".join(things) + "."
    if seats:
        text += f" {seats} seats."
    targets = [p.target_hall.name for p in placements if p.target_hall_id and p.target_hall]
    if targets:
        text += " Portals lead to " + ", ".join(targets) + "."
    if zones:
        text += " Zones: " + ", ".join(f"{z.label} ({z.get_kind_display()})" for z in zones) + "."
    return text


def _zone(zone: Zone, font: float) -> str:
    try:
        points = clean_polygon(zone.polygon)
    except ValidationError:
        return ""
    cx = sum(p[0] for p in points) / len(points)
    cz = sum(p[1] for p in points) / len(points)
    name = f"{zone.label} ({zone.get_kind_display()} zone)"
    return (
        f'<g class="fp-zone-group"><polygon class="fp-zone fp-zone-{zone.kind}" '
        f'points="{_points(points)}"><title>{escape(name)}</title></polygon>'
        f'<text class="fp-label fp-zone-label" x="{_n(cx)}" y="{_n(cz)}" '
        f'font-size="{_n(font * 0.85)}" aria-hidden="true">{escape(zone.label)}</text></g>'
    )


def _transform(placement: Placement) -> str:
    # Yaw turns counter-clockwise seen from above; on the page (z down) that is a negative angle.
    return f"translate({_n(placement.x)} {_n(placement.z)}) rotate({_n(-float(placement.yaw))})"


def _placement(placement: Placement, links: dict[str, str], font: float) -> str:
    css = placement.kind.replace("_", "-")
    w, d = float(placement.width), float(placement.depth)
    tooltip = _tooltip(placement)
    if placement.kind == PlacementKind.SPAWN:
        body = _spawn_shape(font)
    else:
        body = (
            f'<rect class="fp-item fp-{css}" x="{_n(-w / 2)}" y="{_n(-d / 2)}" '
            f'width="{_n(w)}" height="{_n(d)}"/>'
        )
    if placement.kind == PlacementKind.SEAT_BLOCK:
        body += _seats(placement)
    group = (
        f'<g class="fp-placement fp-placement-{css}" transform="{_transform(placement)}">'
        f"<title>{escape(tooltip)}</title>{body}</g>"
    )
    target = placement.target_hall
    url = links.get(target.slug) if placement.kind == PlacementKind.PORTAL and target else None
    if url:
        return f"<a href={quoteattr(url)} aria-label={quoteattr(tooltip)}>{group}</a>"
    return group


def _spawn_shape(font: float) -> str:
    r = max(0.25, font * 0.45)
    return (
        f'<circle class="fp-item fp-spawn" r="{_n(r)}"/>'
        f'<path class="fp-item fp-spawn" d="M0 {_n(-r * 2)} L{_n(r * 0.6)} {_n(-r * 0.9)} '
        f'L{_n(-r * 0.6)} {_n(-r * 0.9)} Z"/>'
    )


def _tooltip(placement: Placement) -> str:
    props = placement.props if isinstance(placement.props, dict) else {}
    kind = placement.get_kind_display()
    if placement.kind == PlacementKind.PORTAL and placement.target_hall:
        return f"{placement.label}: portal to {placement.target_hall.name}"
    if placement.kind == PlacementKind.SEAT_BLOCK:
        return f"{placement.label}: {placement.seat_count} seats"
    if placement.kind == PlacementKind.BOOTH and props.get("exhibitor"):
        return f"{placement.label}: booth of {props['exhibitor']}"
    if placement.kind == PlacementKind.POSTER_BOARD and props.get("title"):
        authors = f" — {props['authors']}" if props.get("authors") else ""
        return f"{placement.label}: {props['title']}{authors}"
    if placement.kind == PlacementKind.MEETING_ROOM:
        return _room_tooltip(placement)
    if placement.kind == PlacementKind.KIOSK and props.get("text"):
        return f"{placement.label} (kiosk): {props['text']}"
    return f"{placement.label} ({kind})"


def _room_tooltip(placement: Placement) -> str:
    try:
        props = clean_placement_props(placement.kind, placement.props)
    except ValidationError:
        return f"{placement.label} (meeting room)"
    return f"{placement.label}: {ROOM_NAMES[props['room']]}, up to {props['capacity']} people"


def _seats(placement: Placement) -> str:
    """The seats as a pattern of small squares, one per seat, filling the seated area."""
    try:
        props = clean_placement_props(placement.kind, placement.props)
    except ValidationError:
        return ""
    rows, columns = props["rows"], props["columns"]
    row_spacing, seat_spacing = props["row_spacing"], props["seat_spacing"]
    area_w, area_d = columns * seat_spacing, rows * row_spacing
    ident = f"fp-seats-{placement.pk or id(placement)}"
    seat = min(seat_spacing, row_spacing) * 0.7
    return (
        f'<defs><pattern id="{ident}" patternUnits="userSpaceOnUse" x="{_n(-area_w / 2)}" '
        f'y="{_n(-area_d / 2)}" width="{_n(seat_spacing)}" height="{_n(row_spacing)}">'
        f'<rect class="fp-seat" x="{_n((seat_spacing - seat) / 2)}" '
        f'y="{_n((row_spacing - seat) / 2)}" width="{_n(seat)}" height="{_n(seat)}" rx="0.05"/>'
        f"</pattern></defs>"
        f'<rect x="{_n(-area_w / 2)}" y="{_n(-area_d / 2)}" width="{_n(area_w)}" '
        f'height="{_n(area_d)}" fill="url(#{ident})"/>'
    )


CENTRED_LABELS = frozenset({PlacementKind.STAGE, PlacementKind.BOOTH})


def _label(placement: Placement, font: float, area: tuple[float, float, float, float]) -> str:
    """The label at the placement's centre, or beside it on the side facing the hall's middle."""
    size = font * (
        0.75 if placement.kind in (PlacementKind.POSTER_BOARD, PlacementKind.KIOSK) else 1
    )
    x, z = float(placement.x), float(placement.z)
    half = len(placement.label) * size * 0.28
    if placement.kind not in CENTRED_LABELS:
        angle = math.radians(float(placement.yaw))
        axis_x, axis_z = math.sin(angle), math.cos(angle)
        side = -1.0 if (-x * axis_x - z * axis_z) < 0 else 1.0
        offset = side * (float(placement.depth) / 2 + size * 0.8 + half * abs(axis_x))
        x, z = x + axis_x * offset, z + axis_z * offset
    min_x, min_z, max_x, max_z = area
    x = min(max(x, min_x + half), max_x - half) if max_x - min_x > 2 * half else x
    z = min(max(z, min_z + size), max_z - size)
    return (
        f'<text class="fp-label" x="{_n(x)}" y="{_n(z)}" '
        f'font-size="{_n(size)}">{escape(placement.label)}</text>'
    )
