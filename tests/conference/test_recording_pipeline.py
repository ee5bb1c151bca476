"""Recording processing: probing, the HLS transcode, images, chapters, idempotency, deletion,
and a real Celery worker killed mid-transcode."""

import datetime as dt
import os
import signal
import subprocess
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from PIL import Image

from conference.models import Recording, RecordingSource, RecordingStatus
from conference.services.recordings import chapters, paths, pipeline, transcode
from conference.services.recordings.probe import ProbeResult
from tests.factories import HallFactory, SessionFactory, SpeakerFactory
from tests.support.process import celery_worker, child_pids
from tests.support.recording import make_test_video, needs_ffmpeg
from tests.support.recording_pipeline import (
    ffprobe_streams,
    folders,
    master_entries,
    playlist_duration,
    recording_with_source,
)

UTC = dt.UTC

pytestmark = needs_ffmpeg


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    """Short test videos, made once for the module."""
    folder = tmp_path_factory.mktemp("videos")
    return {
        "720p": make_test_video(folder / "hd.mp4", seconds=4, size="1280x720"),
        "360p": make_test_video(folder / "small.mp4", seconds=2, size="640x360"),
        "360p-silent": make_test_video(folder / "sd.mp4", seconds=3, size="640x360", audio=False),
    }


def _published(recording: Recording) -> Path:
    folder = paths.published_folder(recording)
    assert folder is not None
    return folder


# --- Probing -----------------------------------------------------------------------------------


def _pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    return path


def _truncated(path: Path) -> Path:
    whole = make_test_video(path.with_suffix(".whole.mp4"), seconds=2)
    path.write_bytes(whole.read_bytes()[:4000])
    return path


def _still(path: Path) -> Path:
    Image.new("RGB", (320, 240), "teal").save(path, "PNG")
    return path


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_pdf, "This is a text file, not a video."),
        (_truncated, "This is not a video file ffmpeg can read ("),
        (_still, "This is a still image, not a video."),
    ],
    ids=["renamed-pdf", "truncated", "still-image"],
)
def test_process_recording_not_a_video_fails_with_reason(recordings_root, tmp_path, make, reason):
    recording = recording_with_source(make(tmp_path / "talk.mp4"))

    result = pipeline.process_recording(recording.pk)

    assert (result.status, result.error.startswith(reason), result.published_dir) == (
        RecordingStatus.FAILED,
        True,
        "",
    )
    assert folders(paths.recording_root(recording)) == ["source"]


@pytest.mark.django_db
def test_process_recording_missing_source_fails(recordings_root):
    recording = Recording.objects.create(session=SessionFactory(), source_path="source/gone.mp4")

    result = pipeline.process_recording(recording.pk)

    assert (result.status, result.error) == (
        RecordingStatus.FAILED,
        "The source video file is missing.",
    )


# --- Transcoding -------------------------------------------------------------------------------


@pytest.fixture
def processed(db, recordings_root, videos) -> Recording:
    recording = recording_with_source(videos["720p"])
    return pipeline.process_recording(recording.pk)


@pytest.fixture
def processed_small(db, recordings_root, videos) -> Recording:
    recording = recording_with_source(videos["360p"])
    return pipeline.process_recording(recording.pk)


def test_process_recording_publishes_playable_hls(processed):
    folder = _published(processed)
    entries = master_entries(folder / "master.m3u8")

    assert (processed.status, processed.progress, processed.published_dir) == (
        "ready",
        100,
        "gen-1",
    )
    assert (processed.width, processed.height, processed.duration_seconds) == (
        1280,
        720,
        Decimal("4.000"),
    )
    assert [(a.get("RESOLUTION"), a["CODECS"], uri) for a, uri in entries] == [
        ("640x360", "avc1.4d401e,mp4a.40.2", "360p/index.m3u8"),
        ("1280x720", "avc1.4d401f,mp4a.40.2", "720p/index.m3u8"),
        (None, "mp4a.40.2", "audio/index.m3u8"),
    ]
    assert all(int(a["BANDWIDTH"]) >= int(a["AVERAGE-BANDWIDTH"]) > 0 for a, _ in entries)
    for _, uri in entries:
        playlist = folder / uri
        segments = transcode.read_media_playlist(playlist)
        assert all((playlist.parent / s.uri).is_file() for s in segments)
        assert abs(playlist_duration(playlist) - processed.duration_seconds) < Decimal("0.15")
        assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")
    segment = folder / "720p" / transcode.read_media_playlist(folder / "720p/index.m3u8")[0].uri
    streams = {s["codec_type"]: s for s in ffprobe_streams(segment)}
    assert (streams["video"]["codec_name"], streams["video"]["width"]) == ("h264", 1280)
    assert streams["audio"]["codec_name"] == "aac"
    assert folders(paths.recording_root(processed)) == ["gen-1", "source"]


def test_process_recording_poster_and_thumbnails_are_images(processed):
    folder = _published(processed)
    with Image.open(folder / "poster.jpg") as poster:
        assert (poster.format, poster.size) == ("JPEG", (1280, 720))
    thumbs = sorted((folder / "thumbs").glob("thumb_*.jpg"))
    sizes = []
    for thumb in thumbs:
        with Image.open(thumb) as image:
            sizes.append((image.format, image.size))
    assert sizes == [("JPEG", (160, 90))] * 2
    assert (folder / "thumbs" / "thumbs.vtt").read_text().splitlines()[:5] == [
        "WEBVTT",
        "",
        "00:00:00.000 --> 00:00:02.000",
        "thumb_000.jpg",
        "",
    ]


@pytest.mark.django_db
def test_process_recording_rotated_phone_video_is_portrait(recordings_root, videos, tmp_path):
    rotated = tmp_path / "phone.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-i", videos["360p"], "-metadata:s:v:0", "rotate=90"),
            *("-c", "copy", rotated),
        ],
        check=True,
        timeout=30,
    )
    recording = recording_with_source(rotated)

    result = pipeline.process_recording(recording.pk)

    folder = _published(result)
    entries = master_entries(folder / "master.m3u8")
    segment = folder / "360p" / transcode.read_media_playlist(folder / "360p/index.m3u8")[0].uri
    video = next(s for s in ffprobe_streams(segment) if s["codec_type"] == "video")
    with Image.open(folder / "poster.jpg") as poster:
        poster_size = poster.size
    assert (result.width, result.height, poster_size) == (360, 640, (360, 640))
    assert [a.get("RESOLUTION") for a, _ in entries] == ["360x640", None]
    assert (video["width"], video["height"]) == (360, 640)


def test_plan_renditions_without_picture_size_refused():
    with pytest.raises(transcode.TranscodeError, match="no picture size"):
        transcode.plan_renditions(_probed(0, 0))


@pytest.mark.django_db
def test_process_recording_small_silent_source_has_one_rendition(recordings_root, videos):
    recording = recording_with_source(videos["360p-silent"])

    result = pipeline.process_recording(recording.pk)

    entries = master_entries(_published(result) / "master.m3u8")
    assert [(a["RESOLUTION"], a["CODECS"], uri) for a, uri in entries] == [
        ("640x360", "avc1.4d401e", "360p/index.m3u8")
    ]
    assert folders(_published(result)) == ["360p", "thumbs"]


def _probed(
    width: int, height: int, *, audio: str = "aac", sar: str = "1:1", rotation: int = 0
) -> ProbeResult:
    stream = {"codec_type": "video", "sample_aspect_ratio": sar, "avg_frame_rate": "30000/1001"}
    if rotation:
        stream["side_data_list"] = [{"side_data_type": "Display Matrix", "rotation": rotation}]
    return ProbeResult("mov", Decimal("600"), width, height, "h264", audio, {"streams": [stream]})


@pytest.mark.parametrize(
    ("probed", "expected"),
    [
        (_probed(1920, 1080), [("360p", 640, 360), ("720p", 1280, 720), ("audio", 0, 0)]),
        (_probed(640, 360), [("360p", 640, 360), ("audio", 0, 0)]),
        (_probed(640, 480, audio=""), [("360p", 480, 360)]),
        (_probed(426, 240), [("360p", 426, 240), ("audio", 0, 0)]),
        (_probed(720, 576, sar="16:15"), [("360p", 480, 360), ("audio", 0, 0)]),
        (
            _probed(1920, 1080, rotation=-90),
            [("360p", 360, 640), ("720p", 720, 1280), ("audio", 0, 0)],
        ),
    ],
    ids=["1080p", "360p", "4x3-silent", "240p", "anamorphic", "portrait-phone"],
)
def test_plan_renditions_never_upscales(probed, expected):
    plan = transcode.plan_renditions(probed)

    assert [(r.name, r.width, r.height) for r in plan.renditions] == expected
    assert plan.thumb_interval == 3  # 600 s / 240 thumbnails at most


def test_build_commands_one_transcode_with_aligned_keyframes(tmp_path):
    plan = transcode.plan_renditions(_probed(1920, 1080))

    poster, command = transcode.build_commands(tmp_path / "in.mp4", tmp_path / "w", plan)

    assert (poster[0], command[0], command.count("-i")) == ("ffmpeg", "ffmpeg", 1)
    assert command[command.index("-var_stream_map") + 1] == (
        "v:0,a:0,name:360p v:1,a:1,name:720p a:2,name:audio"
    )
    assert command[command.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*4)"


# --- Progress, idempotency, deletion -----------------------------------------------------------


@pytest.mark.django_db
def test_process_recording_stores_progress(recordings_root, videos, monkeypatch):
    recording = recording_with_source(videos["360p"])
    seen = []
    original = pipeline.ProgressReporter.report

    def remember(self, stage, progress, *, force=False):
        original(self, stage, progress, force=force)
        row = Recording.objects.values_list("stage", "progress").get(pk=recording.pk)
        seen.append(row)

    monkeypatch.setattr(pipeline.ProgressReporter, "report", remember)

    result = pipeline.process_recording(recording.pk)

    assert ("transcoding", 4) in seen
    assert [p for stage, p in seen if stage == "transcoding"] == sorted(
        p for stage, p in seen if stage == "transcoding"
    )
    assert seen[-1] == ("publishing", 98)
    assert (result.stage, result.progress) == ("", 100)


def test_process_recording_twice_gives_one_ready_recording(processed_small):
    again = pipeline.process_recording(processed_small.pk)

    assert (again.status, again.generation, again.ready_at) == (
        "ready",
        1,
        processed_small.ready_at,
    )
    assert folders(paths.recording_root(processed_small)) == ["gen-1", "source"]


def test_process_recording_queued_again_replaces_generation(
    processed_small, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        pipeline.queue_processing(processed_small)
    processed_small.refresh_from_db()
    assert (processed_small.status, processed_small.progress, len(callbacks)) == ("queued", 0, 1)

    result = pipeline.process_recording(processed_small.pk)

    assert (result.status, result.generation, result.published_dir) == ("ready", 2, "gen-2")
    assert folders(paths.recording_root(processed_small)) == ["gen-2", "source"]
    assert pipeline.ready_recording(processed_small.session) == result


def test_process_recording_removes_leftovers_of_a_dead_run(processed_small):
    root = paths.recording_root(processed_small)
    (root / "work-7" / "720p").mkdir(parents=True)
    (root / "gen-5").mkdir()
    Recording.objects.filter(pk=processed_small.pk).update(status="queued", generation=7)

    result = pipeline.process_recording(processed_small.pk)

    assert (result.status, result.published_dir) == ("ready", "gen-8")
    assert folders(root) == ["gen-8", "source"]


def test_delete_recording_removes_folder(processed_small, django_capture_on_commit_callbacks):
    root = paths.recording_root(processed_small)
    (root / "captions").mkdir()
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.delete_recording(processed_small)

    assert (root.exists(), Recording.objects.count()) == (False, 0)


def test_queryset_delete_removes_folders(processed_small, django_capture_on_commit_callbacks):
    root = paths.recording_root(processed_small)
    with django_capture_on_commit_callbacks(execute=True):
        Recording.objects.filter(pk=processed_small.pk).delete()

    assert root.exists() is False


@pytest.mark.django_db
def test_process_recording_deleted_mid_run_leaves_no_folder(
    recordings_root, videos, monkeypatch, django_capture_on_commit_callbacks
):
    recording = recording_with_source(videos["360p"])
    original = pipeline.ProgressReporter.report

    def delete_then_report(self, stage, progress, *, force=False):
        if stage == "transcoding":
            with django_capture_on_commit_callbacks(execute=True):
                pipeline.delete_recording(Recording.objects.get(pk=recording.pk))
        original(self, stage, progress, force=force)

    monkeypatch.setattr(pipeline.ProgressReporter, "report", delete_then_report)

    result = pipeline.process_recording(recording.pk)

    assert (result, paths.recording_root(recording).exists()) == (None, False)


@pytest.mark.django_db
def test_process_recording_soft_time_limit_kills_ffmpeg_and_fails(
    recordings_root, videos, monkeypatch, settings
):
    settings.RECORDING_TASK_TIME_LIMIT_SECONDS = 600
    recording = recording_with_source(videos["720p"])
    running = []

    def time_is_up(self, seconds):
        running.extend(_ffmpeg_writing_into(recordings_root))
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(pipeline.ProgressReporter, "transcoded", time_is_up)

    result = pipeline.process_recording(recording.pk)

    assert (result.status, result.error) == (
        "failed",
        "Processing took longer than the 600 s allowed.",
    )
    assert (len(running), _ffmpeg_writing_into(recordings_root)) == (1, [])
    assert folders(paths.recording_root(recording)) == ["source"]


@pytest.mark.django_db
def test_process_recording_source_outside_its_folder_fails(recordings_root, videos):
    other = recording_with_source(videos["360p"])
    recording = recording_with_source(videos["360p"])
    outside = f"../{other.pk}/{other.source_path}"
    assert (paths.recording_root(recording) / outside).is_file()
    Recording.objects.filter(pk=recording.pk).update(source_path=outside)

    result = pipeline.process_recording(recording.pk)

    assert (result.status, result.error) == ("failed", "The source video file is missing.")


@pytest.mark.django_db
def test_ready_recording_is_newest_ready(recordings_root):
    session = SessionFactory()
    now = dt.datetime(2025, 5, 1, 12, tzinfo=UTC)
    older = Recording.objects.create(
        session=session, status="ready", published_dir="gen-1", ready_at=now
    )
    Recording.objects.create(session=session, status="failed")
    newer = Recording.objects.create(
        session=session, status="ready", published_dir="gen-1", ready_at=now + dt.timedelta(1)
    )

    assert (pipeline.ready_recording(session), older.pk < newer.pk) == (newer, True)
    assert pipeline.ready_recording(SessionFactory()) is None


# --- Chapters ----------------------------------------------------------------------------------


def _at(minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2025, 5, 1, 14, minute, second, tzinfo=UTC)


def test_build_chapters_two_sessions_with_gaps_clamped():
    talks = [
        chapters.ScheduledTalk("Sepsis <update>", ("Dr Ann", "Dr Bo"), _at(5), _at(30)),
        chapters.ScheduledTalk("Shock & fluids", ("Dr Cy",), _at(35), _at(59)),
    ]

    result = chapters.build_chapters(talks, recording_start=_at(0), duration=Decimal(3000))

    assert [(c.start, c.end, c.title) for c in result] == [
        (Decimal(0), Decimal(300), "Before the session"),
        (Decimal(300), Decimal(1800), "Sepsis <update> — Dr Ann, Dr Bo"),
        (Decimal(1800), Decimal(2100), "Break"),
        (Decimal(2100), Decimal(3000), "Shock & fluids — Dr Cy"),
    ]
    assert chapters.chapters_vtt(result).splitlines()[6:11] == [
        "2",
        "00:05:00.000 --> 00:30:00.000",
        "Sepsis &lt;update&gt; — Dr Ann, Dr Bo",
        "",
        "3",
    ]


def test_build_chapters_one_session_longer_than_recording():
    talks = [chapters.ScheduledTalk("Keynote", (), _at(0), _at(59))]

    result = chapters.build_chapters(talks, recording_start=_at(0), duration=Decimal("4.5"))

    assert [(c.start, c.end, c.title) for c in result] == [(Decimal(0), Decimal("4.5"), "Keynote")]


@pytest.mark.django_db
def test_recording_chapters_follow_the_hall_schedule(recordings_root):
    hall = HallFactory()
    first = SessionFactory(hall=hall, starts_at=_at(0, 2), ends_at=_at(0, 6))
    second = SessionFactory(
        hall=hall, event=first.event, title="Fluids", starts_at=_at(0, 6), ends_at=_at(0, 20)
    )
    SessionFactory(hall=HallFactory(), event=first.event, starts_at=_at(0), ends_at=_at(1))
    SessionFactory(hall=hall, event=first.event, starts_at=_at(0, 30), ends_at=_at(1))
    first.speakers.add(SpeakerFactory(event=first.event, name="Dr Ann"))
    second.speakers.add(
        SpeakerFactory(event=first.event, name="Dr Bo"),
        SpeakerFactory(event=first.event, name="Dr Cy"),
    )
    recording = Recording.objects.create(
        session=first, source=RecordingSource.CAPTURE, capture_starts_at=_at(0, 1)
    )

    vtt = chapters.recording_chapters_vtt(recording, duration=Decimal(10))

    assert vtt.splitlines() == [
        "WEBVTT",
        "",
        "1",
        "00:00:00.000 --> 00:00:01.000",
        "Before the session",
        "",
        "2",
        "00:00:01.000 --> 00:00:05.000",
        f"{first.title} — Dr Ann",
        "",
        "3",
        "00:00:05.000 --> 00:00:10.000",
        "Fluids — Dr Bo, Dr Cy",
    ]


# --- A real worker killed mid-transcode --------------------------------------------------------


def _ffmpeg_writing_into(root: Path) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"ffmpeg") and any(str(root).encode() in a for a in argv):
            pids.append(int(cmdline.parent.name))
    return pids


def _wait(condition, *, seconds: float, step: float = 0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return condition()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_transcode_then_redelivered_publishes_once(
    recordings_root, tmp_path, settings
):
    queue = f"test-media-{uuid.uuid4().hex[:10]}"
    settings.CELERY_MEDIA_QUEUE = queue
    source = make_test_video(tmp_path / "long.mp4", seconds=8, size="1280x720")
    recording = recording_with_source(source)
    rows = Recording.objects.filter(pk=recording.pk)
    worker_log = tmp_path / "worker.log"
    with celery_worker(queue, worker_log, RECORDINGS_ROOT=str(recordings_root)) as worker:
        with transaction.atomic():
            pipeline.queue_processing(recording)
        transcoding = _wait(
            lambda: rows.filter(stage="transcoding", progress__gt=4).exists(), seconds=40
        )
        children = child_pids(worker.pid)
        ffmpeg_before = _ffmpeg_writing_into(recordings_root)
        work_before = folders(paths.recording_root(recording))
        os.kill(children[0], signal.SIGKILL)  # the parent re-queues the task (acks late)
        ffmpeg_orphans = _wait(lambda: not _ffmpeg_writing_into(recordings_root), seconds=5)
        seen = set()

        def ready():
            _stage, progress, status = rows.values_list("stage", "progress", "status").get()
            seen.add(progress)
            return status == RecordingStatus.READY

        assert _wait(ready, seconds=60, step=0.1)

    recording.refresh_from_db()
    folder = _published(recording)
    assert (transcoding, len(children), len(ffmpeg_before), work_before) == (
        True,
        1,
        1,
        ["source", "work-1"],
    )
    assert ffmpeg_orphans is True  # ffmpeg died with the killed worker
    assert (recording.status, recording.generation, recording.progress) == ("ready", 2, 100)
    assert folders(paths.recording_root(recording)) == ["gen-2", "source"]
    assert any(0 < p < 100 for p in seen)
    entries = master_entries(folder / "master.m3u8")
    assert [uri for _, uri in entries] == ["360p/index.m3u8", "720p/index.m3u8", "audio/index.m3u8"]
    for _, uri in entries:
        playlist = folder / uri
        assert all(
            (playlist.parent / s.uri).is_file() for s in transcode.read_media_playlist(playlist)
        )
        assert abs(playlist_duration(playlist) - Decimal(8)) < Decimal("0.15")
