"""The public address of the site, read from the settings in one place: printed on
certificates (verification URL and QR code), in their e-mails, and the base of the
verifiable credentials' issuer URLs."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

# Where `make run` serves when `MEDVENUE_SITE_URL` is not set.
DEFAULT_SITE_URL = "http://127.0.0.1:8000"


def site_url() -> str:
    """`MEDVENUE_SITE_URL` (no trailing slash), else the `make run` address."""
    configured: str = getattr(settings, "MEDVENUE_SITE_URL", "")
    return (configured or DEFAULT_SITE_URL).rstrip("/")


def verify_url(code: str, *, version: int | None = None) -> str:
    """The public verification URL printed on a certificate: of its own version, so an
    older printout verifies as superseded (and links the current one)."""
    if version is None:
        return site_url() + reverse("cme-verify", kwargs={"code": code})
    return site_url() + reverse("cme-verify-version", kwargs={"code": code, "version": version})
