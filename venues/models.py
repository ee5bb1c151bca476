"""Space, never time: venues and their halls. This app never imports `conference`."""

from decimal import Decimal
from typing import TypeGuard

from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models

from venues import geometry
from venues.validators import (
    clean_placement_props,
    clean_polygon,
    clean_zone_props,
    validate_glb,
)


class Venue(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    layout_version = models.PositiveIntegerField(
        default=0, help_text="Bumped each time the layout is published."
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_layout = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="The layout attendees see: a snapshot taken when it was last published.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HallKind(models.TextChoices):
    LOBBY = "lobby", "Lobby"
    AUDITORIUM = "auditorium", "Auditorium"
    POSTER_HALL = "poster_hall", "Poster hall"
    EXHIBIT_HALL = "exhibit_hall", "Exhibit hall"
    LOUNGE = "lounge", "Lounge"


class Hall(models.Model):
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="halls")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80)
    kind = models.CharField(max_length=20, choices=HallKind.choices, default=HallKind.AUDITORIUM)
    width_m = models.DecimalField(
        "width (m)",
        max_digits=6,
        decimal_places=2,
        default=30,
        validators=[MinValueValidator(2)],
    )
    depth_m = models.DecimalField(
        "depth (m)",
        max_digits=6,
        decimal_places=2,
        default=20,
        validators=[MinValueValidator(2)],
    )
    capacity = models.PositiveIntegerField(
        "avatar capacity", default=500, help_text="Most attendees present in the hall at once."
    )
    description = models.TextField(
        blank=True, help_text="Text description used by the accessible 2D view."
    )
    boundary = models.JSONField(
        "floor outline",
        default=list,
        blank=True,
        help_text="Optional polygon [[x, z], ...] in metres, centred on the hall; empty for the "
        "full width × depth rectangle.",
    )
    shell_model = models.FileField(
        "3D shell model",
        upload_to="venues/shells/",
        blank=True,
        validators=[FileExtensionValidator(["glb"]), validate_glb],
        help_text="Optional glTF binary (.glb, version 2, at most 16 MB) of the walls and roof.",
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["venue", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["venue", "slug"], name="unique_hall_slug_per_venue")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.venue})"

    def outline(self) -> list[geometry.Point]:
        """The floor polygon: the boundary when set, else the width × depth rectangle."""
        if self.boundary:
            return [(float(x), float(z)) for x, z in self.boundary]
        return geometry.rectangle(float(self.width_m), float(self.depth_m))

    def clean(self) -> None:
        super().clean()
        if not self.boundary:
            self.boundary = []
            return
        try:
            self.boundary = clean_polygon(self.boundary, what="The floor outline")
        except ValidationError as error:
            raise ValidationError({"boundary": error.messages}) from error
        if self.width_m is None or self.depth_m is None:
            return
        floor = geometry.rectangle(float(self.width_m), float(self.depth_m))
        if not geometry.contains_polygon(floor, [tuple(p) for p in self.boundary]):
            raise ValidationError(
                {
                    "boundary": f"The floor outline reaches beyond the hall's "
                    f"{self.width_m:g} × {self.depth_m:g} m; widen the hall or move the points."
                }
            )


class PlacementKind(models.TextChoices):
    STAGE = "stage", "Stage"
    SCREEN = "screen", "Screen"
    SEAT_BLOCK = "seat_block", "Seat block"
    BOOTH = "booth", "Booth"
    PORTAL = "portal", "Portal"
    KIOSK = "kiosk", "Kiosk"
    POSTER_BOARD = "poster_board", "Poster board"
    SPAWN = "spawn", "Spawn point"
    MEETING_ROOM = "meeting_room", "Meeting room"


class RoomKind(models.TextChoices):
    """What a meeting room placement is for (docs/rooms.md)."""

    WORKSHOP = "workshop", "Workshop room"
    BREAKOUT = "breakout", "Breakout room"
    EXPERT = "expert", "Meet the expert"
    POSTER = "poster", "Poster spot"
    BOOTH = "booth", "Booth meeting spot"
    LOUNGE = "lounge", "Lounge"


def _metres(verbose_name: str, *, default: str, low: str = "-500") -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=7,
        decimal_places=2,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal(low)), MaxValueValidator(Decimal("500"))],
    )


def _is_count(value: object) -> TypeGuard[int]:
    """A positive whole number (not a bool) in a placement's props, e.g. a seat block's rows."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class Placement(models.Model):
    """Something that stands on a hall's floor: a stage, a screen, seats, a booth, a portal..."""

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="placements")
    kind = models.CharField(max_length=20, choices=PlacementKind.choices)
    label = models.CharField(max_length=120)
    x = _metres("x (m)", default="0")
    z = _metres("z (m)", default="0")
    yaw = models.DecimalField(
        "yaw (°)",
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("-360")), MaxValueValidator(Decimal("360"))],
        help_text="Degrees counter-clockwise seen from above; 0 faces the front (-z).",
    )
    width = _metres("width (m)", default="1", low="0.1")
    depth = _metres("depth (m)", default="1", low="0.1")
    height = _metres("height (m)", default="1", low="0")
    target_hall = models.ForeignKey(
        Hall,
        on_delete=models.CASCADE,
        related_name="incoming_portals",
        null=True,
        blank=True,
        help_text="For a portal: the hall of the same venue it leads to.",
    )
    props = models.JSONField(
        "properties",
        default=dict,
        blank=True,
        help_text="Per kind: seat block rows, columns, row_spacing, seat_spacing; screen "
        "elevation; booth exhibitor; kiosk text; poster board title, authors; meeting room "
        "room (kind), capacity, topic, board (label of its poster board or booth), slot_minutes.",
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["hall", "order", "id"]
        indexes = [models.Index(fields=["hall", "kind"])]

    def __str__(self) -> str:
        return f'{self.get_kind_display()} "{self.label}"'

    def footprint(self) -> list[geometry.Point]:
        return geometry.footprint(
            float(self.x), float(self.z), float(self.yaw), float(self.width), float(self.depth)
        )

    @property
    def seat_count(self) -> int:
        props = self.props if isinstance(self.props, dict) else {}
        rows, columns = props.get("rows"), props.get("columns")
        if self.kind != PlacementKind.SEAT_BLOCK or not (_is_count(rows) and _is_count(columns)):
            return 0
        return rows * columns

    def clean(self) -> None:
        super().clean()
        if self.kind not in PlacementKind.values:
            return
        try:
            self.props = clean_placement_props(self.kind, self.props)
        except ValidationError as error:
            raise ValidationError({"props": error.messages}) from error
        self._clean_target()

    def _clean_target(self) -> None:
        if self.kind != PlacementKind.PORTAL:
            if self.target_hall_id:
                raise ValidationError({"target_hall": "Only a portal leads to another hall."})
            return
        if not self.target_hall_id:
            raise ValidationError({"target_hall": "Choose the hall this portal leads to."})
        if self.hall_id and self.target_hall_id == self.hall_id:
            raise ValidationError({"target_hall": "A portal cannot lead to its own hall."})
        if (
            self.hall_id
            and self.target_hall is not None
            and self.target_hall.venue_id != self.hall.venue_id
        ):
            raise ValidationError(
                {"target_hall": "A portal can only lead to a hall of the same venue."}
            )


class ZoneKind(models.TextChoices):
    PODIUM = "podium", "Podium"
    AUDIENCE = "audience", "Audience"
    RESTRICTED = "restricted", "Restricted"
    QUIET = "quiet", "Quiet"
    CAPACITY = "capacity", "Capacity limit"


class Zone(models.Model):
    """An area of a hall floor with a rule: who may stand there, how many, how loud."""

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="zones")
    kind = models.CharField(max_length=12, choices=ZoneKind.choices)
    label = models.CharField(max_length=120)
    polygon = models.JSONField(help_text="[[x, z], ...] in metres, at least three points.")
    props = models.JSONField(
        "properties",
        default=dict,
        blank=True,
        help_text='Podium/restricted: {"roles": ["speaker", "staff"]}; capacity: '
        '{"max_people": 50}.',
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["hall", "order", "id"]

    def __str__(self) -> str:
        return f'{self.get_kind_display()} zone "{self.label}"'

    def clean(self) -> None:
        super().clean()
        errors = {}
        try:
            self.polygon = clean_polygon(self.polygon, what="The zone outline")
        except ValidationError as error:
            errors["polygon"] = error.messages
        if self.kind in ZoneKind.values:
            try:
                self.props = clean_zone_props(self.kind, self.props)
            except ValidationError as error:
                errors["props"] = error.messages
        if errors:
            raise ValidationError(errors)
