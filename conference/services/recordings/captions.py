"""Caption files of recordings: strict WebVTT validation and atomic storage, one per language.

A caption file is checked before it is stored: UTF-8 text under MAX_CAPTION_BYTES, the WEBVTT
header, well-formed cue timings that end after they start and (when the recording's duration is
known) not after the recording ends, and at least one cue. Errors name the line, so an organizer
can fix the file. Stored files live at RECORDINGS_ROOT/<id>/captions/<language>.vtt and are
replaced by one rename.
"""

from __future__ import annotations

import os
import re
import tempfile
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from conference.models import Recording, RecordingCaption
from conference.services.recordings import paths

MAX_CAPTION_BYTES = 2 * 1024 * 1024
# Cues may end this much after the recording's probed duration (encoders round differently).
DURATION_TOLERANCE = Decimal("1.0")

_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t]+.*)?$")
_HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")
# BCP 47, the common part: language, optional script, optional region, optional variants.
_LANGUAGE_TAG = re.compile(
    r"^(?P<language>[A-Za-z]{2,3})(?:-(?P<script>[A-Za-z]{4}))?"
    r"(?:-(?P<region>[A-Za-z]{2}|\d{3}))?(?P<variants>(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*)$"
)


class InvalidCaptions(ValueError):
    """The caption file or its language cannot be used; the message says why."""


def normalize_language(tag: str) -> str:
    """A BCP 47 tag in its usual case ("pt-br" -> "pt-BR"); InvalidCaptions when malformed."""
    match = _LANGUAGE_TAG.match(tag.strip())
    if not match:
        raise InvalidCaptions(
            f"“{tag.strip()}” is not a language tag; use a BCP 47 tag such as en, es or pt-BR."
        )
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    parts += [variant.lower() for variant in match["variants"].split("-") if variant]
    return "-".join(parts)


def format_seconds(value: Decimal) -> str:
    total_ms = int(value * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> Decimal:
    return (
        Decimal(int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds))
        + Decimal(int(millis)) / 1000
    )


def _decode(data: bytes) -> list[str]:
    if len(data) > MAX_CAPTION_BYTES:
        raise InvalidCaptions(
            f"The caption file is larger than {MAX_CAPTION_BYTES // (1024 * 1024)} MB."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidCaptions(
            f"The caption file is not UTF-8 text (byte {error.start + 1} cannot be read). "
            "Save it as UTF-8 and upload it again."
        ) from error
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise InvalidCaptions("The caption file contains NUL characters; it is not a text file.")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks after the header block, with their first line number."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        if line.strip() == "":
            if current:
                blocks.append((start, current))
            current = []
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        blocks.append((start, current))
    return blocks[1:]  # the first block is the header


def _check_cue(first_line: int, block: list[str], duration: Decimal | None) -> None:
    timing_index = 0 if "-->" in block[0] else 1
    if timing_index >= len(block) or "-->" not in block[timing_index]:
        raise InvalidCaptions(
            f"Line {first_line}: expected a cue timing line such as "
            "“00:00:01.000 --> 00:00:04.000” (is a blank line missing or extra?)."
        )
    number = first_line + timing_index
    match = _TIMING.match(block[timing_index].strip())
    if not match:
        raise InvalidCaptions(
            f"Line {number}: “{block[timing_index].strip()[:80]}” is not a valid cue timing; "
            "write times as hh:mm:ss.ttt or mm:ss.ttt, e.g. 00:01:02.500 --> 00:01:05.000."
        )
    start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
    if end <= start:
        raise InvalidCaptions(
            f"Line {number}: the cue ends ({format_seconds(end)}) before or when it starts "
            f"({format_seconds(start)})."
        )
    if duration is not None and end > duration + DURATION_TOLERANCE:
        raise InvalidCaptions(
            f"Line {number}: the cue ends at {format_seconds(end)}, after the end of the "
            f"recording ({format_seconds(duration)})."
        )
    for offset, line in enumerate(block[timing_index + 1 :], start=number + 1):
        if "-->" in line:
            raise InvalidCaptions(
                f"Line {offset}: cue text cannot contain “-->” (is a blank line missing "
                "before this cue?)."
            )


def validate_webvtt(data: bytes, *, duration: Decimal | None = None) -> int:
    """Check a WebVTT file and return its number of cues; InvalidCaptions says what is wrong."""
    lines = _decode(data)
    if not _HEADER.match(lines[0]):
        raise InvalidCaptions(
            "The file does not start with the “WEBVTT” header; it is not a WebVTT caption file"
            " (SubRip .srt files must be converted first)."
        )
    cues = 0
    for first_line, block in _blocks(lines):
        keyword = block[0].split(maxsplit=1)[0] if block[0].split() else ""
        if keyword in {"NOTE", "STYLE", "REGION"} and "-->" not in block[0]:
            if cues and keyword != "NOTE":
                raise InvalidCaptions(f"Line {first_line}: {keyword} blocks must come before cues.")
            continue
        _check_cue(first_line, block, duration)
        cues += 1
    if cues == 0:
        raise InvalidCaptions("The caption file has no cues.")
    return cues


def caption_file(recording: Recording, language: str) -> Path:
    return paths.captions_folder(recording) / f"{language}.vtt"


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=".caption-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def attach_caption(
    recording: Recording, *, language: str, label: str, data: bytes
) -> RecordingCaption:
    """Validate `data` and store it as the recording's captions in `language`, replacing the
    file of that language if there is one."""
    language = normalize_language(language)
    label = label.strip()[:60] or language
    duration = recording.duration_seconds
    cue_count = validate_webvtt(data, duration=Decimal(duration) if duration else None)
    target = caption_file(recording, language)
    with transaction.atomic():
        caption, _ = RecordingCaption.objects.update_or_create(
            recording=recording,
            language=language,
            defaults={
                "label": label,
                "cue_count": cue_count,
                "file_path": str(target.relative_to(paths.recording_root(recording))),
            },
        )
        _write_atomically(target, data)
    return caption


def relabel_caption(caption: RecordingCaption, *, label: str) -> RecordingCaption:
    caption.label = label.strip()[:60] or caption.language
    caption.save(update_fields=["label"])
    return caption


def remove_caption(caption: RecordingCaption) -> None:
    """Delete the caption row; its file goes once the deletion commits."""
    target = paths.recording_root(caption.recording_id) / caption.file_path
    caption.delete()
    transaction.on_commit(lambda: target.unlink(missing_ok=True))
