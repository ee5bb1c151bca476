"""Decide what a file is by probing its content with ffprobe, never by its name.

ffprobe opens only the one file, in an allowed container format (`media_input`): a playlist,
concat list or other list of inputs is refused before anything it names is opened.
"""

import json
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from conference.services.recordings import media_input

PROBE_TIMEOUT_SECONDS = 60
# Containers ffprobe reports for still images: a picture is not a recording.
STILLS = {"png", "mjpeg"}
IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif", "bmp_pipe", "tiff_pipe"}


class NotAVideo(ValueError):
    """The file is not a video we can process; the message says why, for the organizer."""


@dataclass(frozen=True)
class ProbeResult:
    format_name: str
    duration: Decimal
    width: int
    height: int
    video_codec: str
    audio_codec: str  # empty when the file has no audio
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codec)

    @property
    def demuxer(self) -> str:
        """The allowed demuxer ffmpeg is forced to use on this file ("mov", "matroska" ...)."""
        return media_input.checked_demuxer(self.format_name)


def run_ffprobe(path: Path) -> dict[str, Any]:
    """ffprobe's JSON for the file at `path`, opened as `media_input` allows (NotAVideo if not)."""
    command = [
        *("ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams"),
        *media_input.input_options(),
        media_input.input_url(path),
    ]
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argv, the path is ours
            command, capture_output=True, timeout=PROBE_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise NotAVideo("The file could not be read in time (ffprobe timed out).") from error
    if completed.returncode != 0:
        stderr = completed.stderr.decode(errors="replace")
        if refusal := media_input.whitelist_refusal(stderr):
            raise NotAVideo(refusal)
        detail = stderr.strip().splitlines()
        reason = detail[-1].split(": ", 1)[-1] if detail else "unknown format"
        raise NotAVideo(f"This is not a video file ffmpeg can read ({reason}).")
    data: dict[str, Any] = json.loads(completed.stdout or b"{}")
    return data


def probe(path: Path) -> ProbeResult:
    """Probe `path`; raise NotAVideo with a clear reason unless it is a playable video in an
    allowed container that names no other input."""
    if reason := media_input.indirection_reason(path):
        raise NotAVideo(reason)
    data = run_ffprobe(path)
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    format_name = str(fmt.get("format_name", ""))
    try:
        media_input.checked_demuxer(format_name)
    except media_input.RefusedInput as error:
        raise NotAVideo(str(error)) from error
    video = [s for s in streams if s.get("codec_type") == "video" and not _is_cover_art(s)]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    still = format_name in IMAGE_FORMATS or (video and video[0].get("codec_name") in STILLS)
    if still and _duration(fmt, video) <= 0:
        raise NotAVideo("This is a still image, not a video.")
    if not video:
        raise NotAVideo("The file has no video stream.")
    duration = _duration(fmt, video)
    if duration <= 0:
        raise NotAVideo("The video has no duration (the file may be truncated).")
    stream = video[0]
    return ProbeResult(
        format_name=format_name,
        duration=duration,
        width=int(stream.get("width") or 0),
        height=int(stream.get("height") or 0),
        video_codec=str(stream.get("codec_name", "")),
        audio_codec=str(audio[0].get("codec_name", "")) if audio else "",
        raw=data,
    )


def _is_cover_art(stream: dict[str, Any]) -> bool:
    return bool((stream.get("disposition") or {}).get("attached_pic"))


def _duration(fmt: dict[str, Any], video: list[dict[str, Any]]) -> Decimal:
    for raw in [fmt.get("duration")] + [s.get("duration") for s in video]:
        try:
            value = Decimal(str(raw))
        except (ArithmeticError, ValueError, TypeError):
            continue
        if value.is_finite() and value > 0:
            return value.quantize(Decimal("0.001"))
    return Decimal(0)
