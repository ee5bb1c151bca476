"""Capture of a session's live HLS stream: scheduling, chunks, joining, failures, a real worker.

The stream is real: ffmpeg encodes a live HLS stream that a threaded http.server serves on
loopback (tests/support/capture.py), and the capture code's own ffmpeg records it.
"""

import datetime as dt
import os
import signal
import subprocess
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from conference.celery import BEAT_SCHEDULE, create_app
from conference.celery import app as project_app
from conference.models import Recording, RecordingSource, RecordingStatus
from conference.services.recordings import capture
from conference.services.recordings.probe import probe
from conference.tasks.capture import capture_recording
from conference.tasks.capture import schedule_captures as schedule_captures_task
from tests.factories import SessionFactory
from tests.support.capture import LiveHlsStream, closed_port
from tests.support.process import child_pids, worker_environment
from tests.support.recording import needs_ffmpeg

ROOT = Path(__file__).resolve().parents[2]
SECRET_URL = "http://stage:s3cret-pass@127.0.0.1:{port}/live/main.m3u8?token=t0ken-abc"


@pytest.fixture(scope="module")
def live_stream(tmp_path_factory):
    with LiveHlsStream(tmp_path_factory.mktemp("hls")) as stream:
        yield stream


@pytest.fixture(autouse=True)
def no_capture_margin(settings):
    """Captures start at the session's own start (a test may set a margin of its own)."""
    settings.RECORDING_CAPTURE_MARGIN_SECONDS = 0


def _session_now(seconds: float, **kwargs):
    now = timezone.now()
    return SessionFactory(starts_at=now, ends_at=now + dt.timedelta(seconds=seconds), **kwargs)


def _run_capture(recording_id: int, *, limit: int = 20) -> list[str]:
    """Run the capture task in this process as the chain of workers would, to its end."""
    outcomes = []
    while len(outcomes) < limit:
        outcomes.append(capture_recording(recording_id))
        if outcomes[-1] != capture.CaptureOutcome.CHUNK:
            break
    return outcomes


# --- Scheduling ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_schedule_captures_repeated_ticks_create_one_capture_per_due_session(
    settings, django_capture_on_commit_callbacks
):
    settings.RECORDING_CAPTURE_MARGIN_SECONDS = 300
    now = timezone.now()
    url = "https://cdn.example.org/hall-a/live.m3u8"

    def session(title, start_minutes, end_minutes, stream_url=url):
        SessionFactory(
            title=title,
            stream_url=stream_url,
            starts_at=now + dt.timedelta(minutes=start_minutes),
            ends_at=now + dt.timedelta(minutes=end_minutes),
        )

    session("in the start margin", 4, 60)
    session("running for a while (catch up)", -40, 20)
    session("in the end margin", -60, -4)
    session("no stream", -10, 50, stream_url="")
    session("later today", 7, 60)
    session("over", -60, -6)

    with django_capture_on_commit_callbacks() as first_tick:
        first = capture.schedule_captures(now=now)
    with django_capture_on_commit_callbacks() as second_tick:
        second = capture.schedule_captures(now=now + dt.timedelta(seconds=30))

    captures = Recording.objects.filter(source=RecordingSource.CAPTURE)
    assert sorted(r.session.title for r in first) == [
        "in the end margin",
        "in the start margin",
        "running for a while (catch up)",
    ]
    assert (second, len(first_tick), len(second_tick)) == ([], 3, 0)
    assert captures.count() == 3
    assert set(captures.values_list("status", flat=True)) == {RecordingStatus.SCHEDULED}
    margin_start = captures.get(session__title="in the start margin")
    assert margin_start.capture_starts_at == margin_start.session.starts_at - dt.timedelta(
        minutes=5
    )
    assert margin_start.capture_ends_at == margin_start.session.ends_at + dt.timedelta(minutes=5)


@pytest.mark.django_db
def test_schedule_capture_twice_for_one_session_creates_one(recordings_root):
    session = _session_now(600, stream_url="https://cdn.example.org/live.m3u8")

    first = capture.schedule_capture(session)
    second = capture.schedule_capture(session)  # a racing tick: the constraint refuses it

    assert (first is not None, second) == (True, None)
    assert Recording.objects.filter(session=session).count() == 1


@pytest.mark.django_db
def test_schedule_captures_non_http_stream_fails_without_capturing(
    recordings_root, django_capture_on_commit_callbacks
):
    session = _session_now(600, stream_url="ftp://files.example.org/live.m3u8")

    with django_capture_on_commit_callbacks() as callbacks:
        [recording] = capture.schedule_captures()

    assert (recording.session, recording.status, callbacks) == (
        session,
        RecordingStatus.FAILED,
        [],
    )
    assert recording.error == (
        "The stream at ftp://files.example.org/live.m3u8 cannot be captured: only http and "
        "https stream URLs are supported."
    )


@pytest.mark.django_db
def test_schedule_captures_resends_a_stalled_capture_once(
    recordings_root, django_capture_on_commit_callbacks
):
    session = _session_now(3600, stream_url="https://cdn.example.org/live.m3u8")
    recording = capture.schedule_capture(session)
    later = timezone.now() + dt.timedelta(seconds=capture.STALE_SECONDS + 1)

    with django_capture_on_commit_callbacks() as stalled_tick:
        capture.schedule_captures(now=later)
    with django_capture_on_commit_callbacks() as next_tick:
        capture.schedule_captures(now=later + dt.timedelta(seconds=60))

    assert (len(stalled_tick), len(next_tick)) == (1, 0)
    recording.refresh_from_db()
    assert recording.updated_at == later


@pytest.mark.django_db
def test_capture_session_moved_later_drops_capture_until_its_new_window(
    recordings_root, django_capture_on_commit_callbacks
):
    session = _session_now(600, stream_url="https://cdn.example.org/live.m3u8")
    recording = capture.schedule_capture(session)
    session.starts_at += dt.timedelta(days=1)
    session.ends_at += dt.timedelta(days=1)
    session.save()

    with django_capture_on_commit_callbacks(execute=True):  # the folder goes on commit
        outcome = capture_recording(recording.pk)
    today = capture.schedule_captures()
    tomorrow = capture.schedule_captures(now=session.starts_at)

    assert (outcome, today, [r.session for r in tomorrow]) == ("postponed", [], [session])
    assert Recording.objects.filter(session=session).count() == 1
    assert not (recordings_root / str(recording.pk)).exists()


def test_beat_schedule_sends_schedule_captures_every_minute():
    entry = BEAT_SCHEDULE["schedule-captures"]

    assert entry["task"] == schedule_captures_task.name
    assert (entry["schedule"], entry["options"]["queue"]) == (60.0, "default")
    assert project_app.conf.beat_schedule == BEAT_SCHEDULE
    assert project_app.conf.beat_schedule_filename == str(settings.DATA_DIR / "celerybeat-schedule")


# --- URLs and chunk files -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://cdn.example.org/a/live.m3u8", "https://cdn.example.org/a/live.m3u8"),
        (
            "https://u:p@cdn.example.org:8443/live.m3u8?sig=1",
            "https://cdn.example.org:8443/live.m3u8?...",
        ),
        ("http://[::1]:9000/live.m3u8", "http://[::1]:9000/live.m3u8"),
    ],
)
def test_redact_url_drops_credentials_and_query(url, shown):
    assert capture.redact_url(url) == shown


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        (
            "https://u:pw@cdn.example.org/live.m3u8?token=t0ken-abc: Server returned 404 Not Found",
            "Server returned 404 Not Found",
        ),
        (
            "[https @ 0x55d0c2a0] Opening 'https://cdn.example.org/s5.ts?sig=zz9' failed\n"
            "Immediate exit requested",
            "Opening 'https://cdn.example.org/s5.ts?...' failed",
        ),
        ("", "ffmpeg exited with code 1"),
    ],
)
def test_read_error_gives_last_reason_without_secrets(output, reason):
    url = "https://u:pw@cdn.example.org/live.m3u8?token=t0ken-abc"

    assert capture.read_error(url, output, 1) == (
        f"The stream at https://cdn.example.org/live.m3u8?... could not be read: {reason}"
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://cdn.example.org/live.m3u8", ""),
        ("HTTP://cdn.example.org/live.m3u8", ""),
        ("http://[::1/live.m3u8", "The stream URL is not a valid URL."),
        (
            "file:///etc/passwd",
            "The stream at file:///etc/passwd cannot be captured: only http and https stream "
            "URLs are supported.",
        ),
    ],
)
def test_url_problem_accepts_only_http_and_https(url, problem):
    assert capture.url_problem(url) == problem


def test_chunk_seconds_leave_room_below_the_task_limit(settings):
    settings.RECORDING_TASK_TIME_LIMIT_SECONDS = 3600
    long_limit = capture.chunk_seconds()
    settings.RECORDING_TASK_TIME_LIMIT_SECONDS = 60

    assert (long_limit, capture.chunk_seconds()) == (3480, 30)


@pytest.mark.django_db
def test_capture_next_while_another_task_records_returns_busy(recordings_root):
    recording = capture.schedule_capture(_session_now(600, stream_url="http://127.0.0.1:9/x.m3u8"))

    with capture.capture_lock(recording) as held:
        outcome = capture_recording(recording.pk)

    assert (held, outcome) == (True, capture.CaptureOutcome.BUSY)
    assert Recording.objects.get(pk=recording.pk).status == RecordingStatus.SCHEDULED


@pytest.mark.django_db
def test_capture_recording_deleted_removes_its_folder(recordings_root):
    recording = capture.schedule_capture(_session_now(600, stream_url="http://127.0.0.1:9/x.m3u8"))
    capture.chunk_folder(recording).mkdir(parents=True)
    (capture.chunk_folder(recording) / "chunk_00000.ts").write_bytes(b"x" * 100)
    recording_id = recording.pk
    recording.session.delete()

    assert capture_recording(recording_id) == capture.CaptureOutcome.GONE
    assert list(recordings_root.iterdir()) == []


# --- Capturing a real stream --------------------------------------------------------------


@needs_ffmpeg
@pytest.mark.django_db
def test_capture_live_stream_in_two_chunks_joins_them_and_queues_processing(
    live_stream, recordings_root, settings, django_capture_on_commit_callbacks
):
    settings.RECORDING_TASK_TIME_LIMIT_SECONDS = 6  # chunks of 3 s
    session = _session_now(6, stream_url=live_stream.url)
    [recording] = capture.schedule_captures()
    # A killed worker's stub: kept, never overwritten, and left out when joining.
    capture.chunk_folder(recording).mkdir(parents=True)
    (capture.chunk_folder(recording) / "chunk_00000.ts").write_bytes(b"\x47" * 100)
    seen_chunks = []

    outcomes = _run_capture(recording.pk, limit=2)
    seen_chunks = sorted(p.name for p in capture.chunk_folder(recording).glob("chunk_*.ts"))
    with django_capture_on_commit_callbacks() as processing:
        outcomes += _run_capture(recording.pk)

    recording.refresh_from_db()
    source = recordings_root / str(recording.pk) / "source" / "capture.ts"
    result = probe(source)
    assert outcomes == ["chunk", "chunk", "finished"]
    assert seen_chunks == ["chunk_00000.ts", "chunk_00001.ts", "chunk_00002.ts"]
    assert (recording.status, recording.source_path, recording.error) == (
        RecordingStatus.QUEUED,
        "source/capture.ts",
        "",
    )
    assert len(processing) == 1  # pipeline.queue_processing sends the media task on commit
    assert recording.size_bytes == source.stat().st_size
    assert (result.width, result.height, result.has_audio) == (320, 180, True)
    assert Decimal("4.5") <= result.duration <= Decimal("8.5"), result.duration
    assert not capture.chunk_folder(recording).exists()
    assert recording.session == session


@needs_ffmpeg
@pytest.mark.django_db
def test_capture_unreachable_stream_fails_after_window_without_credentials(recordings_root):
    port = closed_port()
    session = _session_now(3, stream_url=SECRET_URL.format(port=port))
    [recording] = capture.schedule_captures()
    started = time.monotonic()

    outcomes = _run_capture(recording.pk)

    recording.refresh_from_db()
    assert outcomes[-1] == capture.CaptureOutcome.FAILED
    assert time.monotonic() - started < 15
    assert recording.status == RecordingStatus.FAILED
    assert recording.error.startswith(
        f"The stream at http://127.0.0.1:{port}/live/main.m3u8?... could not be read: "
    ), recording.error
    assert recording.error.endswith("Connection refused"), recording.error
    assert "s3cret" not in recording.error + recording.original_name
    assert "t0ken" not in recording.error + recording.original_name
    assert session.recordings.count() == 1


@pytest.mark.postgres
@needs_ffmpeg
@pytest.mark.django_db(transaction=True)
def test_capture_session_deleted_mid_chunk_stops_ffmpeg_and_removes_files(
    live_stream, recordings_root, monkeypatch
):
    monkeypatch.setattr(capture, "PROGRESS_EVERY_SECONDS", 0.5)
    session = _session_now(60, stream_url=live_stream.url)
    recording = capture.schedule_capture(session)
    outcomes = []
    # children of this process from before (the stream's encoder, servers of earlier tests)
    before = set(child_pids(os.getpid()))
    runner = threading.Thread(target=lambda: outcomes.append(capture_recording(recording.pk)))
    runner.start()
    first = capture.chunk_folder(recording) / "chunk_00000.ts"
    recorded = _wait_for(lambda: first.exists() and first.stat().st_size > 0, timeout=20)
    recorders = [pid for pid in child_pids(os.getpid()) if pid not in before]
    session.delete()
    started = time.monotonic()
    runner.join(timeout=20)
    stopped_after = time.monotonic() - started

    assert (recorded, outcomes, stopped_after < 5) == (True, ["chunk"], True)
    assert (len(recorders), any(map(_alive, recorders))) == (1, False)
    assert capture_recording(recording.pk) == capture.CaptureOutcome.GONE
    assert list(recordings_root.iterdir()) == []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _capture_worker(tmp_path: Path, recordings_root: Path) -> subprocess.Popen:
    """`celery worker -Q capture` in a process of its own, on a file-system broker in tmp_path."""
    env = worker_environment(
        CELERY_BROKER_URL="filesystem://",
        MEDVENUE_DATA_DIR=str(tmp_path),
        RECORDINGS_ROOT=str(recordings_root),
        RECORDING_CAPTURE_MARGIN_SECONDS="0",
    )
    env.pop("REDIS_URL", None)
    command = [ROOT / ".venv/bin/celery", "-A", "conference", "worker", "--pool", "prefork"]
    command += ["-l", "info", "--concurrency", "1", "-Q", capture.CAPTURE_QUEUE, "--without-gossip"]
    command += ["--without-mingle", "--hostname", f"capture-{uuid.uuid4().hex[:8]}@%h"]
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - the process keeps it
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


@pytest.mark.postgres
@needs_ffmpeg
@pytest.mark.django_db(transaction=True)
def test_capture_worker_killed_mid_chunk_continues_in_a_new_chunk(
    live_stream, recordings_root, tmp_path, restore_default_app
):
    """A real worker; its pool process is killed while ffmpeg records. The task comes back
    (acks late), records the rest into the next chunk file, and both are joined."""
    create_app(broker_url="filesystem://", broker_dir=tmp_path / "broker")  # the worker's broker
    worker = _capture_worker(tmp_path, recordings_root)
    try:
        session = _session_now(60, stream_url=live_stream.url)
        [recording] = capture.schedule_captures()  # sends the task once this commits (now)
        first = capture.chunk_folder(recording) / "chunk_00000.ts"
        assert _wait_for(lambda: first.exists() and first.stat().st_size > 0, timeout=30)
        [pool] = child_pids(worker.pid)
        recorders = child_pids(pool)
        os.kill(pool, signal.SIGKILL)
        recorders_stopped = _wait_for(lambda: not any(map(_alive, recorders)), timeout=5)
        # The session ends early; the task comes back after the worker's 10 s lost-worker wait.
        session.ends_at = timezone.now() + dt.timedelta(seconds=14)
        session.save()
        assert _wait_for(
            lambda: Recording.objects.get(pk=recording.pk).status not in capture.OPEN_STATUSES,
            timeout=40,
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    log = (tmp_path / "worker.log").read_text()

    recording.refresh_from_db()
    duration = probe(recordings_root / str(recording.pk) / recording.source_path).duration
    assert (recording.session, recording.status, recording.error) == (
        session,
        RecordingStatus.QUEUED,
        "",
    )
    assert (len(recorders), recorders_stopped) == (1, True)  # ffmpeg died with its worker
    assert f"Capture {recording.pk} joined from 2 chunk(s) and queued" in log
    assert Decimal("2") <= duration <= Decimal("24"), duration
