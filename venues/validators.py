"""Field-level checks of venue data: uploaded shell models, polygons and per-kind properties.

Pure functions with no database access, so models, forms and the layout validation share them.
"""

import math
import struct
from typing import Any

from django.core.exceptions import ValidationError

MAX_SHELL_BYTES = 16 * 1024 * 1024
GLB_MAGIC = b"glTF"
GLB_HEADER = struct.Struct("<4sII")
MAX_POLYGON_POINTS = 64
ROLE_MAX_LENGTH = 30


def validate_glb(upload) -> None:
    """Accept only a glTF 2.0 binary (.glb) of at most 16 MB whose header matches its size."""
    size = upload.size
    if size > MAX_SHELL_BYTES:
        raise ValidationError(
            f"The 3D shell is {size:,} bytes, more than the limit of "
            f"{MAX_SHELL_BYTES // 1024 // 1024} MB. Simplify the model or compress its textures."
        )
    header = _read_header(upload)
    if len(header) < GLB_HEADER.size or header[:4] != GLB_MAGIC:
        raise ValidationError(
            "This file is not a glTF binary (.glb): it does not start with the 'glTF' "
            "signature. Export the model as glTF binary."
        )
    _, version, declared = GLB_HEADER.unpack(header)
    if version != 2:
        raise ValidationError(f"This .glb is glTF version {version}; only version 2 is supported.")
    if declared != size:
        raise ValidationError(
            f"This .glb declares {declared} bytes but the file has {size}: it is truncated "
            "or damaged. Export it again."
        )


def _read_header(upload) -> bytes:
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    header = upload.read(GLB_HEADER.size)
    upload.seek(position)
    return header


def as_number(value: Any, *, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{what} must be a number, not {value!r}.")
    if not math.isfinite(value):
        raise ValidationError(f"{what} must be a finite number.")
    return float(value)


def clean_polygon(value: Any, *, what: str = "The polygon") -> list[list[float]]:
    """A list of at least three [x, z] points in metres enclosing some area."""
    if not isinstance(value, list) or len(value) < 3:
        raise ValidationError(f"{what} needs at least three [x, z] points.")
    if len(value) > MAX_POLYGON_POINTS:
        raise ValidationError(f"{what} has {len(value)} points; at most {MAX_POLYGON_POINTS}.")
    points = []
    for index, point in enumerate(value, start=1):
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise ValidationError(f"{what}: point {index} must be a pair [x, z], not {point!r}.")
        points.append([as_number(coord, what=f"{what}: point {index}") for coord in point])
    if abs(polygon_area(points)) < 0.01:
        raise ValidationError(f"{what} encloses no area; check the order of its points.")
    return points


def polygon_area(points: list[list[float]]) -> float:
    """Signed area (shoelace formula)."""
    pairs = zip(points, points[1:] + points[:1], strict=True)
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in pairs) / 2


def _text(props: dict, key: str, *, label: str, required: bool, max_length: int) -> str:
    value = props.get(key, "")
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text.")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{label} is required.")
    if len(value) > max_length:
        raise ValidationError(f"{label} is {len(value)} characters long; at most {max_length}.")
    return value


def _integer(props: dict, key: str, *, label: str, low: int, high: int) -> int:
    value = props.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{label} must be a whole number between {low} and {high}.")
    if not low <= value <= high:
        raise ValidationError(f"{label} is {value}; it must be between {low} and {high}.")
    return value


def _decimal(props: dict, key: str, *, label: str, low: float, high: float, default: float):
    value = as_number(props.get(key, default), what=label)
    if not low <= value <= high:
        raise ValidationError(f"{label} is {value:g} m; it must be between {low:g} and {high:g} m.")
    return value


def _seat_block(props: dict) -> dict:
    return {
        "rows": _integer(props, "rows", label="Rows", low=1, high=100),
        "columns": _integer(props, "columns", label="Columns", low=1, high=100),
        "row_spacing": _decimal(
            props, "row_spacing", label="Row spacing", low=0.6, high=3, default=0.9
        ),
        "seat_spacing": _decimal(
            props, "seat_spacing", label="Seat spacing", low=0.4, high=2, default=0.6
        ),
    }


def _screen(props: dict) -> dict:
    return {"elevation": _decimal(props, "elevation", label="Elevation", low=0, high=30, default=0)}


def _booth(props: dict) -> dict:
    return {
        "exhibitor": _text(props, "exhibitor", label="Exhibitor", required=True, max_length=200)
    }


def _kiosk(props: dict) -> dict:
    return {"text": _text(props, "text", label="Kiosk text", required=True, max_length=2000)}


def _poster_board(props: dict) -> dict:
    return {
        "title": _text(props, "title", label="Poster title", required=True, max_length=300),
        "authors": _text(props, "authors", label="Authors", required=False, max_length=500),
    }


ROOM_KINDS = ("workshop", "breakout", "expert", "poster", "booth", "lounge")
# Default capacity per room kind; an organizer may set 2 to MAX_ROOM_CAPACITY.
ROOM_DEFAULT_CAPACITY = {
    "workshop": 8,
    "breakout": 6,
    "expert": 4,
    "poster": 6,
    "booth": 4,
    "lounge": 8,
}
MAX_ROOM_CAPACITY = 16
ROOM_BOARD_KINDS = {"poster": "poster_board", "booth": "booth"}


def _meeting_room(props: dict) -> dict:
    kind = props.get("room", "")
    if kind not in ROOM_KINDS:
        raise ValidationError(f"Room must be one of {', '.join(ROOM_KINDS)}, not {kind!r}.")
    capacity = _integer(
        {"capacity": props.get("capacity", ROOM_DEFAULT_CAPACITY[kind])},
        "capacity",
        label="Capacity",
        low=2,
        high=MAX_ROOM_CAPACITY,
    )
    cleaned = {
        "room": kind,
        "capacity": capacity,
        "topic": _text(props, "topic", label="Topic", required=False, max_length=300),
    }
    if kind in ROOM_BOARD_KINDS:
        what = "poster board" if kind == "poster" else "booth"
        cleaned["board"] = _text(
            props, "board", label=f"The label of its {what}", required=True, max_length=120
        )
    elif props.get("board"):
        raise ValidationError("Only a poster spot or a booth meeting spot has a board.")
    if kind == "expert":
        cleaned["slot_minutes"] = _integer(
            {"slot_minutes": props.get("slot_minutes", 10)},
            "slot_minutes",
            label="Slot length (minutes)",
            low=1,
            high=60,
        )
    elif "slot_minutes" in props:
        raise ValidationError("Only a meet-the-expert room has a slot length.")
    return cleaned


def _nothing(props: dict) -> dict:
    return {}


PLACEMENT_PROPS = {
    "stage": ((), _nothing),
    "screen": (("elevation",), _screen),
    "seat_block": (("rows", "columns", "row_spacing", "seat_spacing"), _seat_block),
    "booth": (("exhibitor",), _booth),
    "portal": (("target_hall",), _nothing),
    "kiosk": (("text",), _kiosk),
    "poster_board": (("title", "authors"), _poster_board),
    "spawn": ((), _nothing),
    "meeting_room": (("room", "capacity", "topic", "board", "slot_minutes"), _meeting_room),
}


def clean_placement_props(kind: str, props: Any) -> dict:
    """The properties of a placement of `kind`, checked and with defaults filled in.

    A portal's target is the `target_hall` field, not a property; a `target_hall` key left in
    its props is accepted and dropped.
    """
    allowed, cleaner = PLACEMENT_PROPS[kind]
    return cleaner(_check_keys(props, allowed, kind=kind.replace("_", " ")))


def _check_keys(props: Any, allowed: tuple[str, ...], *, kind: str) -> dict:
    if props in (None, ""):
        props = {}
    if not isinstance(props, dict):
        raise ValidationError(f"The properties of a {kind} must be a JSON object.")
    unknown = sorted(set(props) - set(allowed))
    if unknown:
        known = ", ".join(allowed) or "none"
        raise ValidationError(
            f"Unknown properties for a {kind}: {', '.join(unknown)} (allowed: {known})."
        )
    return props


DEFAULT_PODIUM_ROLES = ["speaker", "moderator", "staff"]


def _roles(props: dict, *, default: list[str] | None) -> dict:
    roles = props.get("roles", default)
    if not isinstance(roles, list) or not roles:
        raise ValidationError('Roles must be a non-empty list such as ["speaker", "staff"].')
    for role in roles:
        if not isinstance(role, str) or not role.strip() or len(role) > ROLE_MAX_LENGTH:
            raise ValidationError(f"{role!r} is not a role name.")
    return {"roles": sorted({role.strip() for role in roles})}


ZONE_PROPS = {
    "podium": (("roles",), lambda props: _roles(props, default=DEFAULT_PODIUM_ROLES)),
    "audience": ((), _nothing),
    "restricted": (("roles",), lambda props: _roles(props, default=None)),
    "quiet": ((), _nothing),
    "capacity": (
        ("max_people",),
        lambda props: {
            "max_people": _integer(props, "max_people", label="Most people", low=1, high=10000)
        },
    ),
}


def clean_zone_props(kind: str, props: Any) -> dict:
    allowed, cleaner = ZONE_PROPS[kind]
    return cleaner(_check_keys(props, allowed, kind=f"{kind} zone"))
