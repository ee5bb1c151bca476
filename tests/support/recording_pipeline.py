"""Helpers for the recording pipeline tests: recordings with a source file, playlist reading."""

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

from conference.models import Recording, RecordingStatus
from conference.services.recordings import paths
from conference.services.recordings.transcode import read_media_playlist
from tests.factories import SessionFactory


def recording_with_source(source: Path, *, session=None, **fields) -> Recording:
    """A QUEUED recording whose source is a copy of `source`."""
    recording = Recording.objects.create(
        session=session or SessionFactory(),
        status=RecordingStatus.QUEUED,
        original_name=source.name,
        source_path=f"source/{source.name}",
        **fields,
    )
    folder = paths.source_folder(recording)
    folder.mkdir(parents=True)
    shutil.copyfile(source, folder / source.name)
    return recording


def master_entries(master: Path) -> list[tuple[dict[str, str], str]]:
    """(attributes, uri) of each EXT-X-STREAM-INF of a master playlist."""
    entries, attributes = [], None
    for line in master.read_text().splitlines():
        if line.startswith("#EXT-X-STREAM-INF:"):
            attributes = _attributes(line.split(":", 1)[1])
        elif line and not line.startswith("#") and attributes is not None:
            entries.append((attributes, line))
            attributes = None
    return entries


def _attributes(text: str) -> dict[str, str]:
    result, key, value, quoted = {}, "", "", False
    reading_key = True
    for char in text + ",":
        if reading_key:
            if char == "=":
                reading_key = False
            else:
                key += char
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            result[key.strip()] = value
            key, value, reading_key = "", "", True
        else:
            value += char
    return result


def playlist_duration(playlist: Path) -> Decimal:
    return sum((s.duration for s in read_media_playlist(playlist)), Decimal(0))


def ffprobe_streams(path: Path) -> list[dict]:
    import json

    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        capture_output=True,
        check=True,
        timeout=30,
    )
    return json.loads(completed.stdout)["streams"]


def folders(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir())
