"""A person's agenda: favourite sessions, their secret calendar feed, and reminders sent."""

from django.conf import settings
from django.db import models


class FavouriteSession(models.Model):
    """A session a person marked for their agenda."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourite_sessions"
    )
    session = models.ForeignKey(
        "conference.Session", on_delete=models.CASCADE, related_name="favourites"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "session"], name="favourite_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ★ {self.session}"


class AgendaFeed(models.Model):
    """The secret address of a person's agenda calendar; a new token revokes the old one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agenda_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Agenda feed of {self.user}"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "pending"
    SENT = "sent", "sent"
    SKIPPED = "skipped", "skipped (unsubscribed or nothing left)"


class AgendaReminder(models.Model):
    """One reminder e-mail per person per time slot (the start time of their favourites): a
    row is claimed before the e-mail leaves, so a second run never sends it again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agenda_reminders"
    )
    starts_at = models.DateTimeField()
    session_ids = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "starts_at"], name="agenda_reminder_once_per_slot"
            )
        ]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        return f"Reminder for {self.user} at {self.starts_at:%Y-%m-%d %H:%M}"
