"""The e-mail that tells learners their certificate is ready (console backend by default).
Plain text and HTML parts say the same; the HTML sets the AMA phrase in italics. Links use
the site address of the settings (`cme.site`)."""

from __future__ import annotations

import logging

from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse

from conference.credit.rules import PRESETS
from conference.models import Certificate, Claim
from conference.services import statements
from conference.services.cme.site import site_url

logger = logging.getLogger(__name__)


def certificates_ready(certificates: list[Certificate]) -> None:
    """Tell each learner their certificate version is ready; mail trouble never fails the
    task (it is logged)."""
    base = site_url()
    messages = []
    for certificate in certificates:
        claim = certificate.claim
        name = PRESETS[claim.credit_type].name
        claimed = statements.credit_amount(claim.credit_type, certificate.credit, name)
        lines = [
            f"Your certificate for {claim.event.title} is ready: {claimed}.",
            f"Download it from {base + claim_page(claim)}",
            f"Verification code: {certificate.code} ({certificate.verify_url})",
        ]
        message = EmailMultiAlternatives(
            f"Your CME certificate for {claim.event.title} is ready",
            "\n".join(lines),
            to=[claim.user.email],
        )
        message.attach_alternative(
            "".join(f"<p>{statements.phrase_html(line, email=True)}</p>" for line in lines),
            "text/html",
        )
        messages.append(message)
    try:
        get_connection().send_messages(messages)
    except OSError:
        logger.exception("certificates ready: the e-mails could not be sent")


def claim_page(claim: Claim) -> str:
    """Where the learner finds the claim: the enduring activity's page or My CME of the event."""
    if claim.enduring_id:
        return reverse("cme:enduring", kwargs={"activity_id": claim.enduring_id})
    return reverse("cme:event", kwargs={"event_slug": claim.event.slug})
