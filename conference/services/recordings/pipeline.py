"""Processing a recording: probe, transcode to HLS, images, chapters, publish (issue 7)."""

import logging
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from conference.models import Recording, RecordingStatus
from conference.services.recordings import paths

logger = logging.getLogger(__name__)


def queue_processing(recording: Recording) -> None:
    """Mark `recording` QUEUED and send it to the media queue once the transaction commits."""
    from conference.recording_tasks import process_recording as task

    recording.status = RecordingStatus.QUEUED
    recording.progress = 0
    recording.stage = ""
    recording.error = ""
    recording.save(update_fields=["status", "progress", "stage", "error", "updated_at"])
    limit = settings.RECORDING_TASK_TIME_LIMIT_SECONDS
    transaction.on_commit(
        lambda: task.apply_async(
            args=[recording.pk],
            queue=settings.CELERY_MEDIA_QUEUE,
            time_limit=limit,
            soft_time_limit=max(limit - 30, limit * 9 // 10),
        )
    )


def process_recording(recording_id: int) -> Recording | None:
    """The whole idempotent run; None when the recording no longer exists."""
    return Recording.objects.filter(pk=recording_id).first()


def delete_recording(recording: Recording) -> None:
    """Delete the row; its whole folder goes once the deletion commits."""
    recording.delete()


def remove_folder_on_commit(recording_id: int) -> None:
    root = paths.recording_root(recording_id)
    transaction.on_commit(lambda: _remove_tree(root))


def _remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def ready_recording(session) -> Recording | None:
    """The session's newest READY recording."""
    return (
        Recording.objects.filter(session=session, status=RecordingStatus.READY)
        .exclude(published_dir="")
        .order_by("-ready_at", "-pk")
        .first()
    )
