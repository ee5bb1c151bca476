"""What happens live in a hall: the ordered feed, Q&A, chat, polls and attendance.

Every change a client causes is written as a row in its own table AND appended to the hall's
feed (`LiveItem`) with the next sequence number of the hall, in one transaction, before it is
acknowledged. The feed is what a reconnecting client resumes from.
"""

from typing import Any

from django.conf import settings
from django.db import models


class HallFeed(models.Model):
    """The sequence counter of one hall's live feed."""

    hall = models.OneToOneField("venues.Hall", on_delete=models.CASCADE, related_name="feed")
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"feed of {self.hall} at {self.last_seq}"


class Audience(models.TextChoices):
    EVERYONE = "everyone", "Everyone in the hall"
    MODERATORS = "moderators", "Moderators, speakers and staff"


class LiveItem(models.Model):
    """One event of a hall's feed, exactly as it was broadcast."""

    hall = models.ForeignKey("venues.Hall", on_delete=models.CASCADE, related_name="live_items")
    seq = models.PositiveBigIntegerField()
    event = models.CharField(max_length=40)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.EVERYONE)
    session = models.ForeignKey(
        "conference.Session", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    client_key = models.CharField(max_length=64, blank=True)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Not stored: pushes a service addresses to single people about this item, as
    # (user id, event, data), set by moderation and sent by the live layer after the broadcast.
    private: list[tuple[int, str, dict[str, Any]]]

    class Meta:
        ordering = ["hall", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["hall", "seq"], name="unique_live_item_seq"),
            models.UniqueConstraint(
                fields=["actor", "client_key"],
                condition=~models.Q(client_key=""),
                name="unique_live_item_client_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hall_id}#{self.seq} {self.event}"


class QuestionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for moderation"
    APPROVED = "approved", "Visible"
    REJECTED = "rejected", "Rejected"
    ANSWERED = "answered", "Answered"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Question(models.Model):
    session = models.ForeignKey(
        "conference.Session", on_delete=models.CASCADE, related_name="questions"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="questions"
    )
    author_name = models.CharField(max_length=120)
    text = models.TextField(max_length=500)
    status = models.CharField(max_length=10, choices=QuestionStatus.choices)
    is_pinned = models.BooleanField(default=False)
    vote_count = models.PositiveIntegerField(default=0)
    reject_reason = models.CharField(
        max_length=300, blank=True, help_text="Shown to the asker when the question is rejected."
    )
    held_keyword = models.CharField(
        max_length=100,
        blank=True,
        help_text="The event's moderation keyword that held this question for review.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "-is_pinned", "-vote_count", "created_at"]

    def __str__(self) -> str:
        return self.text[:60]


class QuestionVote(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "user"], name="unique_question_vote")
        ]

    def __str__(self) -> str:
        return f"vote of {self.user_id} on {self.question_id}"


class ChatMessage(models.Model):
    hall = models.ForeignKey("venues.Hall", on_delete=models.CASCADE, related_name="chat_messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    author_name = models.CharField(max_length=120)
    text = models.TextField(max_length=500)
    # Hidden by a moderator: gone for everyone, kept (with who, when and why) for the audit.
    is_removed = models.BooleanField("hidden", default=False)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hide_reason = models.CharField(max_length=300, blank=True)
    # Held for review by the event's keyword filter: only moderators see it until released.
    is_held = models.BooleanField(default=False)
    held_keyword = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["hall", "created_at"]

    def __str__(self) -> str:
        return self.text[:60]


class PollStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Poll(models.Model):
    session = models.ForeignKey(
        "conference.Session", on_delete=models.CASCADE, related_name="polls"
    )
    question = models.CharField(max_length=300)
    status = models.CharField(max_length=8, choices=PollStatus.choices, default=PollStatus.OPEN)
    results_visible = models.BooleanField(
        default=False, help_text="Attendees see the results (the moderator decides)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "created_at"]

    def __str__(self) -> str:
        return self.question


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    text = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    vote_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["poll", "order"]

    def __str__(self) -> str:
        return self.text


class PollVote(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["poll", "user"], name="unique_poll_vote")]

    def __str__(self) -> str:
        return f"vote of {self.user_id} on poll {self.poll_id}"


class AttendanceKind(models.TextChoices):
    JOIN = "join", "Joined"
    LEAVE = "leave", "Left"
    HEARTBEAT = "heartbeat", "Heartbeat"
    ATTENTION_PASSED = "attention_passed", "Attention check passed"
    ATTENTION_MISSED = "attention_missed", "Attention check missed"


class AttendanceEvent(models.Model):
    """Raw, append-only proof of presence, stamped with server time (client times are ignored).

    These are the input of the CME credit engine; segments are derived and can be rebuilt.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attendance_events"
    )
    session = models.ForeignKey(
        "conference.Session", on_delete=models.PROTECT, related_name="attendance_events"
    )
    hall = models.ForeignKey("venues.Hall", on_delete=models.PROTECT, related_name="+")
    connection = models.CharField(max_length=64, help_text="One id per socket (tab or device).")
    kind = models.CharField(max_length=20, choices=AttendanceKind.choices)
    server_time = models.DateTimeField()
    dedup_key = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["server_time", "id"]
        indexes = [models.Index(fields=["session", "user", "server_time"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.session_id} at {self.server_time:%H:%M:%S}"


class HallRemoval(models.Model):
    """A moderator removed a user from a hall; they cannot re-enter until `until`."""

    hall = models.ForeignKey("venues.Hall", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    until = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lift_reason = models.CharField(max_length=300, blank=True)
    # Not stored: the `hall.removal` feed item a removal made in a hall was announced with.
    item: LiveItem

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["hall", "user", "until"])]

    def __str__(self) -> str:
        return f"{self.user_id} removed from {self.hall_id} until {self.until:%Y-%m-%d %H:%M}"
