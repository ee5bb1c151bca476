"""Transcoding a source into adaptive HLS with one ffmpeg run, and reading its progress.

Every run opens only the source file, with the probed demuxer forced (`media_input`).
`plan_renditions` picks the ladder from the probe (360p and 720p without upscaling, plus an
audio-only rendition when the source has sound). `build_commands` returns the exact argv lists
the pipeline runs: a poster frame, then ONE transcode that decodes the source once, splits the
picture into every rendition and the thumbnail frames, and writes all HLS renditions with
keyframes forced on the same instants (so segments align across renditions). The benchmark
runs the same lists bare. `write_master_playlist` writes the master playlist from the media
playlists actually produced (peak and average bandwidth measured from the segments).
"""

import contextlib
import ctypes
import math
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from conference.services.recordings import media_input
from conference.services.recordings.probe import ProbeResult
from conference.services.recordings.processes import stop_process

SEGMENT_SECONDS = 4
X264_PRESET = "veryfast"
AUDIO_BITRATE = "96k"
AUDIO_CODECS = "mp4a.40.2"  # AAC-LC
THUMB_FRAME_SIZE = (320, 180)  # frames ffmpeg hands to Pillow for the thumbnails
MAX_THUMBNAILS = 240
MIN_THUMB_INTERVAL = 2
FFMPEG_LOG_TAIL = 4000
PR_SET_PDEATHSIG = 1


class TranscodeError(RuntimeError):
    """ffmpeg failed; the message says why, for the organizer."""


@dataclass(frozen=True)
class VideoRung:
    name: str  # folder name: "360p", "720p"
    height: int
    video_bitrate: int  # bits per second
    profile: str
    level: str
    codecs: str  # RFC 6381 codec string of the H.264 profile and level

    @property
    def maxrate(self) -> int:
        return self.video_bitrate * 107 // 100

    @property
    def bufsize(self) -> int:
        return self.video_bitrate * 3 // 2


LADDER = (
    VideoRung("360p", 360, 800_000, "main", "3.0", "avc1.4d401e"),
    VideoRung("720p", 720, 2_800_000, "main", "3.1", "avc1.4d401f"),
)


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int = 0  # 0 for the audio-only rendition
    height: int = 0
    video_bitrate: int = 0
    rung: VideoRung | None = None
    audio: bool = True

    @property
    def is_video(self) -> bool:
        return self.rung is not None

    @property
    def codecs(self) -> str:
        parts = [self.rung.codecs] if self.rung else []
        return ",".join([*parts, AUDIO_CODECS] if self.audio else parts)


@dataclass(frozen=True)
class Plan:
    """What one processing run makes of a source."""

    renditions: tuple[Rendition, ...]
    duration: Decimal
    has_audio: bool
    thumb_interval: int
    poster_at: float
    demuxer: str  # the probed container's demuxer, forced on every ffmpeg run (media_input)

    @property
    def video(self) -> tuple[Rendition, ...]:
        return tuple(r for r in self.renditions if r.is_video)

    @property
    def top(self) -> Rendition:
        return max(self.video, key=lambda r: r.height)


def display_size(probed: ProbeResult) -> tuple[int, int]:
    """Width and height as shown: square pixels, rotation applied (ffmpeg autorotates)."""
    stream = _video_stream(probed)
    width, height = probed.width, probed.height
    sar = str(stream.get("sample_aspect_ratio") or "1:1")
    with contextlib.suppress(ValueError, ZeroDivisionError):
        num, den = (int(x) for x in sar.split(":"))
        if num > 0 and den > 0:
            width = round(width * num / den)
    if _rotation(stream) % 180 == 90:
        width, height = height, width
    return width, height


def plan_renditions(probed: ProbeResult) -> Plan:
    """The renditions for `probed`: no upscaling, at least one video rung, audio-only if sound.

    A rung's height applies to the picture's short side, so a portrait phone video gets
    720x1280 for "720p" rather than a thumbnail-wide strip.
    """
    width, height = display_size(probed)
    if width <= 0 or height <= 0:
        raise TranscodeError("The video has no picture size ffmpeg can read.")
    short = min(width, height)
    rungs = [rung for rung in LADDER if rung.height <= short] or [LADDER[0]]
    renditions = []
    for rung in rungs:
        scale = min(rung.height, short) / short
        out_width, out_height = _even(width * scale), _even(height * scale)
        bitrate = int(rung.video_bitrate * min(rung.height, short) / rung.height)
        renditions.append(
            Rendition(rung.name, out_width, out_height, bitrate, rung, audio=probed.has_audio)
        )
    if probed.has_audio:
        renditions.append(Rendition("audio"))
    duration = probed.duration
    interval = max(MIN_THUMB_INTERVAL, math.ceil(float(duration) / MAX_THUMBNAILS))
    return Plan(
        renditions=tuple(renditions),
        duration=duration,
        has_audio=probed.has_audio,
        thumb_interval=interval,
        poster_at=round(min(float(duration) * 0.1, 30.0), 3),
        demuxer=probed.demuxer,
    )


def poster_frame_path(work: Path) -> Path:
    return work / "frames" / "poster.png"


def thumb_frames_pattern(work: Path) -> Path:
    return work / "frames" / "thumb_%05d.png"


def build_commands(source: Path, work: Path, plan: Plan) -> list[list[str]]:
    """The ffmpeg argv lists of one run: the poster frame, then the one transcode."""
    return [_poster_command(source, work, plan), _transcode_command(source, work, plan)]


def _poster_command(source: Path, work: Path, plan: Plan) -> list[str]:
    top = plan.top
    return [
        *_ffmpeg_head(),
        *("-ss", f"{plan.poster_at:.3f}", *media_input.input_arguments(source, plan.demuxer)),
        *("-map", "0:v:0", "-frames:v", "1"),
        *("-vf", f"scale={top.width}:{top.height},setsar=1"),
        *("-c:v", "png", "-f", "image2", "-update", "1"),
        str(poster_frame_path(work)),
    ]


def _transcode_command(source: Path, work: Path, plan: Plan) -> list[str]:
    video = plan.video
    branches = len(video) + 1
    labels = "".join(f"[s{i}]" for i in range(branches))
    graph = [f"[0:v:0]split={branches}{labels}"]
    for i, rendition in enumerate(video):
        graph.append(f"[s{i}]scale={rendition.width}:{rendition.height},setsar=1[v{i}]")
    thumb_w, thumb_h = THUMB_FRAME_SIZE
    graph.append(
        f"[s{len(video)}]fps=1/{plan.thumb_interval},"
        f"scale={thumb_w}:{thumb_h}:force_original_aspect_ratio=decrease[thumbs]"
    )
    command = [
        *_ffmpeg_head(),
        *media_input.input_arguments(source, plan.demuxer),
        *("-filter_complex", ";".join(graph)),
    ]
    stream_map = []
    for i, rendition in enumerate(video):
        command += ["-map", f"[v{i}]"]
        entry = f"v:{i}"
        if rendition.audio:
            command += ["-map", "0:a:0"]
            entry += f",a:{i}"
        stream_map.append(f"{entry},name:{rendition.name}")
    if plan.has_audio:
        command += ["-map", "0:a:0"]
        stream_map.append(f"a:{len(video)},name:audio")
    command += _video_options(plan)
    if plan.has_audio:
        command += ["-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ac", "2", "-ar", "48000"]
    command += [
        *("-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod"),
        *("-hls_flags", "independent_segments", "-hls_segment_type", "mpegts"),
        *("-hls_segment_filename", str(work / "%v" / "seg_%05d.ts")),
        *("-var_stream_map", " ".join(stream_map)),
        str(work / "%v" / "index.m3u8"),
        *("-map", "[thumbs]", "-c:v", "png", "-f", "image2", str(thumb_frames_pattern(work))),
    ]
    return command


def _video_options(plan: Plan) -> list[str]:
    options = [
        *("-c:v", "libx264", "-preset", X264_PRESET, "-pix_fmt", "yuv420p"),
        *("-sc_threshold", "0", "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"),
    ]
    for i, rendition in enumerate(plan.video):
        rung = rendition.rung
        assert rung is not None  # noqa: S101 - plan.video holds the video renditions only
        options += [
            *(f"-b:v:{i}", str(rendition.video_bitrate)),
            *(f"-maxrate:v:{i}", str(rendition.video_bitrate * 107 // 100)),
            *(f"-bufsize:v:{i}", str(rendition.video_bitrate * 3 // 2)),
            *(f"-profile:v:{i}", rung.profile, f"-level:v:{i}", rung.level),
        ]
    return options


def _ffmpeg_head() -> list[str]:
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]


def with_progress(command: list[str]) -> list[str]:
    """`command` reporting its progress on standard output (what the pipeline runs)."""
    return [command[0], "-progress", "pipe:1", "-stats_period", "0.5", *command[1:]]


def run_ffmpeg(
    command: list[str],
    *,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
) -> None:
    """Run `command`; call `on_progress(seconds_done)` as ffmpeg reports; TranscodeError on failure.

    ffmpeg dies with the process that started it (a killed worker leaves no ffmpeg behind
    writing into a work folder), and is killed if this function is interrupted.
    """
    argv = with_progress(command) if on_progress else command
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, paths are ours
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if on_progress else subprocess.DEVNULL,
            stderr=log,
            preexec_fn=_die_with_parent,
        )
        try:
            if on_progress:
                _follow_progress(process, on_progress)
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise TranscodeError("ffmpeg did not finish in time.") from error
        finally:
            stop_process(process)
        if returncode != 0:
            log.seek(0)
            raise TranscodeError(_failure_reason(returncode, log.read()[-FFMPEG_LOG_TAIL:]))


def _follow_progress(
    process: subprocess.Popen[bytes], on_progress: Callable[[float], None]
) -> None:
    assert process.stdout is not None  # noqa: S101 - set by run_ffmpeg
    for raw in process.stdout:
        key, _, value = raw.decode(errors="replace").strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            on_progress(max(int(value), 0) / 1_000_000)


def _failure_reason(returncode: int, stderr: bytes) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    detail = lines[-1].strip() if lines else f"exit status {returncode}"
    return f"ffmpeg could not transcode the video ({detail})."


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _video_stream(probed: ProbeResult) -> dict[str, Any]:
    streams: list[dict[str, Any]] = probed.raw.get("streams") or []
    for stream in streams:
        attached = (stream.get("disposition") or {}).get("attached_pic")
        if stream.get("codec_type") == "video" and not attached:
            return stream
    return {}


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            with contextlib.suppress(TypeError, ValueError):
                return int(float(side["rotation"]))
    with contextlib.suppress(TypeError, ValueError):
        return int((stream.get("tags") or {}).get("rotate", 0))
    return 0


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


@dataclass(frozen=True)
class Segment:
    duration: Decimal
    uri: str


def read_media_playlist(path: Path) -> list[Segment]:
    """The segments of the media playlist at `path` (EXTINF duration and URI, in order)."""
    segments, duration = [], None
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            duration = Decimal(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            segments.append(Segment(duration, line))
            duration = None
    return segments


def write_master_playlist(work: Path, plan: Plan, *, frame_rate: str = "") -> Path:
    """Write work/master.m3u8 listing every rendition with its measured bandwidth."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rendition in plan.renditions:
        peak, average = _bandwidth(work / rendition.name)
        attributes = [f"BANDWIDTH={peak}", f"AVERAGE-BANDWIDTH={average}"]
        if rendition.is_video:
            attributes.append(f"RESOLUTION={rendition.width}x{rendition.height}")
        attributes.append(f'CODECS="{rendition.codecs}"')
        if rendition.is_video and frame_rate:
            attributes.append(f"FRAME-RATE={frame_rate}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), f"{rendition.name}/index.m3u8"]
    master = work / "master.m3u8"
    master.write_text("\n".join(lines) + "\n")
    return master


def frame_rate_of(probed: ProbeResult) -> str:
    """The source's frame rate as HLS writes it ("25.000"), or "" when unknown."""
    raw = str(_video_stream(probed).get("avg_frame_rate") or "0/0")
    with contextlib.suppress(ValueError, ZeroDivisionError):
        num, den = (int(x) for x in raw.split("/"))
        if num > 0 and den > 0:
            return f"{num / den:.3f}"
    return ""


def _bandwidth(folder: Path) -> tuple[int, int]:
    """Peak and average bits per second of the rendition's segments."""
    segments = read_media_playlist(folder / "index.m3u8")
    if not segments:
        raise TranscodeError(f"ffmpeg wrote no segments for {folder.name}.")
    sizes = [(folder / s.uri).stat().st_size * 8 for s in segments]
    rates = [size / max(float(s.duration), 0.5) for size, s in zip(sizes, segments, strict=True)]
    total = sum(float(s.duration) for s in segments) or 1.0
    average = math.ceil(sum(sizes) / total)
    return max(math.ceil(max(rates)), average), average
