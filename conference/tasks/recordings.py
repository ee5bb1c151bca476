"""Celery tasks that process recordings (the `media` queue).

`process_recording` is thin and idempotent: it takes the recording's id and runs the pipeline,
which writes its final state (READY or FAILED) on the row. It is acknowledged late, so a worker
killed mid-transcode hands it back to the broker and the next run starts a clean work folder.
Only database connection errors are retried; a file ffmpeg cannot process is recorded as FAILED.
"""

import logging
from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from conference.services.enqueue import PROCESS_RECORDING
from conference.services.recordings import pipeline

logger = logging.getLogger(__name__)

# Long media tasks (processing, capture): acknowledged late and handed back to the broker when
# the worker dies; database connection errors retried a few times with backoff.
MEDIA_TASK_OPTIONS: dict[str, Any] = {
    "ignore_result": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 3,
}


@shared_task(name=PROCESS_RECORDING, **MEDIA_TASK_OPTIONS)
def process_recording(recording_id: int) -> None:
    """Probe, transcode, make images and chapters, publish: READY or FAILED on the row."""
    recording = pipeline.process_recording(recording_id)
    if recording is None:
        logger.warning("process_recording: recording %s is gone", recording_id)
