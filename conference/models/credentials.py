"""Verifiable credentials (Open Badges 3.0, VC-JWT) issued with CME certificates.

Rules: `conference.services.cme.credentials`; docs/cme-claims.md, "Verifiable credential".
"""

import uuid

from django.db import models


class IssuerKey(models.Model):
    """An organizer's Ed25519 signing key. The private key is stored encrypted (never shown);
    a rotated key is retired, not deleted: it stays published so that credentials signed with
    it keep verifying."""

    organizer = models.ForeignKey(
        "conference.Organizer", on_delete=models.PROTECT, related_name="issuer_keys"
    )
    thumbprint = models.CharField(
        max_length=64, unique=True, help_text="RFC 7638 JWK thumbprint (SHA-256), the key id."
    )
    public_x = models.CharField(max_length=64, help_text="The public key (JWK `x`, base64url).")
    private_encrypted = models.BinaryField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organizer", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organizer"],
                condition=models.Q(retired_at__isnull=True),
                name="one_active_issuer_key",
            )
        ]

    def __str__(self) -> str:
        state = "retired" if self.retired_at else "active"
        return f"{self.organizer} key {self.thumbprint[:12]}… ({state})"


class IssuedCredential(models.Model):
    """The signed credential of one certificate version (stored as issued, never re-signed)."""

    certificate = models.OneToOneField(
        "conference.Certificate", on_delete=models.PROTECT, related_name="credential"
    )
    organizer = models.ForeignKey(
        "conference.Organizer", on_delete=models.PROTECT, related_name="issued_credentials"
    )
    key = models.ForeignKey(IssuerKey, on_delete=models.PROTECT, related_name="credentials")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status_index = models.PositiveIntegerField(
        help_text="Position in the organizer's status lists (revocation and supersession)."
    )
    token = models.TextField(help_text="The compact JWS (VC-JWT) as downloaded.")
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["organizer", "status_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["organizer", "status_index"], name="unique_credential_status_index"
            )
        ]

    def __str__(self) -> str:
        return f"credential of {self.certificate} (index {self.status_index})"
