"""Celery tasks. Each is thin: named, takes ids or plain values, idempotent.

The package is the layer above the services: tasks call services, services never import
tasks (they send them by name through `conference.services.enqueue`). Here: certificates,
agenda reminders and the worker heartbeat; `recordings` (the media queue) and `capture` (the
capture queue) hold the recording tasks.
"""

import logging
from typing import Any

from celery import Task, shared_task
from django.core.cache import cache
from django.utils import timezone

from conference.services import agenda, enqueue
from conference.services.cme import certificates

logger = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT_SECONDS = 600


def heartbeat_key(token: str) -> str:
    return f"celery-heartbeat:{token}"


@shared_task(name="conference.record_heartbeat", bind=True, ignore_result=True)
def record_heartbeat(self: Task[Any, Any], token: str) -> dict[str, Any]:
    """Write `token` to the cache with the worker's name: proof that a worker ran it.

    Operators send it to check the whole path web -> broker -> worker -> cache; running it
    twice writes the same entry again.
    """
    entry = {
        "token": token,
        "worker": self.request.hostname or "",
        "at": timezone.now().isoformat(),
    }
    cache.set(heartbeat_key(token), entry, timeout=HEARTBEAT_TIMEOUT_SECONDS)
    logger.info("Heartbeat %s recorded by %s", token, entry["worker"])
    return entry


def read_heartbeat(token: str) -> dict[str, Any] | None:
    entry: dict[str, Any] | None = cache.get(heartbeat_key(token))
    return entry


@shared_task(
    name=enqueue.ISSUE_CERTIFICATE,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def issue_certificate(claim_id: int) -> None:
    """Render the claim's latest certificate version (idempotent: one file per version)."""
    certificate = certificates.issue_certificate(claim_id)
    if certificate is None:
        logger.warning("issue_certificate: nothing to issue for claim %s", claim_id)


@shared_task(
    name=enqueue.ISSUE_CERTIFICATES,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def issue_certificates(claim_ids: list[int]) -> None:
    """Bulk issuing: render a batch of claims' certificates with a few queries in all."""
    certificates.render_certificates(claim_ids)


@shared_task(name=enqueue.COLLECT_WAITING_CERTIFICATES, ignore_result=True)
def collect_waiting_certificates() -> int:
    """The end of a claim window: send the waiting certificates as batches (idempotent: a
    second run finds them sent or rendered and sends only what still waits)."""
    return len(certificates.collect_waiting_certificates())


@shared_task(name="conference.plan_agenda_reminders", ignore_result=True)
def plan_agenda_reminders() -> int:
    """Every minute (beat): claim the reminders due and send each in its own task."""
    pending = agenda.plan_reminders()
    for reminder_id in pending:
        send_agenda_reminder.delay(reminder_id)
    return len(pending)


@shared_task(
    name="conference.send_agenda_reminder",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=3,
)
def send_agenda_reminder(reminder_id: int) -> str:
    """Send one reminder e-mail (idempotent: a sent or skipped reminder is left alone)."""
    return agenda.send_reminder(reminder_id)
