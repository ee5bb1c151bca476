"""Meeting rooms: the live state of the `meeting_room` placements of a venue (docs/rooms.md).

The place (kind, capacity, where it stands) is the placement, in `venues`; who hosts it, who is
in it, its queue, chat, notes, removals and reports live here. Media never passes through these
rows: Janus carries it, and these rows decide who may join which Janus room.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from conference.models.media import SideChatMessage

MAX_HOST_SLOT = timedelta(hours=12)


class MeetingRoom(models.Model):
    placement = models.OneToOneField(
        "venues.Placement", on_delete=models.CASCADE, related_name="meeting"
    )
    hosts = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="hosted_rooms",
        help_text="The expert, poster author or booth staff who host this room: they admit "
        "from the queue, mute, remove and lock. The hall's moderators and organizer staff host "
        "every room.",
    )
    locked = models.BooleanField(default=False, help_text="Nobody new may join while locked.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "meeting room"

    def __str__(self) -> str:
        return str(self.placement.label)


class RoomOccupant(models.Model):
    """Someone in a room (or who was): the server's presence, never taken from media."""

    room = models.ForeignKey(MeetingRoom, on_delete=models.CASCADE, related_name="occupants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    # The per-user, per-room token in the Janus room's allowed list while the user is in it.
    janus_token = models.CharField(max_length=64)
    joined_at = models.DateTimeField()
    seen_at = models.DateTimeField()
    active = models.BooleanField(default=True)
    muted = models.BooleanField(default=False, help_text="Muted by a host.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="one_occupant_row_per_user")
        ]
        indexes = [models.Index(fields=["room", "active", "seen_at"])]

    def __str__(self) -> str:
        return f"{self.name} in room {self.room_id}"


class RoomRemoval(models.Model):
    room = models.ForeignKey(MeetingRoom, on_delete=models.CASCADE, related_name="removals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"user {self.user_id} out of room {self.room_id} until {self.until:%H:%M} UTC"


class QueueStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    ADMITTED = "admitted", "Admitted"
    DONE = "done", "Done"
    LEFT = "left", "Left the queue"


class RoomQueueEntry(models.Model):
    """A request for a slot with the expert of a meet-the-expert room."""

    room = models.ForeignKey(MeetingRoom, on_delete=models.CASCADE, related_name="queue")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=QueueStatus.choices, default=QueueStatus.WAITING
    )
    requested_at = models.DateTimeField()
    admitted_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "pk"]
        indexes = [models.Index(fields=["room", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "user"],
                condition=models.Q(status__in=["waiting", "admitted"]),
                name="one_open_queue_entry_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status}) for room {self.room_id}"


class RoomNote(models.Model):
    """A private note its author keeps about a room (e.g. what the expert advised)."""

    room = models.ForeignKey(MeetingRoom, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(max_length=4000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="one_note_per_room")]

    def __str__(self) -> str:
        return f"note of user {self.user_id} on room {self.room_id}"


class RoomMessage(SideChatMessage):
    """The text chat beside a room."""

    room = models.ForeignKey(MeetingRoom, on_delete=models.CASCADE, related_name="messages")


class RoomReport(models.Model):
    """A report to the organizer: the room, the time and the people in it then."""

    room = models.ForeignKey(MeetingRoom, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reporter_name = models.CharField(max_length=200)
    reason = models.TextField(max_length=2000)
    people = models.JSONField(default=list, help_text="Who was in the room: [{id, name}].")
    created_at = models.DateTimeField(auto_now_add=True)
    handled = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"report on {self.room} at {self.created_at:%Y-%m-%d %H:%M} UTC"


class RoomHostSlot(models.Model):
    """A published time when a host is in the room: the poster's author at the poster, booth
    staff at the booth, the expert in their room. Attendees see the current and the next one in
    the room list and on the room page (docs/rooms.md, "Host times")."""

    room = models.ForeignKey(MeetingRoom, on_delete=models.CASCADE, related_name="host_slots")
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Made one of the room's hosts when the room is saved.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = "host time"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="host_slot_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.host_id} in {self.room_id} from {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at:
            if self.ends_at <= self.starts_at:
                raise ValidationError({"ends_at": "A host time ends after it starts."})
            if self.ends_at - self.starts_at > MAX_HOST_SLOT:
                raise ValidationError({"ends_at": "A host time lasts at most 12 hours."})
