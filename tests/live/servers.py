"""Start real daphne processes against the test database (for multi-process tests and benches)."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    conf = connection.settings_dict
    user = conf.get("USER") or "postgres"
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or 5432
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{conf['NAME']}"


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="conference.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        MEDVENUE_DATA_DIR=str(settings.DATA_DIR),
        LOG_LEVEL="WARNING",
    )
    return env


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"daphne on port {port} did not start within {timeout} s")


# The production command of the README (docs/operations.md), without the proxy options.
UVICORN_OPTIONS = [
    "--ws",
    "websockets-sansio",
    "--ws-per-message-deflate",
    "false",
    "--ws-max-size",
    "16384",
    "--no-access-log",
    "--timeout-graceful-shutdown",
    "10",
]


def start_uvicorn(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "conference.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *UVICORN_OPTIONS,
        ],
        cwd=ROOT,
        env=server_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@contextmanager
def uvicorn_process():
    """Yield (port, process) of one uvicorn process run with the documented options."""
    port = free_port()
    process = start_uvicorn(port)
    try:
        wait_for_port(port, process)
        yield port, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def daphne_processes(count: int, env: dict[str, str] | None = None):
    """Yield the ports of `count` daphne processes sharing the test database and Redis (with
    `env` added to their environment)."""
    processes, ports = [], []
    try:
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "conference.asgi:application",
                ],
                cwd=ROOT,
                env={**server_env(), **(env or {})},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            processes.append(process)
            ports.append(port)
        for port, process in zip(ports, processes, strict=True):
            wait_for_port(port, process)
        yield ports
    finally:
        stop_processes(processes, timeout=10)


@contextmanager
def uvicorn_processes(count: int):
    """Yield the ports of `count` uvicorn processes run with the documented options, sharing the
    test database and Redis."""
    processes, ports = [], []
    try:
        for _ in range(count):
            port = free_port()
            processes.append(start_uvicorn(port))
            ports.append(port)
        for port, process in zip(ports, processes, strict=True):
            wait_for_port(port, process)
        yield ports
    finally:
        stop_processes(processes, timeout=15)


def stop_processes(processes: list[subprocess.Popen], *, timeout: float) -> None:
    """SIGTERM every process, then wait up to `timeout` seconds for each before killing it."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
