"""Recording processing: the whole pipeline through a real Celery worker against bare ffmpeg.

    .venv/bin/python bench/transcode.py [--seconds 120] [--size 1280x720] [--rounds 2]
        [--database-url postgres://postgres@127.0.0.1:5432/medvenue_transcode_bench]
        [--redis-url redis://127.0.0.1:6379/11]

In one run, on PostgreSQL + Redis:

1. recreates the bench database (migrations) and makes a test video with ffmpeg (lavfi
   testsrc + sine, H.264/AAC; not timed);
2. bare: runs the ffmpeg commands the pipeline runs (`transcode.build_commands`, the very
   argv lists: poster frame, then the one transcode to every HLS rendition and the thumbnail
   frames) one after the other in this process;
3. pipeline: starts a real `celery worker` on the media queue (prefork, one process), waits
   until it answers a ping, then queues the recording with `pipeline.queue_processing` (as the
   admin does) and waits until the row is READY: broker, probe, progress written to the row,
   poster and thumbnails with Pillow, master playlist, chapters, rename and publish;
4. repeats 2-3 `--rounds` times, alternating, and prints the wall times, the ratio
   pipeline / bare (target <= 1.10), the CPU seconds of each, and the wall time of the pipeline
   run during which none of its ffmpeg processes was running (sampled every 20 ms): the
   pipeline's own overhead, which other load on the machine barely changes, unlike the ratio.

Figures are printed; they are recorded in docs/recordings.md.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from support import (
    cpu_seconds,
    recreate_database,
    setup_django,
    start_worker,
    stop_worker,
    wait_for_worker,
)

SAMPLE_SECONDS = 0.02  # how often the bench looks whether the worker's ffmpeg runs
DB_POLL_SECONDS = 0.1  # how often it reads the recording's status


def make_video(path: Path, seconds: int, size: str) -> Path:
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i"]
    command += [f"testsrc=size={size}:rate=25:duration={seconds}"]
    command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    command += ["-c:a", "aac", "-shortest", str(path)]
    subprocess.run(command, check=True, timeout=600)
    return path


def bare_run(source: Path, scratch: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the pipeline's ffmpeg commands, run bare."""
    from conference.services.recordings import transcode
    from conference.services.recordings.probe import probe

    plan = transcode.plan_renditions(probe(source))
    work = scratch / "bare-work"
    shutil.rmtree(work, ignore_errors=True)
    (work / "frames").mkdir(parents=True)
    for rendition in plan.renditions:
        (work / rendition.name).mkdir()
    commands = transcode.build_commands(source, work, plan)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    shutil.rmtree(work)
    return elapsed, cpu


def new_recording(source: Path):
    """A recording of a new session with a copy of `source` (not timed)."""
    from datetime import timedelta

    from django.utils import timezone

    from conference.models import Event, Organizer, Recording, Session
    from conference.services.recordings import paths

    organizer, _ = Organizer.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    today = timezone.now().date()
    event, _ = Event.objects.get_or_create(
        slug="bench-congress",
        defaults={
            "organizer": organizer,
            "title": "Bench Congress",
            "start_date": today,
            "end_date": today,
        },
    )
    starts = timezone.now()
    session = Session.objects.create(
        event=event, title="Bench session", starts_at=starts, ends_at=starts + timedelta(hours=1)
    )
    recording = Recording.objects.create(
        session=session, status="queued", source_path=f"source/{source.name}"
    )
    folder = paths.source_folder(recording)
    folder.mkdir(parents=True)
    shutil.copyfile(source, folder / source.name)
    return recording


def children(pid: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids += [int(x) for x in task.read_text().split()]
        except OSError:
            continue
    return pids


def ffmpeg_running(worker_pid: int) -> bool:
    """Whether an ffmpeg started by one of the worker's pool processes is running (cheap: reads
    only the worker's and its pool processes' children lists, so sampling does not compete
    with ffmpeg for the CPU)."""
    for pool_pid in children(worker_pid):
        for pid in children(pool_pid):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "ffmpeg":
                    return True
            except OSError:
                continue
    return False


def pipeline_run(
    source: Path, worker: subprocess.Popen, log_name: str
) -> tuple[float, float, float]:
    """Wall seconds from queueing (commit) to READY, the worker's CPU seconds, and the wall
    seconds of that span during which no ffmpeg ran (the pipeline's own time, sampled)."""
    from django.db import transaction

    from conference.models import Recording
    from conference.services.recordings import pipeline

    recording = new_recording(source)
    cpu = cpu_seconds(worker.pid, reaped=True)
    started = time.perf_counter()
    with transaction.atomic():
        pipeline.queue_processing(recording)
    rows = Recording.objects.filter(pk=recording.pk)
    outside, last, checked = 0.0, time.perf_counter(), 0.0
    while True:
        if last - checked >= DB_POLL_SECONDS:
            status, error = rows.values_list("status", "error").get()
            if status == "ready":
                break
            if status == "failed":
                raise SystemExit(f"processing failed: {error}")
            if worker.poll() is not None:
                raise SystemExit(f"the worker died; see {log_name}")
            checked = time.perf_counter()
        time.sleep(SAMPLE_SECONDS)
        running, now = ffmpeg_running(worker.pid), time.perf_counter()
        outside += 0 if running else now - last
        last = now
    elapsed = time.perf_counter() - started
    return (
        elapsed,
        cpu_seconds(worker.pid, reaped=True) - cpu,
        outside + (elapsed - (last - started)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/medvenue_transcode_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="medvenue-transcode-bench-"))
    recreate_database(args.database_url)
    setup_django(args.database_url, args.redis_url, RECORDINGS_ROOT=str(scratch / "recordings"))
    import redis
    from django.conf import settings

    redis.Redis.from_url(args.redis_url).flushdb()
    source = make_video(scratch / "talk.mp4", args.seconds, args.size)
    print(
        f"{args.seconds} s {args.size} test video; {os.cpu_count()} CPUs; "
        f"load {os.getloadavg()[0]:.2f}; {args.database_url}, broker {args.redis_url}",
        flush=True,
    )
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept for the worker's whole life
        prefix="transcode-bench-worker-", suffix=".log", delete=False
    )
    worker = start_worker(log, queue=settings.CELERY_MEDIA_QUEUE, name="bench-media")
    bare, piped = [], []
    try:
        wait_for_worker()
        for round_ in range(1, args.rounds + 1):
            bare.append(bare_run(source, scratch))
            piped.append(pipeline_run(source, worker, log.name))
            print(
                f"round {round_}: bare ffmpeg {bare[-1][0]:6.2f} s (CPU {bare[-1][1]:6.2f} s), "
                f"pipeline {piped[-1][0]:6.2f} s (CPU {piped[-1][1]:6.2f} s), "
                f"ratio {piped[-1][0] / bare[-1][0]:.3f}; "
                f"pipeline time outside ffmpeg {piped[-1][2]:.2f} s",
                flush=True,
            )
    finally:
        stop_worker(worker)
    bare_wall = statistics.median(b[0] for b in bare)
    pipe_wall = statistics.median(p[0] for p in piped)
    bare_cpu = statistics.median(b[1] for b in bare)
    pipe_cpu = statistics.median(p[1] for p in piped)
    outside = statistics.median(p[2] for p in piped)
    print(
        f"median of {args.rounds}: bare ffmpeg {bare_wall:.2f} s, pipeline {pipe_wall:.2f} s, "
        f"overhead {100 * (pipe_wall / bare_wall - 1):+.1f}% wall (target <= +10%), "
        f"{100 * (pipe_cpu / bare_cpu - 1):+.1f}% CPU ({bare_cpu:.2f} s vs {pipe_cpu:.2f} s); "
        f"pipeline time outside ffmpeg {outside:.2f} s = {100 * outside / bare_wall:.1f}% "
        "of bare ffmpeg (load-independent estimate of the overhead)",
        flush=True,
    )
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
