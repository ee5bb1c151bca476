"""Processing a recording: probe, transcode to HLS, images, chapters, publish.

One run (`process_recording`, what the Celery task calls) is idempotent and resumable:

- a READY recording, or one that is not waiting for processing, is left alone;
- a run holds an exclusive lock on the recording's folder (released by the kernel when the
  process dies), so a second delivery of the same task never processes it twice at once;
- each run takes the next generation and writes only into `work-<generation>/`, after removing
  the work folders of runs that died (their ffmpeg died with them: see `transcode.run_ffmpeg`);
- the finished work folder is published by ONE rename to `gen-<generation>/`, then the row is
  marked READY with `published_dir` in one transaction; older generations go afterwards.

A worker killed mid-transcode therefore leaves a work folder nobody serves, and the redelivered
task starts a clean one. Failures are recorded on the row (FAILED, `error`); only database
errors propagate (the task retries those).
"""

import logging
import os
import shutil
import time
from decimal import Decimal
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from conference.models import Recording, RecordingStatus, Session
from conference.services import enqueue
from conference.services.recordings import chapters, images, paths, transcode
from conference.services.recordings.probe import NotAVideo, ProbeResult, probe
from conference.services.recordings.processes import exclusive_lock

logger = logging.getLogger(__name__)

LOCK_NAME = ".processing.lock"
PROGRESS_INTERVAL_SECONDS = 1.0
WAITING = (RecordingStatus.QUEUED, RecordingStatus.PROCESSING)
# Share of the overall progress bar each stage ends at.
PROGRESS_AFTER = {"probing": 2, "poster": 4, "transcoding": 95, "images": 98, "publishing": 99}


class ProcessingFailed(Exception):
    """A reason for the organizer; the recording is marked FAILED with it."""


class RecordingGone(Exception):
    """The recording was deleted while it was being processed."""


# --- What other parts of the site call ---------------------------------------------------------


def queue_processing(recording: Recording) -> None:
    """Mark `recording` QUEUED and send it to the media queue once the transaction commits."""
    recording.status = RecordingStatus.QUEUED
    recording.progress = 0
    recording.stage = ""
    recording.error = ""
    recording.save(update_fields=["status", "progress", "stage", "error", "updated_at"])
    limit = settings.RECORDING_TASK_TIME_LIMIT_SECONDS
    recording_id = recording.pk
    transaction.on_commit(
        lambda: enqueue.send(
            enqueue.PROCESS_RECORDING,
            recording_id,
            queue=settings.CELERY_MEDIA_QUEUE,
            time_limit=limit,
            soft_time_limit=soft_time_limit(limit),
        )
    )


def soft_time_limit(limit: int) -> int:
    """A little below the hard limit, so a run that overruns is recorded as FAILED."""
    return max(limit - 30, limit * 9 // 10)


def delete_recording(recording: Recording) -> None:
    """Delete the row; its whole folder (source, captions, outputs) goes after the commit."""
    recording_id = recording.pk
    with transaction.atomic():
        recording.delete()
        remove_folder_on_commit(recording_id)


def remove_folder_on_commit(recording_id: int) -> None:
    """Remove RECORDINGS_ROOT/<id>/ once the current transaction commits (now if none)."""
    root = paths.recording_root(recording_id)
    transaction.on_commit(lambda: _remove_tree(root))


def remove_deleted_recording_folder(
    sender: type[Recording], instance: Recording, **kwargs: object
) -> None:
    """post_delete receiver: deleting rows through the ORM or a queryset removes folders too."""
    if instance.pk is not None:
        remove_folder_on_commit(instance.pk)


def ready_recording(session: Session) -> Recording | None:
    """The session's newest READY recording."""
    return (
        Recording.objects.filter(session=session, status=RecordingStatus.READY)
        .exclude(published_dir="")
        .order_by("-ready_at", "-pk")
        .first()
    )


# --- One run -----------------------------------------------------------------------------------


def process_recording(recording_id: int) -> Recording | None:
    """The whole idempotent run; None when the recording no longer exists."""
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None or recording.status not in WAITING:
        return recording
    root = paths.recording_root(recording_id)
    with exclusive_lock(root / LOCK_NAME) as locked:
        if not locked:
            logger.info("Recording %s is already being processed", recording_id)
            return recording
        recording = _start_run(recording_id)
        if recording is None or recording.status != RecordingStatus.PROCESSING:
            if recording is None:
                _remove_tree(root)
            return recording
        return _run(recording)


def _start_run(recording_id: int) -> Recording | None:
    """Take the next generation and mark PROCESSING (re-checking under a row lock)."""
    with transaction.atomic():
        recording = (
            Recording.objects.select_for_update().filter(pk=recording_id).order_by("pk").first()
        )
        if recording is None or recording.status not in WAITING:
            return recording
        recording.generation += 1
        recording.status = RecordingStatus.PROCESSING
        recording.progress = 0
        recording.stage = "probing"
        recording.error = ""
        recording.save(
            update_fields=["generation", "status", "progress", "stage", "error", "updated_at"]
        )
    return recording


def _run(recording: Recording) -> Recording | None:
    _remove_stale_outputs(recording)
    work = paths.work_folder(recording, recording.generation)
    try:
        probed = _probe_source(recording)
        plan = transcode.plan_renditions(probed)
        _make_outputs(recording, probed, plan, work)
        return _publish(recording, work)
    except RecordingGone:
        _remove_tree(paths.recording_root(recording))
        return None
    except DatabaseError:
        _remove_tree(work)
        raise
    except (ProcessingFailed, NotAVideo, transcode.TranscodeError, images.ImageError) as error:
        return _fail(recording, work, str(error))
    except SoftTimeLimitExceeded:
        limit = settings.RECORDING_TASK_TIME_LIMIT_SECONDS
        return _fail(recording, work, f"Processing took longer than the {limit} s allowed.")
    except Exception as error:
        logger.exception("Processing recording %s failed", recording.pk)
        return _fail(recording, work, f"Processing failed unexpectedly ({error}).")


def _probe_source(recording: Recording) -> ProbeResult:
    source = paths.source_file(recording)
    root = paths.recording_root(recording).resolve()
    if source is None or not source.resolve().is_relative_to(root) or not source.is_file():
        raise ProcessingFailed("The source video file is missing.")
    probed = probe(source)
    width, height = transcode.display_size(probed)  # as shown: rotation, pixel aspect
    updated = Recording.objects.filter(pk=recording.pk).update(
        probe=probed.raw,
        duration_seconds=probed.duration,
        width=width,
        height=height,
        size_bytes=source.stat().st_size,
        progress=PROGRESS_AFTER["probing"],
        stage="poster",
        updated_at=timezone.now(),
    )
    if not updated:
        raise RecordingGone
    return probed


def _make_outputs(
    recording: Recording, probed: ProbeResult, plan: transcode.Plan, work: Path
) -> None:
    """Everything the published folder holds, written into `work`."""
    source = paths.source_file(recording)
    assert source is not None  # noqa: S101 - _probe_source checked it
    (work / "frames").mkdir(parents=True)
    for rendition in plan.renditions:
        (work / rendition.name).mkdir()
    poster_command, transcode_command = transcode.build_commands(source, work, plan)
    transcode.run_ffmpeg(poster_command)
    images.make_poster(
        transcode.poster_frame_path(work),
        work / "poster.jpg",
        size=(plan.top.width, plan.top.height),
    )
    reporter = ProgressReporter(recording.pk, duration=plan.duration)
    reporter.report("transcoding", PROGRESS_AFTER["poster"], force=True)
    transcode.run_ffmpeg(transcode_command, on_progress=reporter.transcoded)
    reporter.report("images", PROGRESS_AFTER["transcoding"], force=True)
    frames = sorted((work / "frames").glob("thumb_*.png"))
    images.make_thumbnails(
        frames, work / "thumbs", interval=plan.thumb_interval, duration=plan.duration
    )
    shutil.rmtree(work / "frames")
    transcode.write_master_playlist(work, plan, frame_rate=transcode.frame_rate_of(probed))
    (work / "chapters.vtt").write_text(
        chapters.recording_chapters_vtt(recording, duration=plan.duration)
    )
    reporter.report("publishing", PROGRESS_AFTER["images"], force=True)


def _publish(recording: Recording, work: Path) -> Recording | None:
    """Rename the finished work folder into place, then mark the row READY in one transaction."""
    published = f"gen-{recording.generation}"
    os.rename(work, paths.recording_root(recording) / published)
    with transaction.atomic():
        current = (
            Recording.objects.select_for_update().filter(pk=recording.pk).order_by("pk").first()
        )
        if current is None:
            raise RecordingGone
        current.status = RecordingStatus.READY
        current.published_dir = published
        current.ready_at = timezone.now()
        current.progress = 100
        current.stage = ""
        current.error = ""
        current.save(
            update_fields=[
                "status",
                "published_dir",
                "ready_at",
                "progress",
                "stage",
                "error",
                "updated_at",
            ]
        )
    _remove_stale_outputs(current)
    logger.info("Recording %s published as %s", current.pk, published)
    return current


def _fail(recording: Recording, work: Path, reason: str) -> Recording | None:
    _remove_tree(work)
    updated = Recording.objects.filter(pk=recording.pk).update(
        status=RecordingStatus.FAILED,
        error=reason,
        stage="",
        progress=0,
        updated_at=timezone.now(),
    )
    if not updated:
        _remove_tree(paths.recording_root(recording))
        return None
    logger.warning("Recording %s failed: %s", recording.pk, reason)
    recording.refresh_from_db()
    return recording


class ProgressReporter:
    """Writes stage and overall progress on the row, at most once per interval."""

    def __init__(self, recording_id: int, *, duration: Decimal) -> None:
        self.recording_id = recording_id
        self.duration = float(duration) or 1.0
        self.last_write = 0.0
        self.last_value = -1

    def transcoded(self, seconds: float) -> None:
        share = min(seconds / self.duration, 1.0)
        start, end = PROGRESS_AFTER["poster"], PROGRESS_AFTER["transcoding"]
        self.report("transcoding", int(start + (end - start) * share))

    def report(self, stage: str, progress: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and (
            progress == self.last_value or now - self.last_write < PROGRESS_INTERVAL_SECONDS
        ):
            return
        updated = Recording.objects.filter(pk=self.recording_id).update(
            stage=stage, progress=progress, updated_at=timezone.now()
        )
        if not updated:
            raise RecordingGone
        self.last_write, self.last_value = now, progress


# --- Files -------------------------------------------------------------------------------------


def _remove_stale_outputs(recording: Recording) -> None:
    """Remove work folders of earlier runs and every generation but the published one."""
    root = paths.recording_root(recording)
    current_work = f"work-{recording.generation}" if recording.status == "processing" else ""
    for folder in root.glob("*-*"):
        stale_work = folder.name.startswith("work-") and folder.name != current_work
        stale_gen = folder.name.startswith("gen-") and folder.name != recording.published_dir
        if folder.is_dir() and (stale_work or stale_gen):
            _remove_tree(folder)


def _remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
