from django.conf import settings
from django.db import models


class Speaker(models.Model):
    """Faculty of one event, with the disclosures the accreditor requires of them."""

    event = models.ForeignKey("conference.Event", on_delete=models.CASCADE, related_name="speakers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="speaker_roles",
    )
    name = models.CharField(max_length=200)
    credentials = models.CharField(max_length=80, blank=True, help_text="e.g. MD, PhD, FACC")
    affiliation = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    has_nothing_to_disclose = models.BooleanField(
        default=False,
        help_text="No financial relationships with ineligible companies in the prior 24 months.",
    )
    disclosure_signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event", "name"]
        constraints = [
            models.UniqueConstraint(fields=["event", "name"], name="unique_speaker_name_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


class RelationshipKind(models.TextChoices):
    CONSULTANT = "consultant", "Consultant"
    SPEAKERS_BUREAU = "speakers_bureau", "Speakers' bureau"
    ADVISORY_BOARD = "advisory_board", "Advisory board"
    RESEARCH_GRANT = "research_grant", "Research grant"
    STOCK = "stock", "Stock or ownership interest"
    EMPLOYEE = "employee", "Employee"
    ROYALTIES = "royalties", "Royalties or patent"
    OTHER = "other", "Other"


class Disclosure(models.Model):
    """A financial relationship with an ineligible company within the prior 24 months."""

    speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="disclosures")
    company = models.CharField("ineligible company", max_length=200)
    relationship = models.CharField(max_length=20, choices=RelationshipKind.choices)
    details = models.CharField(max_length=300, blank=True)
    mitigated = models.BooleanField(
        default=False, help_text="The relevant relationship has been mitigated by the provider."
    )

    class Meta:
        ordering = ["speaker", "company"]

    def __str__(self) -> str:
        return f"{self.company}: {self.get_relationship_display()}"
