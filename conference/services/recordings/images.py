"""Poster and thumbnails, made with Pillow from frames ffmpeg extracted during the run.

The poster is a JPEG of the top rendition's size. Thumbnails are small JPEGs, one every
`plan.thumb_interval` seconds, letterboxed to THUMB_SIZE, listed in `thumbs/thumbs.vtt`
(a WebVTT track players use for scrubbing previews).
"""

from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageOps

from conference.services.recordings.chapters import format_timestamp

THUMB_SIZE = (160, 90)
POSTER_QUALITY = 85
THUMB_QUALITY = 75


class ImageError(RuntimeError):
    """ffmpeg extracted no usable frame."""


def make_poster(frame: Path, poster: Path, *, size: tuple[int, int]) -> Path:
    """Write `poster` (JPEG, exactly `size`) from the extracted `frame`."""
    if not frame.exists():
        raise ImageError("ffmpeg extracted no frame for the poster.")
    with Image.open(frame) as image:
        picture = ImageOps.pad(image.convert("RGB"), size, color="black")
    picture.save(poster, "JPEG", quality=POSTER_QUALITY, optimize=True, progressive=True)
    return poster


def make_thumbnails(
    frames: list[Path], folder: Path, *, interval: int, duration: Decimal
) -> list[Path]:
    """Write thumb_000.jpg... from `frames` (one per `interval` seconds) and thumbs.vtt."""
    folder.mkdir(parents=True, exist_ok=True)
    thumbs = []
    for index, frame in enumerate(frames):
        with Image.open(frame) as image:
            thumb = ImageOps.pad(image.convert("RGB"), THUMB_SIZE, color="black")
        path = folder / f"thumb_{index:03d}.jpg"
        thumb.save(path, "JPEG", quality=THUMB_QUALITY, optimize=True)
        thumbs.append(path)
    (folder / "thumbs.vtt").write_text(thumbnails_vtt(len(thumbs), interval, duration))
    return thumbs


def thumbnails_vtt(count: int, interval: int, duration: Decimal) -> str:
    """A WebVTT track pointing each `interval`-second stretch at its thumbnail."""
    lines = ["WEBVTT", ""]
    end_of_video = Decimal(duration)
    for index in range(count):
        start = Decimal(index * interval)
        if start >= end_of_video:
            break
        end = min(start + interval, end_of_video)
        lines += [f"{format_timestamp(start)} --> {format_timestamp(end)}"]
        lines += [f"thumb_{index:03d}.jpg", ""]
    return "\n".join(lines)
