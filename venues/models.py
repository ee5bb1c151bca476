"""Space, never time: venues and their halls. This app never imports `conference`."""

from django.core.validators import MinValueValidator
from django.db import models


class Venue(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    layout_version = models.PositiveIntegerField(
        default=0, help_text="Bumped each time the layout is published."
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
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["venue", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["venue", "slug"], name="unique_hall_slug_per_venue")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.venue})"
