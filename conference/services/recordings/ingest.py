"""Taking in an uploaded recording: stream it to disk, decide by content, move it into place.

An upload never passes through memory or MEDIA_ROOT: `RecordingUploadHandler` writes the
request's file chunks straight into `RECORDINGS_ROOT/.uploads/` (the same file system as the
recordings, so accepting it is one atomic rename) and stops the upload once it passes
`settings.RECORDING_MAX_UPLOAD_BYTES`, or at once when the request's Content-Length says it will.
What the file is gets decided by `probe.probe` (ffprobe on the content), never by its name.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from conference.models import Recording, RecordingSource, Session
from conference.services.recordings import paths, pipeline
from conference.services.recordings.probe import ProbeResult

logger = logging.getLogger(__name__)

UPLOADS_FOLDER = ".uploads"
SOURCE_NAME = "source/video"
# Partial uploads older than this are left over from a crash and removed on the next upload.
STALE_UPLOAD_SECONDS = 24 * 3600
# Room for the form's other fields and the multipart framing around the file.
MULTIPART_ALLOWANCE = 1024 * 1024


def uploads_folder() -> Path:
    return Path(settings.RECORDINGS_ROOT) / UPLOADS_FOLDER


def describe_limit(limit: int) -> str:
    """The upload limit in words: "8 GB", "1.5 GB", "200 MB"."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if limit >= size:
            value = f"{limit / size:.1f}".removesuffix(".0")
            return f"{value} {unit}"
    return f"{limit} bytes"


def too_large_message(limit: int | None = None) -> str:
    limit = settings.RECORDING_MAX_UPLOAD_BYTES if limit is None else limit
    return f"The file is larger than the limit of {describe_limit(limit)}."


class StreamedUpload(UploadedFile):
    """An uploaded file already on disk at `path` (under the uploads folder)."""

    def __init__(
        self,
        file: IO[bytes],
        *,
        path: Path,
        name: str | None,
        content_type: str | None,
        size: int,
        charset: str | None,
    ) -> None:
        super().__init__(file, name, content_type, size, charset)
        self.path = path

    def temporary_file_path(self) -> str:
        return str(self.path)


class RecordingUploadHandler(FileUploadHandler):
    """Write the uploaded file to a temp file under RECORDINGS_ROOT/.uploads/, chunk by chunk.

    Install it for one view only, before anything reads `request.POST` (see Django's
    "Modifying upload handlers on the fly"). After parsing, `refusal` says why the file was
    refused (too large, no room on disk), `path` is the partial or complete file, if any;
    the view removes it with `discard()` unless the upload was accepted.
    """

    chunk_size = 1024 * 1024

    def __init__(self, request: HttpRequest | None = None, *, limit: int | None = None) -> None:
        super().__init__(request)
        self.limit = settings.RECORDING_MAX_UPLOAD_BYTES if limit is None else limit
        self.refusal = ""
        self.path: Path | None = None
        self.stream: IO[bytes] | None = None  # not `file`: Django closes a handler's `file` itself
        self.written = 0

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, str],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        """Refuse before reading any file byte when the declared length is already too much."""
        if content_length and content_length > self.limit + MULTIPART_ALLOWANCE:
            self.refusal = too_large_message(self.limit)
            return
        folder = uploads_folder()
        folder.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(folder).free
        if content_length and content_length > free:
            self.refusal = "There is not enough disk space for this file right now."

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if self.refusal:
            raise StopUpload(connection_reset=True)
        if self.path is not None:
            self.refusal = "Upload one video at a time."
            raise StopUpload(connection_reset=True)
        remove_stale_uploads()
        descriptor, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=uploads_folder())
        self.path = Path(name)
        self.stream = os.fdopen(descriptor, "w+b")
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.written += len(raw_data)
        if self.written > self.limit:
            self.refusal = too_large_message(self.limit)
            self.discard()
            raise StopUpload(connection_reset=True)
        assert self.stream is not None  # noqa: S101 - opened by new_file
        self.stream.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> StreamedUpload:
        assert self.stream is not None and self.path is not None  # noqa: S101 - see new_file
        self.stream.flush()
        self.stream.seek(0)
        return StreamedUpload(
            self.stream,
            path=self.path,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
        )

    def upload_interrupted(self) -> None:
        self.discard()

    def discard(self) -> None:
        """Close and remove the temp file (an accepted upload has already been moved away)."""
        if self.stream is not None:
            self.stream.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def remove_stale_uploads(*, older_than: int = STALE_UPLOAD_SECONDS) -> int:
    """Remove partial uploads a crashed request left behind; return how many."""
    folder = uploads_folder()
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for entry in folder.glob("upload-*.part"):
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def ingest_upload(
    *,
    session: Session,
    upload: Path,
    original_name: str,
    probe: ProbeResult,
    created_by: User | None = None,
) -> Recording:
    """Create the recording of `session` from the probed file at `upload`, move the file into
    the recording's `source/` folder (one rename) and queue the processing."""
    with transaction.atomic():
        recording = Recording.objects.create(
            session=session,
            source=RecordingSource.UPLOAD,
            original_name=original_name[:255],
            size_bytes=upload.stat().st_size,
            probe=probe.raw,
            duration_seconds=probe.duration,
            width=probe.width or None,
            height=probe.height or None,
            created_by=created_by,
        )
        root = paths.recording_root(recording)
        target = root / SOURCE_NAME
        try:
            # a new row's folder can only be left over from a rolled-back attempt
            shutil.rmtree(root, ignore_errors=True)
            target.parent.mkdir(parents=True)
            os.replace(upload, target)
            recording.source_path = SOURCE_NAME
            recording.save(update_fields=["source_path", "updated_at"])
            pipeline.queue_processing(recording)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
    logger.info("recording %s: upload of %s bytes accepted", recording.pk, recording.size_bytes)
    return recording
