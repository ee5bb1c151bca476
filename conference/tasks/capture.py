"""Celery tasks that capture a session's live stream into a recording.

`schedule_captures` runs every minute from beat (on the default queue; it only writes rows and
sends tasks). `capture_recording` records one chunk of a capture, or joins the chunks once the
window has ended; it runs on the capture queue (`capture.CAPTURE_QUEUE`) and sends itself again
for the next chunk. Both are idempotent: a second copy of a capture task finds the capture
locked and returns, and a re-delivered one records into a new chunk file.
"""

import logging

from celery import shared_task
from django.utils import timezone

from conference.services.enqueue import (
    CAPTURE_RECORDING,
    INGEST_ENCODER,
    RECORD_BROADCAST,
    SCHEDULE_CAPTURES,
)
from conference.services.media import encoder, recorder
from conference.services.recordings import capture
from conference.tasks.recordings import MEDIA_TASK_OPTIONS

logger = logging.getLogger(__name__)


@shared_task(name=SCHEDULE_CAPTURES, ignore_result=True)
def schedule_captures() -> int:
    """Start the captures that are due and resend stalled ones; the number started."""
    created = capture.schedule_captures()
    for recording in created:
        logger.info("schedule_captures: capture %s started", recording.pk)
    # The external encoders' listeners too: one whose worker went quiet gets its task again.
    encoder.resend_stalled_encoders(now=timezone.now())
    return len(created)


@shared_task(name=CAPTURE_RECORDING, **MEDIA_TASK_OPTIONS)
def capture_recording(recording_id: int) -> str:
    """Record the next chunk of the capture, or finish it once its window has ended."""
    outcome = capture.capture_next(recording_id)
    logger.info("capture_recording %s: %s", recording_id, outcome)
    return outcome


@shared_task(name=RECORD_BROADCAST, **MEDIA_TASK_OPTIONS)
def record_broadcast(recording_id: int) -> str:
    """Record the studio's broadcast as it goes (issue 15), or finish it once it has ended."""
    outcome = recorder.record_next(recording_id)
    logger.info("record_broadcast %s: %s", recording_id, outcome)
    return outcome


@shared_task(name=INGEST_ENCODER, **MEDIA_TASK_OPTIONS)
def ingest_encoder(feed_id: int) -> str:
    """Listen for a session's external encoder (SRT) and publish it in the studio while it sends;
    runs on the ingest queue until the encoder is turned off (docs/media.md)."""
    outcome = encoder.ingest_next(feed_id)
    logger.info("ingest_encoder %s: %s", feed_id, outcome)
    return outcome
