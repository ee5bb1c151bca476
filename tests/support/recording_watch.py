"""Published recordings for the watching tests: a short ffmpeg HLS folder laid out like the
pipeline's output (gen-<n>/master.m3u8, 360p/index.m3u8 + segments, poster.jpg, chapters.vtt)
plus caption files and rows. Call it with settings.RECORDINGS_ROOT pointed at a tmp folder."""

import shutil
import subprocess
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from PIL import Image

from conference.models import Recording, RecordingCaption, RecordingStatus
from conference.services.recordings.paths import captions_folder, recording_root
from tests.factories import EventFactory
from venues.demo import build_demo_venue


def event_in_demo_venue(**event_fields):
    """An event running yesterday to tomorrow in the demo venue, and the current minute."""
    venue = build_demo_venue()
    today = timezone.now().date()
    event = EventFactory(
        start_date=today - timedelta(days=1),
        end_date=today + timedelta(days=1),
        venue=venue,
        **event_fields,
    )
    event.organizer.venues.add(venue)
    return venue, event, timezone.now().replace(second=0, microsecond=0)


DEFAULT_CHAPTERS = (
    (0.0, "Welcome and objectives"),
    (2.0, "Case discussion"),
)


def _vtt_clock(seconds: float) -> str:
    whole = int(seconds)
    millis = round((seconds - whole) * 1000)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{millis:03d}"


def write_hls(folder, *, seconds: float, size: str = "320x180") -> None:
    """An H.264/AAC HLS VOD rendition `360p/` with 1 s segments and a master playlist."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
        "-c:a", "aac", "-shortest",
        "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
        "-hls_segment_filename", "%v/seg_%05d.ts",
        "-master_pl_name", "master.m3u8",
        "-var_stream_map", "v:0,a:0,name:360p",
        "%v/index.m3u8",
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=120, cwd=folder)


_MADE: dict[float, Path] = {}


def copy_hls(folder, *, seconds: float) -> None:
    """`write_hls` once per length per test run, then copies (ffmpeg is the slow part)."""
    if seconds not in _MADE:
        made = Path(tempfile.mkdtemp(prefix="medvenue-hls-")) / "hls"
        write_hls(made, seconds=seconds)
        _MADE[seconds] = made
    shutil.copytree(_MADE[seconds], folder)


def write_chapters(path, chapters, *, seconds: float) -> None:
    lines = ["WEBVTT", ""]
    for index, (start, title) in enumerate(chapters):
        end = chapters[index + 1][0] if index + 1 < len(chapters) else seconds
        lines += [f"{_vtt_clock(start)} --> {_vtt_clock(end)}", title, ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def publish_test_recording(
    session,
    *,
    seconds: float = 4,
    chapters=DEFAULT_CHAPTERS,
    captions=(("en", "English"), ("es", "Español")),
    generation: int = 1,
) -> Recording:
    """A READY recording of `session` with real HLS files, poster, chapters and captions."""
    recording = Recording.objects.create(
        session=session, status=RecordingStatus.PROCESSING, duration_seconds=Decimal(seconds)
    )
    published = recording_root(recording) / f"gen-{generation}"
    copy_hls(published, seconds=seconds)
    Image.new("RGB", (320, 180), (11, 79, 138)).save(published / "poster.jpg", quality=80)
    if chapters:
        write_chapters(published / "chapters.vtt", chapters, seconds=seconds)
    folder = captions_folder(recording)
    folder.mkdir(parents=True, exist_ok=True)
    for language, label in captions:
        (folder / f"{language}.vtt").write_text(
            f"WEBVTT\n\n00:00:00.000 --> {_vtt_clock(seconds)}\n[{label}] Test pattern\n",
            encoding="utf-8",
        )
        RecordingCaption.objects.create(
            recording=recording,
            language=language,
            label=label,
            file_path=f"captions/{language}.vtt",
            cue_count=1,
        )
    recording.status = RecordingStatus.READY
    recording.generation = generation
    recording.published_dir = f"gen-{generation}"
    recording.ready_at = timezone.now()
    recording.width, recording.height = 320, 180
    recording.save()
    return recording
