"""Capture of a session's live stage stream (HLS) into a recording (issue 7).

A beat task calls `schedule_captures` every minute. A session with a stream URL whose capture
window (its start minus `RECORDING_CAPTURE_MARGIN_SECONDS` to its end plus the margin) is open
gets one capture recording (the `one_capture_per_session` constraint makes it exactly one, even
when two ticks race) and a capture task on the capture queue.

Each capture task records one chunk: ffmpeg copies the stream (no transcoding) into
`source/chunks/chunk_<n>.ts` until the window ends or the chunk's budget (the task time limit
minus a margin) is spent, then the task sends the next one. A worker killed mid-chunk loses at
most that chunk's unflushed tail: the next task writes the next chunk file and never overwrites
one. A lock file makes sure only one task records a recording at a time. Once the window has
ended, the chunks are joined (`-c copy`) into `source/capture.ts` and the recording goes to
processing (`pipeline.queue_processing`); if nothing was received, it is FAILED with the reason.

The stream URL is only ever shown without its user name, password and query string. ffmpeg
reads it with HTTP(S) only and through a `StreamGate`, so the stream (its playlists and
segments) can only be read from the URL's own scheme and host: a playlist naming a file, or a
segment on another host, is refused and never read.
"""

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from conference.models import Recording, RecordingSource, RecordingStatus, Session
from conference.services import enqueue
from conference.services.recordings import media_input, paths, pipeline
from conference.services.recordings.probe import NotAVideo, probe
from conference.services.recordings.processes import exclusive_lock, stop_process
from conference.services.recordings.stream_gate import StreamGate

logger = logging.getLogger(__name__)

# Captures wait on ffmpeg for hours and use little CPU: they get a queue (and a thread-pool
# worker) of their own, so they never hold the media workers that transcode.
CAPTURE_QUEUE = "capture"
ALLOWED_SCHEMES = ("http", "https")
# ffmpeg may only speak HTTP(S) (through the StreamGate proxy): no file:, no other protocol.
PROTOCOL_WHITELIST = "http,https,tcp,tls,crypto,httpproxy"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")
SOURCE_NAME = "capture.ts"
CHUNK_PATTERN = "chunk_*.ts"
# Each chunk leaves this much of the task time limit (at most half of it) for starting up,
# stopping ffmpeg and saving.
CHUNK_MARGIN_SECONDS = 120
# The row is touched this often while ffmpeg records; a capture untouched for STALE_SECONDS
# inside its window has lost its task (worker gone, broker lost the message) and is sent again.
PROGRESS_EVERY_SECONDS = 30
STALE_SECONDS = 180
# Reconnecting to a stream that is down: 2, 4, 8 seconds, then every 10 (a stage stream that
# comes back is recorded again within seconds).
RETRY_FIRST_SECONDS = 2
RETRY_MAX_SECONDS = 10
# ffmpeg gets this long to stop after SIGINT before it is killed.
STOP_GRACE_SECONDS = 10
# Socket read/write timeout for each HTTP request ffmpeg makes.
READ_TIMEOUT_SECONDS = 15
# What ffmpeg says when we stop it: not a reason.
STOP_MESSAGES = ("Immediate exit requested", "Exiting normally", "received signal")
ANY_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"]+", re.IGNORECASE)
LOG_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\] ")
OPEN_STATUSES = (RecordingStatus.SCHEDULED, RecordingStatus.CAPTURING)


class CaptureOutcome:
    GONE = "gone"  # the recording was deleted
    NOT_CAPTURING = "not-capturing"  # finished, failed or an upload
    BUSY = "busy"  # another task is recording it right now
    CHUNK = "chunk"  # recorded one chunk; the next task is on its way
    FINISHED = "finished"  # joined and queued for processing
    FAILED = "failed"  # nothing could be captured
    POSTPONED = "postponed"  # the session moved later; the capture is dropped until then


# --- Scheduling -----------------------------------------------------------------------------


def capture_window(session: Session) -> tuple[datetime, datetime]:
    margin = timedelta(seconds=settings.RECORDING_CAPTURE_MARGIN_SECONDS)
    return session.starts_at - margin, session.ends_at + margin


def schedule_captures(*, now: datetime | None = None) -> list[Recording]:
    """Create and start the captures that are due; resend stalled ones. Run every minute."""
    now = now or timezone.now()
    created = [r for s in sessions_due(now=now) if (r := schedule_capture(s, now=now))]
    resend_stalled_captures(now=now)
    return created


def sessions_due(*, now: datetime) -> list[Session]:
    """Sessions with a stream whose capture window is open and that have no capture yet."""
    margin = timedelta(seconds=settings.RECORDING_CAPTURE_MARGIN_SECONDS)
    return list(
        Session.objects.exclude(stream_url="")
        .filter(starts_at__lte=now + margin, ends_at__gt=now - margin)
        .exclude(recordings__source=RecordingSource.CAPTURE)
        .order_by("starts_at", "pk")
    )


def schedule_capture(session: Session, *, now: datetime | None = None) -> Recording | None:
    """The session's capture recording, created now; None if it already has one.

    A stream URL that is not http(s) gives a FAILED recording that says why, so the organizer
    sees it instead of waiting for a recording that never comes.
    """
    now = now or timezone.now()
    starts_at, ends_at = capture_window(session)
    if not session.stream_url or now >= ends_at:
        return None
    problem = url_problem(session.stream_url)
    try:
        with transaction.atomic():
            recording = Recording.objects.create(
                session=session,
                source=RecordingSource.CAPTURE,
                status=RecordingStatus.FAILED if problem else RecordingStatus.SCHEDULED,
                error=problem,
                original_name=redact_url(session.stream_url),
                capture_starts_at=starts_at,
                capture_ends_at=ends_at,
            )
            if not problem:
                transaction.on_commit(lambda: dispatch_capture(recording.pk))
    except IntegrityError:
        return None  # another tick created it first
    logger.info("Capture %s of session %s scheduled until %s", recording.pk, session.pk, ends_at)
    return recording


def resend_stalled_captures(*, now: datetime) -> list[int]:
    """Send the capture task again for captures (and studio broadcast recordings) nobody has
    touched for STALE_SECONDS."""
    rows = Recording.objects.filter(
        source__in=(RecordingSource.CAPTURE, RecordingSource.STUDIO),
        status__in=OPEN_STATUSES,
        updated_at__lt=now - timedelta(seconds=STALE_SECONDS),
    ).values_list("pk", "source")
    stale = []
    for recording_id, source in rows:
        logger.warning("Capture %s has stalled; sending its task again", recording_id)
        Recording.objects.filter(pk=recording_id).update(updated_at=now)
        name = (
            enqueue.RECORD_BROADCAST
            if source == RecordingSource.STUDIO
            else enqueue.CAPTURE_RECORDING
        )
        transaction.on_commit(partial(dispatch, name, recording_id))
        stale.append(recording_id)
    return stale


def chunk_seconds() -> int:
    limit = settings.RECORDING_TASK_TIME_LIMIT_SECONDS
    return limit - min(CHUNK_MARGIN_SECONDS, limit // 2)


def dispatch_capture(recording_id: int) -> None:
    dispatch(enqueue.CAPTURE_RECORDING, recording_id)


def dispatch(task_name: str, recording_id: int, *, queue: str = CAPTURE_QUEUE) -> None:
    """Send a capture-queue task (a capture's or a studio recorder's next chunk) for
    `recording_id` (or another long media task for its object, on `queue`), limited to the
    recording task time limit."""
    limit = settings.RECORDING_TASK_TIME_LIMIT_SECONDS
    enqueue.send(
        task_name,
        recording_id,
        queue=queue,
        time_limit=limit,
        soft_time_limit=max(limit - 30, limit * 9 // 10),
    )


# --- URLs -----------------------------------------------------------------------------------


def url_problem(url: str) -> str:
    """Why `url` cannot be captured, or "" when it can."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return "The stream URL is not a valid URL."
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not hostname:
        return (
            f"The stream at {redact_url(url)} cannot be captured: only http and https stream "
            "URLs are supported."
        )
    return ""


def redact_url(url: str) -> str:
    """`url` without user name, password and query string (which may carry a token)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    query = "..." if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


# --- Recording chunks -----------------------------------------------------------------------


def capture_next(recording_id: int, *, now: Callable[[], datetime] = timezone.now) -> str:
    """Record the next chunk of the capture, or join the chunks once its window has ended.

    Returns a `CaptureOutcome`. Safe to run twice at once (the second returns BUSY) and after a
    killed run (the next chunk goes to a new file).
    """
    recording = Recording.objects.select_related("session").filter(pk=recording_id).first()
    if recording is None:
        shutil.rmtree(paths.recording_root(recording_id), ignore_errors=True)
        return CaptureOutcome.GONE
    if recording.source != RecordingSource.CAPTURE or recording.status not in OPEN_STATUSES:
        return CaptureOutcome.NOT_CAPTURING
    with capture_lock(recording) as held:
        if not held:
            return CaptureOutcome.BUSY
        outcome = _capture_or_finish(recording, now=now)
    if outcome == CaptureOutcome.CHUNK:
        transaction.on_commit(lambda: dispatch_capture(recording_id))
    return outcome


def _capture_or_finish(recording: Recording, *, now: Callable[[], datetime]) -> str:
    try:
        recording.refresh_from_db()
    except Recording.DoesNotExist:
        return CaptureOutcome.GONE
    if recording.status not in OPEN_STATUSES:
        return CaptureOutcome.NOT_CAPTURING
    starts_at, ends_at = capture_window(recording.session)
    if now() < starts_at:
        return _postpone(recording)
    _follow_session_end(recording, ends_at)  # from here on capture_ends_at == ends_at
    deadline = min(ends_at, now() + timedelta(seconds=chunk_seconds()))
    url = recording.session.stream_url
    problem = url_problem(url) if url else ""
    if problem:  # changed to a URL we do not read: end with what was captured
        recording.error = problem
    if now() >= ends_at or not url or problem:
        return finish_capture(recording)
    _set_capturing(recording, now=now())
    record_chunk(recording, deadline=deadline, now=now)
    return CaptureOutcome.CHUNK


def _postpone(recording: Recording) -> str:
    """The session moved later: with nothing captured yet, the capture is dropped and the
    scheduler makes a new one when the new window opens; else it ends with what it has."""
    if usable_chunks(recording):
        return finish_capture(recording)
    logger.info("Capture %s dropped: its session now starts later", recording.pk)
    pipeline.delete_recording(recording)
    return CaptureOutcome.POSTPONED


def _follow_session_end(recording: Recording, ends_at: datetime) -> None:
    """A session whose end moved (it overran, or ends early) is captured to its new end."""
    if ends_at != recording.capture_ends_at:
        recording.capture_ends_at = ends_at
        recording.save(update_fields=["capture_ends_at", "updated_at"])


def _set_capturing(recording: Recording, *, now: datetime) -> None:
    recording.status = RecordingStatus.CAPTURING
    recording.progress = window_progress(recording, now=now)
    recording.stage = "capturing the live stream"
    recording.save(update_fields=["status", "progress", "stage", "updated_at"])


def window_progress(recording: Recording, *, now: datetime) -> int:
    starts_at, ends_at = recording.capture_starts_at, recording.capture_ends_at
    assert starts_at is not None and ends_at is not None  # noqa: S101 - a capture has its window
    total = (ends_at - starts_at).total_seconds()
    done = (now - starts_at).total_seconds()
    return max(0, min(100, int(100 * done / total))) if total > 0 else 0


def capture_lock(recording: Recording) -> AbstractContextManager[bool]:
    """An exclusive lock on the recording's capture; yields False when another task holds it.

    The kernel drops the lock when its holder dies, so a killed worker never leaves it behind.
    """
    return exclusive_lock(chunk_folder(recording) / ".lock")


def chunk_folder(recording: Recording) -> Path:
    return paths.source_folder(recording) / "chunks"


def next_chunk_path(recording: Recording) -> Path:
    """The chunk file after every existing one: a chunk is never written twice."""
    numbers = [int(p.stem.split("_")[1]) for p in chunk_folder(recording).glob(CHUNK_PATTERN)]
    return chunk_folder(recording) / f"chunk_{max(numbers, default=-1) + 1:05d}.ts"


def record_chunk(
    recording: Recording, *, deadline: datetime, now: Callable[[], datetime] = timezone.now
) -> str:
    """Record the stream until `deadline`, reconnecting with backoff while it is down.

    Stops early when the recording is deleted or no longer capturing. Returns the last error
    when the stream could not be read at some point (else "").
    """
    url = recording.session.stream_url
    error = ""
    delay = RETRY_FIRST_SECONDS
    while now() < deadline and still_capturing(recording.pk):
        path = next_chunk_path(recording)
        attempt = run_ffmpeg(url, path, deadline=deadline, now=now, on_tick=_touch(recording))
        if path.exists() and path.stat().st_size > 0:
            delay = RETRY_FIRST_SECONDS
        else:
            path.unlink(missing_ok=True)
        if attempt.error:
            error = attempt.error
            logger.warning("Capture %s: %s", recording.pk, error)
            _note_error(recording, error, at=now())
        pause = min(delay, (deadline - now()).total_seconds())
        if attempt.ended_by_itself and pause > 0:
            time.sleep(pause)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
    return error


def _note_error(recording: Recording, error: str, *, at: datetime) -> None:
    """Keep the stream's latest problem on the row while capturing (shown to the organizer)."""
    rows = Recording.objects.filter(pk=recording.pk, status__in=OPEN_STATUSES)
    rows.update(error=error, updated_at=at)


def still_capturing(recording_id: int) -> bool:
    return Recording.objects.filter(pk=recording_id, status__in=OPEN_STATUSES).exists()


def _touch(recording: Recording) -> Callable[[datetime], bool]:
    """Write progress on the row; False when the row is gone or no longer capturing."""

    def touch(at: datetime) -> bool:
        progress = window_progress(recording, now=at)
        rows = Recording.objects.filter(pk=recording.pk, status__in=OPEN_STATUSES)
        return rows.update(progress=progress, updated_at=at) > 0

    return touch


@dataclass(frozen=True)
class Attempt:
    ended_by_itself: bool  # the stream ended or failed before the deadline
    error: str  # why it failed, with the URL redacted; "" when it did not fail


def ffmpeg_capture_command(url: str, path: Path, *, seconds: float, proxy: str) -> list[str]:
    """Copy `url` (HLS over http/https only) into an MPEG-TS file, for at most `seconds`, every
    request going through the `proxy` (a `StreamGate` that reaches the URL's origin only)."""
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    command += ["-protocol_whitelist", PROTOCOL_WHITELIST, "-http_proxy", proxy]
    command += ["-rw_timeout", str(READ_TIMEOUT_SECONDS * 1_000_000)]
    command += ["-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_on_network_error", "1"]
    command += ["-reconnect_delay_max", "10"]
    # Start at the live edge: the chunk before ended there (a new capture starts there anyway).
    command += ["-live_start_index", "-1", "-i", url]
    command += ["-map", "0:v?", "-map", "0:a?", "-c", "copy", "-t", f"{seconds:.0f}"]
    # Every packet reaches the file at once: a killed worker loses nothing already received.
    return [*command, "-flush_packets", "1", "-f", "mpegts", str(path)]


def ffmpeg_environment(proxy: str) -> dict[str, str]:
    """The worker's environment with every http request of ffmpeg sent through `proxy` (nested
    opens that do not inherit `-http_proxy` read `http_proxy`), and no proxy exceptions."""
    environment = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    return {**environment, "http_proxy": proxy}


def run_ffmpeg(
    url: str,
    path: Path,
    *,
    deadline: datetime,
    now: Callable[[], datetime] = timezone.now,
    on_tick: Callable[[datetime], bool] | None = None,
) -> Attempt:
    """Run one ffmpeg capture until `deadline` (then stop it with SIGINT, as Ctrl-C would)."""
    # `-t` is a backstop only: the wall clock ends the capture, and the parent-death signal
    # stops ffmpeg if the worker process dies.
    seconds = (deadline - now()).total_seconds() + 60
    with StreamGate(url) as gate, tempfile.TemporaryFile() as log:
        command = ffmpeg_capture_command(url, path, seconds=seconds, proxy=gate.proxy_url)
        process = subprocess.Popen(  # noqa: S603 - fixed argv; the URL is checked to be http(s)
            _with_parent_death_signal(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=ffmpeg_environment(gate.proxy_url),
        )
        try:
            stopped = _wait_until(process, deadline=deadline, now=now, on_tick=on_tick)
        finally:
            stop_process(process, interrupt_grace=STOP_GRACE_SECONDS)
        log.seek(0)
        output = log.read().decode(errors="replace")
        refused, unreachable = list(gate.refused), gate.unreachable
    failed = process.returncode != 0 and not stopped
    # Stopped at the deadline while ffmpeg was still retrying: its last complaint is the reason.
    error = read_error(url, output, process.returncode) if failed or output.strip() else ""
    if error and unreachable:  # ffmpeg only saw the gate's 502: say what the gate saw
        error = read_error(url, unreachable, process.returncode)
    if refused:
        error = refused_error(url, refused)
    return Attempt(ended_by_itself=not stopped, error=error)


def refused_error(url: str, refused: list[str]) -> str:
    """The reason when the stream named addresses outside its own origin (never fetched)."""
    named = ", ".join(redact_url(target) for target in refused[:3])
    return (
        f"The stream at {redact_url(url)} names addresses on other hosts, which are not read "
        f"(only the stream's own scheme and host are): {named}"
    )


def _with_parent_death_signal(command: list[str]) -> list[str]:
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *command] if setpriv else command


def _wait_until(
    process: subprocess.Popen[bytes],
    *,
    deadline: datetime,
    now: Callable[[], datetime],
    on_tick: Callable[[datetime], bool] | None,
) -> bool:
    """Wait for `process` to end or the deadline; True when it has to be stopped.

    `on_tick` runs every PROGRESS_EVERY_SECONDS; when it returns False, the wait ends early.
    """
    while (remaining := (deadline - now()).total_seconds()) > 0:
        try:
            process.wait(timeout=min(remaining, PROGRESS_EVERY_SECONDS))
            return False
        except subprocess.TimeoutExpired:
            if on_tick and not on_tick(now()):
                return True
    return process.poll() is None


def read_error(url: str, output: str, returncode: int) -> str:
    """A clear reason from ffmpeg's output, with the stream URL's secrets removed."""
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip() and not any(noise in line for noise in STOP_MESSAGES)
    ]
    reason = lines[-1] if lines else f"ffmpeg exited with code {returncode}"
    reason = LOG_PREFIX.sub("", reason)  # "[tcp @ 0x55d0c2a0] "
    reason = reason.replace(f"{url}: ", "")
    reason = ANY_URL.sub(lambda match: redact_url(match.group()), reason)
    parts = urlsplit(url)
    for secret in (parts.password, parts.query):
        if secret and len(secret) >= 6:  # a secret printed outside a URL (shorter: mangles text)
            reason = reason.replace(secret, "...")
    return f"The stream at {redact_url(url)} could not be read: {reason}"


# --- Finishing ------------------------------------------------------------------------------


def finish_capture(recording: Recording) -> str:
    """Join the chunks into the source and queue processing; FAILED if nothing was captured."""
    chunks = usable_chunks(recording)
    if not chunks:
        return _fail(recording, _nothing_captured_reason(recording))
    target = paths.source_folder(recording) / SOURCE_NAME
    try:
        join_chunks(chunks, target)
    except (OSError, subprocess.SubprocessError) as error:
        return _fail(recording, f"The captured parts could not be joined: {error}")
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        if locked.status not in OPEN_STATUSES:
            return CaptureOutcome.NOT_CAPTURING
        locked.source_path = str(target.relative_to(paths.recording_root(locked)))
        locked.size_bytes = target.stat().st_size
        locked.save(update_fields=["source_path", "size_bytes", "updated_at"])
        pipeline.queue_processing(locked)
    shutil.rmtree(chunk_folder(recording), ignore_errors=True)
    logger.info("Capture %s joined from %s chunk(s) and queued", recording.pk, len(chunks))
    return CaptureOutcome.FINISHED


def usable_chunks(recording: Recording) -> list[Path]:
    """Chunk files ffprobe reads as video, in order (a killed run may leave a stub)."""
    usable = []
    for path in sorted(chunk_folder(recording).glob(CHUNK_PATTERN)):
        try:
            probe(path)
        except NotAVideo as error:
            logger.warning("Capture %s: skipping %s (%s)", recording.pk, path.name, error)
            continue
        usable.append(path)
    return usable


def join_chunks(chunks: list[Path], target: Path) -> None:
    """Concatenate MPEG-TS chunks without re-encoding into `target` (written whole).

    The concat list is ours and names the chunks relative to its own folder; ffmpeg reads it
    in safe mode with the `file` protocol only, and each chunk as MPEG-TS only.
    """
    partial = target.with_name(target.name + ".part")
    folder = chunks[0].parent
    if len(chunks) == 1:
        shutil.copyfile(chunks[0], partial)
    else:
        listing = folder / "chunks.txt"
        names = [path.name for path in chunks if path.parent == folder]
        listing.write_text("ffconcat version 1.0\n" + "".join(f"file '{n}'\n" for n in names))
        command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        command += ["-protocol_whitelist", "file", "-format_whitelist", "concat,mpegts"]
        command += ["-f", "concat", "-safe", "1", "-i", media_input.input_url(listing)]
        command += ["-map", "0", "-c", "copy", "-f", "mpegts", str(partial)]
        completed = subprocess.run(  # noqa: S603 - fixed argv over our own files
            command, capture_output=True, timeout=settings.RECORDING_TASK_TIME_LIMIT_SECONDS
        )
        listing.unlink(missing_ok=True)
        if completed.returncode != 0:
            lines = completed.stderr.decode(errors="replace").strip().splitlines()
            raise OSError(lines[-1] if lines else f"ffmpeg exited with {completed.returncode}")
    os.replace(partial, target)


def _nothing_captured_reason(recording: Recording) -> str:
    if recording.error:
        return recording.error
    zone = recording.session.event.tzinfo
    starts = timezone.localtime(recording.capture_starts_at, zone).strftime("%H:%M")
    ends = timezone.localtime(recording.capture_ends_at, zone).strftime("%H:%M %Z")
    url = redact_url(recording.session.stream_url or recording.original_name)
    return f"Nothing was received from the stream at {url} between {starts} and {ends}."


def _fail(recording: Recording, reason: str) -> str:
    Recording.objects.filter(pk=recording.pk, status__in=OPEN_STATUSES).update(
        status=RecordingStatus.FAILED, error=reason, stage="", updated_at=timezone.now()
    )
    logger.warning("Capture %s failed: %s", recording.pk, reason)
    return CaptureOutcome.FAILED
