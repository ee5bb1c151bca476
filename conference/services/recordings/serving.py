"""Which files of a published recording may be served, as what, and its playlists rewritten.

Only names matching a strict pattern are ever looked up (one optional folder level, plain
letters, digits, `_` and `-`, one known extension), and only inside the published folder, so no
request can reach the source, a work folder or anything outside the recording.
"""

import posixpath
import re
from collections.abc import Callable
from pathlib import Path

from conference.models import Recording, RecordingCaption
from conference.services.recordings.paths import published_folder, recording_root

FOLDER_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
FILE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(m3u8|ts|m4s|mp4|m4a|aac|vtt|jpg)$")
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,35}$")
CONTENT_TYPES = {
    "m3u8": "application/vnd.apple.mpegurl",
    "ts": "video/mp2t",
    "m4s": "video/mp4",
    "mp4": "video/mp4",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "vtt": "text/vtt; charset=utf-8",
    "jpg": "image/jpeg",
}
URI_ATTRIBUTE = re.compile(r'URI="([^"]*)"')


class NotServable(Exception):
    """The name is not one the published folder serves."""


def valid_name(name: str) -> bool:
    """Whether `name` ("master.m3u8", "360p/seg_00001.ts") is a well-formed published name."""
    folder, _, file_name = name.rpartition("/")
    if folder and not FOLDER_PATTERN.match(folder):
        return False
    return bool(FILE_PATTERN.match(file_name))


def content_type(name: str) -> str:
    return CONTENT_TYPES[name.rsplit(".", 1)[-1]]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve(strict=True).relative_to(folder.resolve(strict=True))
    except (OSError, ValueError):
        return False
    return True


def published_file(recording: Recording, name: str) -> Path:
    """The file `name` of the published folder; raise NotServable if there is no such file."""
    folder = published_folder(recording)
    if folder is None or not valid_name(name):
        raise NotServable(name)
    path = folder.joinpath(*name.split("/"))
    if not path.is_file() or not _inside(path, folder):
        raise NotServable(name)
    return path


def caption_file(recording: Recording, language: str) -> Path:
    """The caption file of `language`; raise NotServable when the recording has none."""
    if not LANGUAGE_PATTERN.match(language or ""):
        raise NotServable(language)
    caption = RecordingCaption.objects.filter(recording=recording, language=language).first()
    if caption is None:
        raise NotServable(language)
    root = recording_root(recording)
    path = root / caption.file_path
    if not path.is_file() or not _inside(path, root):
        raise NotServable(language)
    return path


def resolve_uri(playlist_name: str, uri: str) -> str:
    """The published name a playlist URI refers to, relative to the playlist's folder."""
    if not uri or "://" in uri or uri.startswith("/") or "?" in uri or "#" in uri:
        raise NotServable(uri)
    base = posixpath.dirname(playlist_name)
    name = posixpath.normpath(posixpath.join(base, uri))
    if name.startswith("..") or not valid_name(name):
        raise NotServable(uri)
    return name


def rewrite_playlist(text: str, playlist_name: str, url_for: Callable[[str], str]) -> str:
    """`text` with every URI (plain lines and URI="..." attributes) replaced by `url_for(name)`.

    Raises NotServable when a URI points outside the published folder.
    """
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            lines.append("")
        elif stripped.startswith("#"):
            lines.append(
                URI_ATTRIBUTE.sub(
                    lambda m: f'URI="{url_for(resolve_uri(playlist_name, m[1]))}"', stripped
                )
            )
        else:
            lines.append(url_for(resolve_uri(playlist_name, stripped)))
    return "\n".join(lines) + "\n"


RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `Range: bytes=a-b` header, or None when it is unusable."""
    match = RANGE_PATTERN.match((header or "").strip())
    if not match or size <= 0 or (not match[1] and not match[2]):
        return None
    if match[1]:
        first = int(match[1])
        last = int(match[2]) if match[2] else size - 1
    else:
        first, last = max(size - int(match[2]), 0), size - 1
    last = min(last, size - 1)
    if first > last:
        return None
    return first, last
