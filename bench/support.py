"""What the benches share: a fresh PostgreSQL database, Django set up against it, a real
Celery worker started, awaited and stopped, and the CPU a process tree used (Linux /proc).

Imported by the bench scripts (`.venv/bin/python bench/<name>.py` puts bench/ on the path);
it puts the project root on the path so that the scripts can import the project.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def recreate_database(url: str) -> None:
    """Drop and create the database named in the PostgreSQL `url`."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def setup_django(database_url: str, redis_url: str, **environ: str) -> None:
    """Production settings against the bench database and Redis (plus `environ`, e.g.
    MEDIA_ROOT), then migrate."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="conference.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        **environ,
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def start_worker(
    log, *, concurrency: int = 1, queue: str | None = None, name: str = "bench"
) -> subprocess.Popen:
    """A real prefork `celery worker` in its own session (stderr to `log`), on `queue` or
    the default queues."""
    return subprocess.Popen(
        [
            *(str(ROOT / ".venv/bin/celery"), "-A", "conference", "worker"),
            *("--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "WARNING"),
            *(("-Q", queue) if queue else ()),
            *("--without-gossip", "--without-mingle"),
            *("--hostname", f"{name}-{os.getpid()}@%h"),
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )


def wait_for_worker(timeout: float = 60) -> None:
    from conference.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return
    raise SystemExit("the Celery worker did not answer within 60 s")


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


def cpu_seconds(root_pid: int, *, reaped: bool = False) -> float:
    """User + system CPU of a process and its direct children (Linux /proc); with `reaped`,
    also that of the children they reaped (e.g. ffmpeg run by pool processes)."""
    fields_counted = (11, 12, 13, 14) if reaped else (11, 12)
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if root_pid in (pid, ppid):
            total += sum(int(fields[i]) for i in fields_counted) / CLK_TCK
    return total
