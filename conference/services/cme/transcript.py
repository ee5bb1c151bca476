"""A learner's transcript: all approved credits across events and enduring activities."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from accounts.models import User
from conference.credit.rules import PRESETS
from conference.models import CertificateStatus, Claim, ClaimStatus
from conference.services.cme.records import effective_credit


@dataclass(frozen=True)
class TranscriptRow:
    event_title: str
    provider: str
    start_date: str
    end_date: str
    credit_type: str
    credit: Decimal
    designated_max: Decimal
    status: str
    certificate_code: str
    activity_format: str = "Live"


def transcript_rows(user: User) -> list[TranscriptRow]:
    """All of a learner's approved credits across events (after corrections); a claim whose
    certificate was revoked is left out."""
    claims = (
        Claim.objects.filter(user=user, status=ClaimStatus.APPROVED)
        .select_related("event__organizer", "enduring__session")
        .prefetch_related("corrections", "additions", "certificates")
        .order_by("event__start_date", "event__title", "enduring_id", "credit_type")
    )
    rows = []
    for claim in claims:
        certificates = sorted(claim.certificates.all(), key=lambda c: -c.version)
        certificate = certificates[0] if certificates else None
        if certificate and certificate.status == CertificateStatus.REVOKED:
            continue
        enduring = claim.enduring
        rows.append(
            TranscriptRow(
                event_title=enduring.title or enduring.session.title
                if enduring
                else claim.event.title,
                provider=claim.event.cme_provider or claim.event.organizer.name,
                # Enduring material: the release and expiry dates of the activity.
                start_date=(
                    enduring.release_date if enduring else claim.event.start_date
                ).isoformat(),
                end_date=(enduring.expiry_date if enduring else claim.event.end_date).isoformat(),
                credit_type=PRESETS[claim.credit_type].name,
                credit=effective_credit(claim),
                designated_max=claim.designated_max,
                status=certificate.get_status_display() if certificate else "",
                certificate_code=certificate.code if certificate else "",
                activity_format="Enduring material" if enduring else "Live",
            )
        )
    return rows
