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
    """What a member does for an organizer; `conference.services.organizers` maps each role to
    the areas it may view and change (docs/roles.md)."""

    OWNER = "owner", "Owner"
    CME_COORDINATOR = "cme", "CME coordinator"
    CONTENT_MANAGER = "content", "Content manager"
    MODERATOR = "moderator", "Moderator"


class OrganizerMembership(models.Model):
    """A user working for an organizer in one role. Created only by accepting an invitation."""

    organizer = models.ForeignKey(Organizer, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=12, choices=MembershipRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organizer", "user"], name="unique_membership")
        ]
        ordering = ["organizer", "user"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.organizer}"


class OrganizerInvitation(models.Model):
    """An owner's invitation of an e-mail address to a role. The invited person accepts it while
    signed in (with the signed link of the e-mail); only then does a membership exist.

    Nothing here says whether an account uses the address: the owner never learns it."""

    organizer = models.ForeignKey(Organizer, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("e-mail address")
    role = models.CharField(max_length=12, choices=MembershipRole.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accepted_invitations",
    )

    class Meta:
        ordering = ["-created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.email} — {self.get_role_display()} of {self.organizer}"
