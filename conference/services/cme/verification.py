"""The public verification of a certificate code: what anyone with the code may see (never
NPI, licenses, board IDs or birth dates). Dates are the event's, in its time zone, as the
certificate prints them."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from conference.credit.rules import PRESETS
from conference.models import Certificate, CertificateStatus, Event


def verify_certificate(code: str, *, version: int | None = None) -> dict[str, object] | None:
    """What anyone with the code may see: never NPI, licenses, board IDs or birth dates.

    Without `version`, the newest issued (or superseded, revoked) version of the code; with
    it, that version — a superseded one says so and names the current version and its URL
    (`current_version`, `current_url`)."""
    shown = Certificate.objects.filter(code=code.strip().upper()).exclude(
        status__in=[CertificateStatus.QUEUED, CertificateStatus.FAILED]
    )
    certificate = (
        (shown.filter(version=version) if version is not None else shown)
        .select_related("claim__event__organizer", "claim__enduring__session")
        .order_by("-version")
        .first()
    )
    if certificate is None:
        return None
    info = _verification_info(certificate)
    if certificate.status == CertificateStatus.SUPERSEDED:
        current = shown.order_by("-version").first() or certificate
        info["current_version"] = current.version
        info["current_url"] = reverse(
            "cme-verify-version", kwargs={"code": current.code, "version": current.version}
        )
    return info


def _verification_info(certificate: Certificate) -> dict[str, object]:
    event = certificate.claim.event
    enduring = certificate.claim.enduring
    rule = PRESETS[certificate.claim.credit_type]
    status = {
        CertificateStatus.ISSUED: "valid",
        CertificateStatus.SUPERSEDED: "superseded",
        CertificateStatus.REVOKED: "revoked",
    }[CertificateStatus(certificate.status)]
    info: dict[str, object] = {
        "code": certificate.code,
        "status": status,
        "version": certificate.version,
        "name": certificate.learner_name,
        "degree": certificate.degree,
        "activity": event.title,
        "provider": event.cme_provider or event.organizer.name,
        "activity_start": event.start_date.isoformat(),
        "activity_end": event.end_date.isoformat(),
        "credit_type": rule.name,
        "credits": format(certificate.credit, ".2f"),
        "first_issued": _date(certificate.first_issued_at, event),
        "issued": _date(certificate.issued_at, event),
        "revoked_reason": certificate.revoked_reason if status == "revoked" else "",
    }
    if enduring is not None:
        # Enduring material: its own title and its release..expiry dates.
        info["activity"] = enduring.title or enduring.session.title
        info["activity_start"] = enduring.release_date.isoformat()
        info["activity_end"] = enduring.expiry_date.isoformat()
        info["enduring_material"] = {
            "event": event.title,
            "release_date": enduring.release_date.isoformat(),
            "review_date": enduring.review_date.isoformat(),
            "expiry_date": enduring.expiry_date.isoformat(),
        }
    return info


def _date(moment: datetime | None, event: Event) -> str | None:
    """The day of `moment` in the event's time zone (as the certificate prints it)."""
    return timezone.localdate(moment, event.tzinfo).isoformat() if moment else None
