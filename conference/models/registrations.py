from django.conf import settings
from django.db import models


class RegistrationRole(models.TextChoices):
    ATTENDEE = "attendee", "Attendee"
    SPEAKER = "speaker", "Speaker"
    MODERATOR = "moderator", "Moderator"
    EXHIBITOR = "exhibitor", "Exhibitor"
    STAFF = "staff", "Staff"


class RegistrationStatus(models.TextChoices):
    ACTIVE = "active", "Registered"
    CANCELLED = "cancelled", "Cancelled"


class RegistrationQuerySet(models.QuerySet["Registration"]):
    def active(self) -> "RegistrationQuerySet":
        return self.filter(status=RegistrationStatus.ACTIVE)


class Registration(models.Model):
    """A user's place at an event. One row per user and event; cancelling keeps the row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registrations"
    )
    event = models.ForeignKey(
        "conference.Event", on_delete=models.CASCADE, related_name="registrations"
    )
    role = models.CharField(
        max_length=12, choices=RegistrationRole.choices, default=RegistrationRole.ATTENDEE
    )
    status = models.CharField(
        max_length=10, choices=RegistrationStatus.choices, default=RegistrationStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="unique_registration")
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.event} ({self.get_role_display()})"

    @property
    def is_active(self) -> bool:
        return self.status == RegistrationStatus.ACTIVE
