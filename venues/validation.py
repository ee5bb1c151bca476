"""Validation of a whole venue layout before it is published.

Each message names the hall and the placement or zone and says what is wrong, so an organizer
can fix it from the message alone. Errors block publishing; warnings are shown but do not.
"""

from collections import deque
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Prefetch

from venues import geometry
from venues.models import Hall, HallKind, Placement, PlacementKind, Venue, Zone
from venues.validators import (
    MAX_SHELL_BYTES,
    ROOM_BOARD_KINDS,
    clean_placement_props,
    clean_polygon,
    clean_zone_props,
)

MAX_PLACEMENTS_PER_HALL = 400
MAX_SEATS_PER_HALL = 2000
SOLID_KINDS = frozenset(
    {
        PlacementKind.STAGE,
        PlacementKind.SCREEN,
        PlacementKind.SEAT_BLOCK,
        PlacementKind.BOOTH,
        PlacementKind.KIOSK,
        PlacementKind.POSTER_BOARD,
    }
)
FIT_TOLERANCE = 0.01


@dataclass
class LayoutReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def extend(self, other: "LayoutReport") -> None:
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)


def layout_halls(venue: Venue) -> list[Hall]:
    """The venue's halls with placements (and portal targets) and zones, in three queries."""
    placements = Placement.objects.select_related("target_hall").order_by("order", "id")
    return list(
        venue.halls.order_by("order", "name", "id").prefetch_related(
            Prefetch("placements", queryset=placements),
            Prefetch("zones", queryset=Zone.objects.order_by("order", "id")),
        )
    )


def validate_venue_layout(venue: Venue, *, halls: list[Hall] | None = None) -> LayoutReport:
    """Everything wrong with the venue's layout: per hall, and the portal graph as a whole."""
    halls = layout_halls(venue) if halls is None else halls
    report = LayoutReport()
    if not halls:
        report.errors.append(f"{venue.name} has no halls yet; add a lobby first.")
        return report
    for hall in halls:
        report.extend(validate_hall_layout(hall))
    report.errors.extend(_lobby_problems(halls))
    return report


def validate_hall_layout(hall: Hall) -> LayoutReport:
    report = LayoutReport()
    report.errors.extend(_hall_problems(hall))
    placements = list(hall.placements.all())
    outline = hall.outline()
    for placement in placements:
        report.errors.extend(_placement_problems(hall, placement, outline))
    report.errors.extend(_overlap_problems(hall, placements))
    for zone in hall.zones.all():
        report.errors.extend(_zone_problems(hall, zone, outline))
    _check_budgets(hall, placements, report)
    if not any(p.kind == PlacementKind.SPAWN for p in placements):
        report.warnings.append(
            f"{hall.name}: no spawn point; visitors will appear in the middle of the floor."
        )
    return report


def _m(value) -> str:
    """Metres for a message: 14 rather than 14.00."""
    return f"{float(value):g}"


def describe(placement: Placement) -> str:
    """How messages name a placement: kind, label and id, e.g. seat block "Stalls" (#12)."""
    name = f'{placement.get_kind_display().lower()} "{placement.label}"'
    return f"{name} (#{placement.pk})" if placement.pk else name


def _hall_problems(hall: Hall) -> list[str]:
    problems: list[str] = []
    if hall.boundary:
        try:
            hall.clean()
        except ValidationError as error:
            problems.extend(f"{hall.name}: {message}" for message in error.messages)
    if hall.shell_model:
        problems.extend(_shell_problems(hall))
    return problems


def _shell_problems(hall: Hall) -> list[str]:
    try:
        size = hall.shell_model.size
    except OSError:
        return [
            f"{hall.name}: the 3D shell file {hall.shell_model.name} is missing; upload it again."
        ]
    if size > MAX_SHELL_BYTES:
        return [
            f"{hall.name}: the 3D shell is {size / 1024 / 1024:.1f} MB; the limit is "
            f"{MAX_SHELL_BYTES // 1024 // 1024} MB."
        ]
    return []


def _placement_problems(hall: Hall, placement: Placement, outline) -> list[str]:
    where = f"{hall.name}: {describe(placement)}"
    problems: list[str] = []
    try:
        props = clean_placement_props(placement.kind, placement.props)
    except ValidationError as error:
        problems.extend(f"{where}: {message}" for message in error.messages)
        props = None
    except KeyError:
        return [f"{where}: unknown kind {placement.kind!r}."]
    if not geometry.contains_polygon(outline, placement.footprint()):
        problems.append(
            f"{where} at ({_m(placement.x)}, {_m(placement.z)}) reaches outside the hall floor; "
            "move it inwards or make it smaller."
        )
    if placement.kind == PlacementKind.SEAT_BLOCK and props:
        problems.extend(_seat_fit_problems(where, placement, props))
    if placement.kind == PlacementKind.MEETING_ROOM and props and props.get("board"):
        problems.extend(_board_problems(hall, props, where))
    if placement.kind == PlacementKind.PORTAL:
        problems.extend(_portal_problems(hall, placement, where))
    elif placement.target_hall_id:
        problems.append(f"{where}: only a portal may lead to another hall.")
    return problems


def _seat_fit_problems(where: str, placement: Placement, props: dict) -> list[str]:
    needed_width = props["columns"] * props["seat_spacing"]
    needed_depth = props["rows"] * props["row_spacing"]
    if needed_width > float(placement.width) + FIT_TOLERANCE:
        return [
            f"{where}: {props['columns']} seats a row need {needed_width:.2f} m but the block is "
            f"{_m(placement.width)} m wide."
        ]
    if needed_depth > float(placement.depth) + FIT_TOLERANCE:
        return [
            f"{where}: {props['rows']} rows need {needed_depth:.2f} m but the block is "
            f"{_m(placement.depth)} m deep."
        ]
    return []


def _board_problems(hall: Hall, props: dict, where: str) -> list[str]:
    """A poster spot names a poster board, a booth meeting spot a booth, of the same hall."""
    wanted = ROOM_BOARD_KINDS[props["room"]]
    labels = {p.label for p in hall.placements.all() if p.kind == wanted}
    if props["board"] in labels:
        return []
    noun = "poster board" if wanted == PlacementKind.POSTER_BOARD else "booth"
    return [f'{where}: no {noun} labelled "{props["board"]}" in {hall.name}.']


def _portal_problems(hall: Hall, placement: Placement, where: str) -> list[str]:
    target = placement.target_hall
    if target is None:
        return [f"{where} leads nowhere; choose its target hall."]
    if target.pk == hall.pk:
        return [f"{where} leads to its own hall; choose another hall."]
    if target.venue_id != hall.venue_id:
        return [f"{where} leads to {target.name}, a hall of another venue."]
    return []


def _is_solid(placement: Placement) -> bool:
    if placement.kind not in SOLID_KINDS:
        return False
    if placement.kind == PlacementKind.SCREEN:
        props = placement.props if isinstance(placement.props, dict) else {}
        elevation = props.get("elevation", 0)
        return not (isinstance(elevation, int | float) and elevation > 0)
    return True


def _overlap_problems(hall: Hall, placements: list[Placement]) -> list[str]:
    solids = [(p, p.footprint()) for p in placements if _is_solid(p)]
    boxes = [geometry.bounds(corners) for _, corners in solids]
    problems = []
    for i, (first, first_corners) in enumerate(solids):
        for j in range(i + 1, len(solids)):
            if not _boxes_meet(boxes[i], boxes[j]):
                continue
            second, second_corners = solids[j]
            if geometry.convex_overlap(first_corners, second_corners):
                problems.append(
                    f"{hall.name}: {describe(first)} overlaps {describe(second)}; "
                    "move one of them apart."
                )
    return problems


def _boxes_meet(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _zone_problems(hall: Hall, zone: Zone, outline) -> list[str]:
    where = f'{hall.name}: {zone.get_kind_display().lower()} zone "{zone.label}"'
    try:
        polygon = clean_polygon(zone.polygon, what="its outline")
        clean_zone_props(zone.kind, zone.props)
    except ValidationError as error:
        return [f"{where}: {message}" for message in error.messages]
    except KeyError:
        return [f"{where}: unknown kind {zone.kind!r}."]
    min_x, min_z, max_x, max_z = geometry.bounds(outline)
    inside = all(
        min_x - FIT_TOLERANCE <= x <= max_x + FIT_TOLERANCE
        and min_z - FIT_TOLERANCE <= z <= max_z + FIT_TOLERANCE
        for x, z in polygon
    )
    if not inside:
        return [f"{where} reaches outside the hall floor."]
    return []


def _check_budgets(hall: Hall, placements: list[Placement], report: LayoutReport) -> None:
    if len(placements) > MAX_PLACEMENTS_PER_HALL:
        report.errors.append(
            f"{hall.name}: {len(placements)} placements; at most {MAX_PLACEMENTS_PER_HALL} "
            "per hall keep the 3D view smooth."
        )
    seats = sum(_seats(p) for p in placements)
    if seats > MAX_SEATS_PER_HALL:
        report.errors.append(f"{hall.name}: {seats} seats; at most {MAX_SEATS_PER_HALL} per hall.")
    elif seats > hall.capacity:
        report.warnings.append(
            f"{hall.name}: {seats} seats but an avatar capacity of {hall.capacity}; "
            "some seats will stay empty."
        )


def _seats(placement: Placement) -> int:
    if placement.kind != PlacementKind.SEAT_BLOCK:
        return 0
    try:
        props = clean_placement_props(placement.kind, placement.props)
    except ValidationError:
        return 0
    return props["rows"] * props["columns"]


def _lobby_problems(halls: list[Hall]) -> list[str]:
    lobbies = [hall for hall in halls if hall.kind == HallKind.LOBBY]
    if len(lobbies) != 1:
        names = ", ".join(hall.name for hall in lobbies) or "none"
        return [f"A venue needs exactly one lobby; it has {len(lobbies)} ({names})."]
    reached = _reachable_from(lobbies[0], halls)
    return [
        f"{hall.name} cannot be reached from {lobbies[0].name}: no chain of portals leads "
        "there. Add a portal to it."
        for hall in halls
        if hall.pk not in reached
    ]


def _reachable_from(start: Hall, halls: list[Hall]) -> set[int]:
    own = {hall.pk for hall in halls}
    exits = {
        hall.pk: [
            p.target_hall_id
            for p in hall.placements.all()
            if p.kind == PlacementKind.PORTAL and p.target_hall_id in own
        ]
        for hall in halls
    }
    reached, queue = {start.pk}, deque([start.pk])
    while queue:
        for target in exits[queue.popleft()]:
            if target not in reached:
                reached.add(target)
                queue.append(target)
    return reached
