"""Processes for the real-worker tests: a child's pids from /proc, and a `celery worker` of
its own against the test database."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.conf import settings

from conference.celery import app as project_app

ROOT = Path(__file__).resolve().parents[2]


def child_pids(pid: int) -> list[int]:
    """The pids of the processes whose parent is `pid` (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def worker_environment(**environ: str) -> dict[str, str]:
    """This process's environment with production settings against the test database, plus
    `environ`."""
    database = settings.DATABASES["default"]
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "conference.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        **environ,
    }


def start_celery_worker(queue: str, log: IO[bytes], **environ: str) -> subprocess.Popen:
    """`celery worker` (prefork, one pool process) on `queue` only, on the Redis broker, in a
    session of its own; its output goes to `log`."""
    return subprocess.Popen(
        [
            *(ROOT / ".venv/bin/celery", "-A", "conference", "worker", "--pool", "prefork"),
            *("--concurrency", "1", "-Q", queue, "--without-gossip", "--without-mingle"),
            *("--hostname", f"{queue}@%h"),
        ],
        cwd=ROOT,
        env=worker_environment(REDIS_URL=settings.REDIS_URL, **environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@contextmanager
def celery_worker(queue: str, log_path: Path, **environ: str) -> Iterator[subprocess.Popen]:
    """`start_celery_worker` for the block, its output in `log_path`; afterwards the worker is
    stopped and the project's Celery app made current and default again (the block may have
    created another app)."""
    with open(log_path, "wb") as log:
        worker = start_celery_worker(queue, log, **environ)
        try:
            yield worker
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            project_app.set_current()
            project_app.set_default()
