"""The certificate pipeline: a claim's current name and credit get a certificate version
(`queue_certificate`), rendered after commit by the Celery tasks (batched over a short window
on PostgreSQL), marked issued once with its verifiable credential, and the learner told by
e-mail (`cme.mail`). Versions are append-only: a new one supersedes the older ones; staff may
revoke. Files live under MEDIA_ROOT/certificates."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from conference.models import (
    Certificate,
    CertificateStatus,
    Claim,
    ClaimStatus,
    CmeAuditEntry,
    EventCredit,
)
from conference.services import cme_pdf, enqueue
from conference.services.cme import credentials, mail
from conference.services.cme.learner import learner_name
from conference.services.cme.printed import certificate_data
from conference.services.cme.records import audit, effective_credit
from conference.services.cme.site import verify_url
from conference.services.cme.terms import ClaimRefused
from conference.services.organizers import Area, organizers_for

logger = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud
CODE_LENGTH = 10
RENDERABLE = (CertificateStatus.QUEUED, CertificateStatus.FAILED)
BATCH_SIZE = 25
WINDOW_KEY = "cme:certificate-window"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def current_certificate(claim: Claim) -> Certificate | None:
    return claim.certificates.order_by("-version").first()


def current_certificate_of(claim_id: int) -> Certificate | None:
    return Certificate.objects.filter(claim_id=claim_id).order_by("-version").first()


# Queueing -------------------------------------------------------------------------------------


def queue_certificate(
    claim: Claim,
    *,
    name: str | None = None,
    credit: Decimal | None = None,
    dispatch: bool = True,
) -> Certificate | None:
    """Make sure the claim's current name and credit have a certificate version (queued and
    rendered after commit). A no-op when the latest version already says the same thing.
    `name` and `credit`: the learner's certificate name (`LearnerCase.name`) and the claim's
    credit now, when the caller has them."""
    name = learner_name(claim.user) if name is None else name
    credit = effective_credit(claim) if credit is None else credit
    latest = current_certificate(claim)
    if latest and latest.status == CertificateStatus.REVOKED:
        return None
    if latest and latest.learner_name == name and latest.credit == credit:
        return None
    code = latest.code if latest else _unique_code()
    version = latest.version + 1 if latest else 1
    certificate = Certificate.objects.create(
        claim=claim,
        version=version,
        code=code,
        learner_name=name,
        degree=claim.degree,
        credit=credit,
        verify_url=verify_url(code, version=version),
        first_issued_at=latest.first_issued_at if latest else None,
    )
    CmeAuditEntry.objects.create(
        event=claim.event,
        action="certificate.queued",
        object_type="Certificate",
        object_id=certificate.pk,
        detail={"version": certificate.version},
    )
    if dispatch:
        claim_id = claim.pk
        transaction.on_commit(lambda: dispatch_certificate(claim_id))
    return certificate


def issue_certificates(claims: QuerySet[Claim]) -> list[int]:
    """Bulk: queue certificates for the approved claims among `claims` that lack a current
    one (or whose rendering failed) and render them as one Celery group after commit.
    Returns the claim ids sent to the workers."""
    ids: list[int] = []
    with transaction.atomic():
        for claim in claims.filter(status=ClaimStatus.APPROVED).select_related("user"):
            queue_certificate(claim, dispatch=False)
            latest = current_certificate(claim)
            if latest and latest.status in RENDERABLE:
                ids.append(claim.pk)
        if ids:
            transaction.on_commit(lambda: _send_batches(_batches(ids)))
    return ids


def _batches(claim_ids: list[int]) -> list[list[int]]:
    return [claim_ids[i : i + BATCH_SIZE] for i in range(0, len(claim_ids), BATCH_SIZE)]


def _send_batches(batches: list[list[int]]) -> None:
    """Render these batches of claims' certificates, one task per batch, as one group."""
    enqueue.send_group(enqueue.ISSUE_CERTIFICATES, [(batch,) for batch in batches])


def _unique_code() -> str:
    while True:
        code = new_code()
        if not Certificate.objects.filter(code=code).exists():
            return code


def window_seconds() -> float:
    return float(getattr(settings, "CME_CERTIFICATE_WINDOW_SECONDS", 1.0))


def dispatch_certificate(claim_id: int) -> bool:
    """After a claim (or a new version) commits: have its certificate rendered soon.

    Where rows can be locked without waiting (PostgreSQL), certificates are rendered in
    batches gathered over a short window: the first claim of a window sends one
    `collect_waiting_certificates` task delayed by `CME_CERTIFICATE_WINDOW_SECONDS` (a cache
    key shared by every web process marks the open window); the claims that follow within the
    window send nothing. Returns True when this call opened a window. Elsewhere (SQLite) each
    claim sends its own `issue_certificate` task, as before.
    """
    if not connection.features.has_select_for_update_skip_locked:
        enqueue.send(enqueue.ISSUE_CERTIFICATE, claim_id)
        return False
    window = window_seconds()
    # The key outlives the window by a minute: if the collector were lost, the next claim
    # after that opens a new window (certificates still waiting are collected with it).
    if not cache.add(WINDOW_KEY, claim_id, timeout=int(window) + 60):
        return False
    enqueue.send(enqueue.COLLECT_WAITING_CERTIFICATES, countdown=window)
    return True


def collect_waiting_certificates() -> list[list[int]]:
    """The window's task: close the window (claims from now on open the next), then send every
    claim whose certificate waits (`queued`) as batches of BATCH_SIZE in one Celery group —
    the bulk path, so each worker process renders whole batches. Returns the batches sent."""
    cache.delete(WINDOW_KEY)
    waiting = Certificate.objects.filter(status=CertificateStatus.QUEUED).order_by(
        "created_at", "id"
    )
    claim_ids = list(dict.fromkeys(waiting.values_list("claim_id", flat=True)))
    batches = _batches(claim_ids)
    if batches:
        _send_batches(batches)
    return batches


def revoke_certificate(
    claim: Claim, *, reason: str, actor: User | AnonymousUser | None
) -> Certificate:
    if not reason.strip():
        raise ClaimRefused([("reason_required", "Revoking needs a reason.")])
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update().filter(claim=claim).order_by("-version").first()
        )
        if certificate is None:
            raise ClaimRefused([("no_certificate", "This claim has no certificate.")])
        certificate.status = CertificateStatus.REVOKED
        certificate.revoked_at = timezone.now()
        certificate.revoked_reason = reason
        certificate.save(update_fields=["status", "revoked_at", "revoked_reason"])
        audit(actor, claim.event, "certificate.revoked", certificate, reason=reason)
    return certificate


# Rendering and issuing ------------------------------------------------------------------------


def certificates_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "certificates"


def certificate_path(certificate: Certificate) -> Path:
    return certificates_root() / f"{certificate.code}-v{certificate.version}.pdf"


def issue_certificate(claim_id: int) -> Certificate | None:
    """Render the claim's latest certificate version if it is not rendered yet.

    Idempotent: one file and one row per claim version however often it runs. The PDF is
    written to a temporary file and renamed into place, so a worker killed mid-render leaves
    no half file (a rerun removes its leftovers and renders again).

    Where the database can lock rows without waiting (PostgreSQL), the claim's certificate is
    rendered together with up to BATCH_SIZE - 1 other waiting ones that no other worker holds:
    a burst of claims then costs one task's overhead per batch, and the tasks of the claims
    already rendered find nothing to do. The locks last until the batch is marked issued, so
    no two workers render the same certificate; a killed worker's locks go with its
    connection and its redelivered task takes the batch again.
    """
    if not connection.features.has_select_for_update_skip_locked:
        return render_certificates([claim_id]).get(claim_id)
    with transaction.atomic():
        claim_ids = _lock_waiting_batch(claim_id)
        latest, errors = _render_latest(claim_ids) if claim_ids else ({}, [])
    if errors:
        raise errors[0]
    return latest.get(claim_id) or current_certificate_of(claim_id)


def _lock_waiting_batch(claim_id: int) -> list[int]:
    """Lock the claim's renderable certificate and other waiting ones; [] when another
    worker holds the claim's (it renders it) or nothing waits."""
    waiting = Certificate.objects.select_for_update(skip_locked=True).filter(status__in=RENDERABLE)
    own = list(waiting.filter(claim_id=claim_id).values_list("claim_id", flat=True)[:1])
    if not own:
        return []
    others = (
        waiting.exclude(claim_id=claim_id)
        .order_by("created_at", "id")
        .values_list("claim_id", flat=True)[: BATCH_SIZE - 1]
    )
    return [claim_id, *dict.fromkeys(others)]


def render_certificates(claim_ids: list[int]) -> dict[int, Certificate]:
    """`issue_certificate` for many claims with a few queries in all (bulk issuing).

    A certificate whose rendering fails is marked failed and the others go on; the first
    error is raised at the end, so a retry renders exactly the ones still missing.

    Where rows can be locked without waiting (PostgreSQL), only the certificates no other
    worker holds are rendered (`SELECT ... FOR UPDATE SKIP LOCKED`, held until they are marked
    issued): two batches naming the same claim never render it twice.
    """
    if not connection.features.has_select_for_update_skip_locked:
        latest, errors = _render_latest(claim_ids)
    else:
        with transaction.atomic():
            held = list(
                Certificate.objects.select_for_update(skip_locked=True)
                .filter(claim_id__in=claim_ids, status__in=RENDERABLE)
                .values_list("claim_id", flat=True)
            )
            latest, errors = _render_latest(list(dict.fromkeys(held))) if held else ({}, [])
        for claim_id in set(claim_ids) - set(latest):
            current = current_certificate_of(claim_id)
            if current is not None:
                latest[claim_id] = current
    if errors:
        raise errors[0]
    return latest


def _render_latest(claim_ids: list[int]) -> tuple[dict[int, Certificate], list[Exception]]:
    latest = _latest_certificates(claim_ids)
    for claim_id in set(claim_ids) - set(latest):
        logger.warning("issue_certificate: claim %s has no certificate", claim_id)
    todo = [c for c in latest.values() if c.status in RENDERABLE]
    credits = _credits_by_event({c.claim.event_id for c in todo})
    rendered, errors = [], []
    for certificate in todo:
        try:
            rendered.append((certificate, _render_file(certificate, credits)))
        except Exception as error:
            errors.append(error)
            _mark_failed(certificate, error)
    _mark_issued(rendered)
    return latest, errors


def _latest_certificates(claim_ids: list[int]) -> dict[int, Certificate]:
    rows = (
        Certificate.objects.filter(claim_id__in=claim_ids)
        .select_related("claim__event__organizer", "claim__user")
        .order_by("claim_id", "-version")
    )
    latest: dict[int, Certificate] = {}
    for certificate in rows:
        latest.setdefault(certificate.claim_id, certificate)
    return latest


def _credits_by_event(event_ids: set[int]) -> dict[int, dict[str, EventCredit]]:
    credits: dict[int, dict[str, EventCredit]] = {event_id: {} for event_id in event_ids}
    for event_credit in EventCredit.objects.filter(event_id__in=event_ids):
        credits[event_credit.event_id][event_credit.credit_type] = event_credit
    return credits


def _render_file(certificate: Certificate, credits: dict[int, dict[str, EventCredit]]) -> Path:
    final = certificate_path(certificate)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(final)
    if not final.exists():
        data = certificate_data(certificate, credits=credits[certificate.claim.event_id])
        _write_atomically(final, lambda stream: cme_pdf.render_certificate(data, stream))
    return final


def _mark_failed(certificate: Certificate, error: Exception) -> None:
    certificate.status = CertificateStatus.FAILED
    certificate.error = f"{type(error).__name__}: {error}"[:500]
    Certificate.objects.filter(pk=certificate.pk).update(
        status=certificate.status, error=certificate.error
    )


def _partial_folder(final: Path) -> Path:
    """Temporary files live in a subfolder (same file system, so the rename is atomic) that
    only ever holds files being written or left by a killed worker."""
    return final.parent / ".partial"


def _remove_leftovers(final: Path) -> None:
    for leftover in _partial_folder(final).glob(final.name + ".*.partial"):
        leftover.unlink(missing_ok=True)


def _write_atomically(final: Path, write: Callable[[BinaryIO], None]) -> None:
    folder = _partial_folder(final)
    folder.mkdir(exist_ok=True)
    temporary = folder / f"{final.name}.{secrets.token_hex(4)}.partial"
    try:
        with open(temporary, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def _mark_issued(rendered: list[tuple[Certificate, Path]]) -> None:
    """Mark the rendered versions issued (once: a concurrent or repeated run changes
    nothing), supersede their older versions, audit, and e-mail the learners after commit."""
    if not rendered:
        return
    now = timezone.now()
    with transaction.atomic():
        pending = set(
            Certificate.objects.select_for_update()
            .filter(pk__in=[c.pk for c, _ in rendered], status__in=RENDERABLE)
            .values_list("pk", flat=True)
        )
        fresh = []
        for certificate, final in rendered:
            if certificate.pk not in pending:
                certificate.refresh_from_db()
                continue
            certificate.status, certificate.error = CertificateStatus.ISSUED, ""
            certificate.file_path = str(final.relative_to(settings.MEDIA_ROOT))
            certificate.issued_at = now
            certificate.first_issued_at = certificate.first_issued_at or now
            fresh.append(certificate)
        Certificate.objects.bulk_update(
            fresh, ["status", "error", "file_path", "issued_at", "first_issued_at"]
        )
        _supersede_older(fresh)
        _issue_credentials(fresh)
        CmeAuditEntry.objects.bulk_create(
            CmeAuditEntry(
                event_id=c.claim.event_id,
                action="certificate.issued",
                object_type="Certificate",
                object_id=c.pk,
                detail={"version": c.version},
            )
            for c in fresh
        )
        transaction.on_commit(lambda: mail.certificates_ready(fresh))


def _issue_credentials(issued: list[Certificate]) -> None:
    """Each issued version's Open Badges 3.0 credential (`cme.credentials`). A failure
    (e.g. an unreadable signing key) never blocks the certificate: the credential is issued
    when the learner first downloads it."""
    try:
        with transaction.atomic():
            credentials.ensure_credentials(issued)
    except Exception:
        logger.exception("certificates issued without their verifiable credentials")


def _supersede_older(issued: list[Certificate]) -> None:
    older = Q()
    for certificate in issued:
        if certificate.version > 1:
            older |= Q(claim_id=certificate.claim_id, version__lt=certificate.version)
    if older:
        Certificate.objects.filter(older, status=CertificateStatus.ISSUED).update(
            status=CertificateStatus.SUPERSEDED
        )


def certificate_file(certificate: Certificate) -> Path | None:
    if not certificate.file_path:
        return None
    path = Path(settings.MEDIA_ROOT) / certificate.file_path
    return path if path.is_file() else None


def may_download(user: User | AnonymousUser, certificate: Certificate) -> bool:
    """The learner, or staff of the event's organizer whose role covers CME (owners and CME
    coordinators)."""
    if not user.is_authenticated:
        return False
    if certificate.claim.user_id == user.pk:
        return True
    organizer_id = certificate.claim.event.organizer_id
    return user.is_staff and organizers_for(user, Area.CME).filter(pk=organizer_id).exists()
