"""Recording the broadcast as it goes (issue 15): no separate capture step.

When the producer puts the stage on air, `begin_recording` creates the broadcast's `Recording`
(source `studio`, status CAPTURING) and gives the stage a block of recorder ports; from then on
every live feed Janus forwards to the audience's mountpoint is also forwarded (RTP) to those
ports. A capture worker runs `record_next` for the recording: for each line-up of the stage
(who is live, in which layout) it writes an SDP of its own that names exactly the forwarded
streams, and ffmpeg composes them into one 1280x720 picture (and mixes the sound) into an
MPEG-TS chunk. When the line-up changes the chunk ends and the next begins; when the broadcast
ends (or the stage drops the recording), the chunks are joined and the recording goes through the
ordinary pipeline (renditions, poster, thumbnails, chapters from the schedule, captions).

ffmpeg's input is only our SDP file (`file:` on its absolute path) and the UDP/RTP it names:
`-protocol_whitelist file,udp,rtp`, `-format_whitelist sdp`, and a `source-filter` so that only
packets from the Janus host are read.
"""

import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from conference.models import Recording, RecordingSource, RecordingStatus, Session, Stage
from conference.services import enqueue
from conference.services.media import captions as live_captions
from conference.services.media.config import janus_private_address
from conference.services.recordings import capture, media_input, paths, pipeline
from conference.services.recordings.processes import stop_process

logger = logging.getLogger(__name__)

SLOTS = 4
# Per stage: 4 slots x (audio, video) x (RTP port, the RTCP port ffmpeg binds next to it).
BLOCK = 16
AUDIO_PT, VIDEO_PT = 111, 96
CANVAS_WIDTH, CANVAS_HEIGHT, FRAME_RATE = 1280, 720, 30
SOURCE_NAME = "broadcast.ts"
POLL_SECONDS = 0.5
# A line-up whose ffmpeg ended by itself (no packets, a crash) is started again after this.
RETRY_SECONDS = 1.0
STOP_GRACE_SECONDS = 5
STAGE_LABEL = "recording the broadcast"
OPEN_STATUSES = (RecordingStatus.SCHEDULED, RecordingStatus.CAPTURING)


class RecorderOutcome:
    GONE = "gone"
    NOT_RECORDING = "not-recording"
    BUSY = "busy"
    CHUNK = "chunk"  # the chunk budget is spent; the next task is on its way
    FINISHED = "finished"
    FAILED = "failed"


class NoRecorderPorts(Exception):
    """Every block of RECORDING_RTP_PORTS is taken by a stage on air."""


# --- ports ----------------------------------------------------------------------------------
def port_range() -> tuple[int, int]:
    text = settings.RECORDING_RTP_PORTS
    first, _, last = text.partition("-")
    try:
        low, high = int(first), int(last)
    except ValueError:
        raise ImproperlyConfigured(
            f"RECORDING_RTP_PORTS must be 'first-last' (e.g. 21000-21999), not {text!r}"
        ) from None
    if not 1024 <= low < high <= 65535 or high - low + 1 < BLOCK:
        raise ImproperlyConfigured(f"RECORDING_RTP_PORTS {text!r} must hold at least {BLOCK} ports")
    return low + (low % 2), high  # RTP ports are even


def slot_ports(base: int, slot: int) -> tuple[int, int]:
    """The (audio, video) RTP ports of a stage slot at the recorder."""
    return base + 4 * slot, base + 4 * slot + 2


def allocate_port(stage: Stage) -> int:
    """The first free block of recorder ports (a unique constraint guards against a race)."""
    low, high = port_range()
    taken = set(
        Stage.objects.exclude(pk=stage.pk)
        .exclude(recorder_port=None)
        .values_list("recorder_port", flat=True)
    )
    for base in range(low, high - BLOCK + 2, BLOCK):
        if base not in taken:
            return base
    raise NoRecorderPorts(
        "Every recorder port is in use (too many stages on air for RECORDING_RTP_PORTS)."
    )


# --- the stage's side -----------------------------------------------------------------------
def begin_recording(stage: Stage, session: Session, *, now: datetime) -> Recording:
    """Called in `set_stage`'s transaction when the stage goes on air."""
    stage.recorder_port = allocate_port(stage)
    zone = session.event.tzinfo
    started = timezone.localtime(now, zone).strftime("%Y-%m-%d %H:%M %Z")
    recording = Recording.objects.create(
        session=session,
        source=RecordingSource.STUDIO,
        status=RecordingStatus.CAPTURING,
        stage=STAGE_LABEL,
        original_name=f"Broadcast of {session.title[:180]} ({started})",
        capture_starts_at=now,
    )
    stage.recording = recording
    transaction.on_commit(lambda: dispatch_recorder(recording.pk))
    logger.info("Broadcast of session %s: recording %s", session.pk, recording.pk)
    return recording


def end_recording(stage: Stage, *, now: datetime) -> None:
    """Called when the stage goes off air: the recorder sees it and finishes the recording."""
    if stage.recording_id:
        Recording.objects.filter(pk=stage.recording_id).update(capture_ends_at=now)
    stage.recording = None
    stage.recorder_port = None


def forward_targets(stage: Stage, slot: int) -> dict[str, Any] | None:
    """Where Janus forwards slot `slot` for the recorder, or None when nothing records."""
    if stage.recorder_port is None or stage.recording_id is None:
        return None
    audio, video = slot_ports(stage.recorder_port, slot)
    return {"host": settings.RECORDING_RTP_HOST, "audio_port": audio, "video_port": video}


def dispatch_recorder(recording_id: int) -> None:
    capture.dispatch(enqueue.RECORD_BROADCAST, recording_id)


# --- the recorder's side --------------------------------------------------------------------
@dataclass(frozen=True)
class Input:
    slot: int
    audio_port: int | None
    video_port: int | None


@dataclass(frozen=True)
class Lineup:
    key: str  # changes whenever the forwards change
    layout: str
    inputs: tuple[Input, ...]
    source_address: str  # only packets from here are read


def current_lineup(recording: Recording) -> Lineup | None:
    """What the recorder should record now; None once the broadcast has ended for it."""
    stage = (
        Stage.objects.filter(
            session_id=recording.session_id, recording_id=recording.pk, on_air=True
        )
        .select_related("session")
        .first()
    )
    if stage is None:
        return None
    inputs = []
    for forward in stage.forwarders or []:
        target = forward.get("recorder")
        if not target:
            continue
        inputs.append(
            Input(
                slot=int(forward["slot"]),
                audio_port=target.get("audio"),
                video_port=target.get("video"),
            )
        )
    return Lineup(
        key=repr(stage.forwarders),
        layout=stage.layout,
        inputs=tuple(sorted(inputs, key=lambda i: i.slot)),
        source_address=janus_private_address(stage.session.hall_id),
    )


def write_sdp(lineup: Lineup, path: Path, *, title: str) -> None:
    """An SDP naming exactly the lineup's streams, on the recorder's address, from Janus only."""
    host = settings.RECORDING_RTP_HOST
    lines = [
        "v=0",
        f"o=- 0 0 IN IP4 {host}",
        f"s={title}",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"a=source-filter: incl IN IP4 * {lineup.source_address}",
    ]
    for item in lineup.inputs:
        if item.audio_port:
            lines += [
                f"m=audio {item.audio_port} RTP/AVP {AUDIO_PT}",
                f"a=rtpmap:{AUDIO_PT} opus/48000/2",
            ]
        if item.video_port:
            lines += [
                f"m=video {item.video_port} RTP/AVP {VIDEO_PT}",
                f"a=rtpmap:{VIDEO_PT} VP8/90000",
            ]
    path.write_text("\r\n".join(lines) + "\r\n")


def _cells(count: int) -> tuple[int, int, str]:
    """Cell size and xstack layout for `count` pictures on the canvas."""
    if count == 1:
        return CANVAS_WIDTH, CANVAS_HEIGHT, ""
    if count == 2:
        return CANVAS_WIDTH // 2, CANVAS_HEIGHT, "0_0|w0_0"
    return CANVAS_WIDTH // 2, CANVAS_HEIGHT // 2, "0_0|w0_0|0_h0|w0_h0"


def filter_graph(lineup: Lineup) -> tuple[str, bool, bool]:
    """The composition: every live picture fitted into its cell (panel of up to 4, side by
    side for two), all sounds mixed. Returns (graph, has video, has audio)."""
    index = 0
    videos, audios = [], []
    for item in lineup.inputs:
        if item.audio_port:
            audios.append(f"0:{index}")
            index += 1
        if item.video_port:
            videos.append(f"0:{index}")
            index += 1
    parts = []
    if videos:
        width, height, layout = _cells(len(videos))
        names = []
        for number, stream in enumerate(videos):
            parts.append(
                f"[{stream}]scale={width}:{height}:force_original_aspect_ratio=decrease,"
                f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={FRAME_RATE}[c{number}]"
            )
            names.append(f"[c{number}]")
        if len(videos) == 3:
            parts.append(f"color=c=black:s={width}x{height}:r={FRAME_RATE}[c3]")
            names.append("[c3]")
        if len(names) == 1:
            parts.append("[c0]format=yuv420p[v]")
        else:
            parts.append(
                f"{''.join(names)}xstack=inputs={len(names)}:layout={layout}:shortest=1,format=yuv420p[v]"
            )
    if audios:
        if len(audios) == 1:
            parts.append(f"[{audios[0]}]aresample=48000[a]")
        else:
            joined = "".join(f"[{stream}]" for stream in audios)
            parts.append(f"{joined}amix=inputs={len(audios)}:normalize=0,aresample=48000[a]")
    return ";".join(parts), bool(videos), bool(audios)


LIVE_FOLDER = "live"
LIVE_PLAYLIST = "index.m3u8"
HLS_SEGMENT_SECONDS = 1
HLS_LIST_SIZE = 6
# Characters the tee muxer's output list would read as syntax.
_TEE_SPECIAL = set("|[]:\\'")


def live_folder(recording: Recording | int) -> Path:
    """Where the recorder writes the stage's live HLS (the fallback beyond WebRTC capacity)."""
    return paths.recording_root(recording) / LIVE_FOLDER


def _tee_target(output: Path, live: Path | None) -> str | None:
    """The tee muxer's output list: the recording's MPEG-TS chunk and the live HLS playlist
    (segments named after the chunk, so line-ups never overwrite each other), or None when the
    paths cannot be written into a tee list (then only the chunk is written)."""
    if live is None or _TEE_SPECIAL & set(f"{output}{live}"):
        return None
    hls = (
        f"f=hls:hls_time={HLS_SEGMENT_SECONDS}:hls_list_size={HLS_LIST_SIZE}"
        ":hls_flags=delete_segments+append_list+omit_endlist+discont_start"
        f":hls_segment_filename={live}/{output.stem}_%05d.ts"
    )
    return f"[f=mpegts:flush_packets=1]{output}|[{hls}]{live}/{LIVE_PLAYLIST}"


def ffmpeg_command(
    sdp: Path, output: Path, lineup: Lineup, *, live: Path | None = None
) -> list[str]:
    graph, has_video, has_audio = filter_graph(lineup)
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    # Only our SDP file and the UDP/RTP it names; only packets from Janus's address.
    command += ["-protocol_whitelist", "file,udp,rtp", "-format_whitelist", "sdp"]
    command += ["-reorder_queue_size", "500", "-buffer_size", str(4 * 1024 * 1024)]
    command += ["-f", "sdp", "-i", media_input.input_url(sdp)]
    command += ["-filter_complex", graph]
    if has_video:
        command += ["-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23"]
        # A keyframe every second: the live HLS cuts 1 s segments.
        command += ["-g", str(FRAME_RATE), "-pix_fmt", "yuv420p"]
    if has_audio:
        command += ["-map", "[a]", "-c:a", "aac", "-b:a", "128k", "-ac", "2"]
    tee = _tee_target(output, live)
    if tee is not None:  # encoded once, written twice: the chunk and the live HLS
        return [*command, "-f", "tee", tee]
    # Every packet reaches the file at once: a killed worker loses nothing already received.
    return [*command, "-flush_packets", "1", "-f", "mpegts", str(output)]


def record_next(recording_id: int, *, clock: Callable[[], float] = time.monotonic) -> str:
    """Record the broadcast line-up by line-up until the chunk budget is spent (then the task
    sends itself again) or the broadcast ends (then the recording is joined and queued)."""
    recording = Recording.objects.select_related("session").filter(pk=recording_id).first()
    if recording is None:
        shutil.rmtree(paths.recording_root(recording_id), ignore_errors=True)
        return RecorderOutcome.GONE
    if recording.source != RecordingSource.STUDIO or recording.status not in OPEN_STATUSES:
        return RecorderOutcome.NOT_RECORDING
    with capture.capture_lock(recording) as held:
        if not held:
            return RecorderOutcome.BUSY
        outcome = _record_until(recording, deadline=clock() + capture.chunk_seconds(), clock=clock)
    if outcome == RecorderOutcome.CHUNK:
        transaction.on_commit(lambda: dispatch_recorder(recording_id))
    return outcome


def _record_until(recording: Recording, *, deadline: float, clock: Callable[[], float]) -> str:
    while clock() < deadline:
        lineup = current_lineup(recording)
        if lineup is None:
            return finish(recording)
        if not lineup.inputs:  # on air with nobody live: nothing to record until someone is
            _wait_for_change(recording, lineup, deadline=deadline, clock=clock, process=None)
            continue
        ended_by_itself = record_lineup(recording, lineup, deadline=deadline, clock=clock)
        if ended_by_itself:
            time.sleep(RETRY_SECONDS)
    return RecorderOutcome.CHUNK


def record_lineup(
    recording: Recording, lineup: Lineup, *, deadline: float, clock: Callable[[], float]
) -> bool:
    """One chunk of one line-up; True when ffmpeg ended by itself (not stopped by us)."""
    folder = capture.chunk_folder(recording)
    folder.mkdir(parents=True, exist_ok=True)
    output = capture.next_chunk_path(recording)
    sdp = output.with_suffix(".sdp")
    write_sdp(lineup, sdp, title=f"MedVenue recording {recording.pk}")
    live = live_folder(recording)
    live.mkdir(parents=True, exist_ok=True)
    command = ffmpeg_command(sdp, output, lineup, live=live)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv over our own SDP
            capture._with_parent_death_signal(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            ended = _wait_for_change(
                recording, lineup, deadline=deadline, clock=clock, process=process
            )
        finally:
            stop_process(process, interrupt_grace=STOP_GRACE_SECONDS)
        log.seek(0)
        output_text = log.read().decode(errors="replace").strip()
    sdp.unlink(missing_ok=True)
    if not output.exists() or output.stat().st_size == 0:
        output.unlink(missing_ok=True)
    if ended and process.returncode:
        lines = output_text.splitlines()
        logger.warning(
            "Recorder of %s: ffmpeg ended (%s): %s",
            recording.pk,
            process.returncode,
            " / ".join(lines[-6:]),
        )
    return ended


def _wait_for_change(
    recording: Recording,
    lineup: Lineup,
    *,
    deadline: float,
    clock: Callable[[], float],
    process: subprocess.Popen[bytes] | None,
) -> bool:
    """Until the line-up changes, the broadcast ends, the deadline, or ffmpeg ends (True)."""
    touched = clock()
    while clock() < deadline:
        if process is not None and process.poll() is not None:
            return True
        time.sleep(POLL_SECONDS)
        now = current_lineup(recording)
        if now is None or now.key != lineup.key:
            return False
        if clock() - touched >= capture.PROGRESS_EVERY_SECONDS:
            touched = clock()
            Recording.objects.filter(pk=recording.pk, status__in=OPEN_STATUSES).update(
                updated_at=timezone.now()
            )
    return False


def finish(recording: Recording) -> str:
    """Join the chunks into the source and queue processing; FAILED if nothing was recorded."""
    chunks = capture.usable_chunks(recording)
    recording.refresh_from_db()
    if not chunks:
        reason = "Nothing was received from the studio during the broadcast (nobody was live)."
        Recording.objects.filter(pk=recording.pk, status__in=OPEN_STATUSES).update(
            status=RecordingStatus.FAILED, error=reason, stage="", updated_at=timezone.now()
        )
        return RecorderOutcome.FAILED
    target = paths.source_folder(recording) / SOURCE_NAME
    try:
        capture.join_chunks(chunks, target)
    except (OSError, subprocess.SubprocessError) as error:
        Recording.objects.filter(pk=recording.pk, status__in=OPEN_STATUSES).update(
            status=RecordingStatus.FAILED,
            error=f"The recorded parts could not be joined: {error}",
            stage="",
        )
        return RecorderOutcome.FAILED
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        if locked.status not in OPEN_STATUSES:
            return RecorderOutcome.NOT_RECORDING
        locked.source_path = str(target.relative_to(paths.recording_root(locked)))
        locked.size_bytes = target.stat().st_size
        locked.capture_ends_at = locked.capture_ends_at or timezone.now()
        locked.save(update_fields=["source_path", "size_bytes", "capture_ends_at", "updated_at"])
        # The live captions sent during the broadcast become its WebVTT track.
        live_captions.attach_to_recording(locked)
        pipeline.queue_processing(locked)
    shutil.rmtree(capture.chunk_folder(recording), ignore_errors=True)
    shutil.rmtree(live_folder(recording), ignore_errors=True)
    logger.info("Broadcast recording %s joined from %s chunk(s), queued", recording.pk, len(chunks))
    return RecorderOutcome.FINISHED
