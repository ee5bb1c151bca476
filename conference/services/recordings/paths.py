"""Where a recording's files live (see `conference.models.recordings` for the layout).

RECORDINGS_ROOT/<id>/source/<file>          the uploaded or captured source
RECORDINGS_ROOT/<id>/captions/<lang>.vtt    validated caption files
RECORDINGS_ROOT/<id>/work-<generation>/     a processing run in progress (never served)
RECORDINGS_ROOT/<id>/gen-<generation>/      the published output, renamed into place whole:
    master.m3u8                             master playlist (renditions + audio-only)
    360p/index.m3u8, 360p/seg_00000.ts ...  one folder per rendition
    720p/..., audio/...
    poster.jpg, thumbs/thumb_000.jpg ...    Pillow-made images
    chapters.vtt                            chapters from the schedule
"""

from pathlib import Path

from django.conf import settings

from conference.models import Recording


def recording_root(recording: Recording | int) -> Path:
    recording_id = recording if isinstance(recording, int) else recording.pk
    return Path(settings.RECORDINGS_ROOT) / str(recording_id)


def source_folder(recording: Recording) -> Path:
    return recording_root(recording) / "source"


def source_file(recording: Recording) -> Path | None:
    if not recording.source_path:
        return None
    return recording_root(recording) / recording.source_path


def captions_folder(recording: Recording) -> Path:
    return recording_root(recording) / "captions"


def work_folder(recording: Recording, generation: int) -> Path:
    return recording_root(recording) / f"work-{generation}"


def published_folder(recording: Recording) -> Path | None:
    """The folder viewers are served from, or None while nothing is published."""
    if not recording.published_dir:
        return None
    return recording_root(recording) / recording.published_dir
