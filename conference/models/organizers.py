from django.conf import settings
from django.db import models


class Organizer(models.Model):
    """A medical society (or other provider) that runs events on MedVenue."""

    name = models.CharField(max_length=160, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    website = models.URLField(blank=True)
    contact_email = models.EmailField(blank=True)
    venues = models.ManyToManyField(
        "venues.Venue",
        related_name="organizers",
        blank=True,
        help_text="Venues this organizer may hold events in and edit.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MembershipRole(models.TextChoices):
    OWNER = "owner", "Owner"
    STAFF = "staff", "Staff"
    MODERATOR = "moderator", "Moderator"


class OrganizerMembership(models.Model):
    """A user working for an organizer. Owners and staff edit its data; moderators view it."""

    organizer = models.ForeignKey(Organizer, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        max_length=12, choices=MembershipRole.choices, default=MembershipRole.STAFF
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organizer", "user"], name="unique_membership")
        ]
        ordering = ["organizer", "user"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.organizer}"

    @property
    def can_edit(self) -> bool:
        return self.role in (MembershipRole.OWNER, MembershipRole.STAFF)
