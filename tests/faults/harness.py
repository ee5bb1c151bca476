"""The fault suite's processes: its own redis-server, uvicorn processes started with the
README's production command, Celery workers on a RabbitMQ virtual host of their own, a switch
that makes the test database refuse connections, and plain HTTP helpers.

Every server talks to the pytest-django test database of this run (its own database), with
`application_name` set per process so `pg_stat_activity` counts each process's connections.
"""

import http.client
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
RABBITMQ_URL = os.environ.get("MEDVENUE_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")
# What a test sets beyond the production variables, and why (docs/operations.md, "Fault suite"):
# plain HTTP on loopback stands in for the proxy, which sends X-Forwarded-Proto: https.
FORWARDED = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something true; its value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s")
        time.sleep(interval)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


# --- the documented production command ----------------------------------------------------------


def documented_uvicorn_command(port: int, proxy: str = "127.0.0.1") -> list[str]:
    """The web command of the README's "Production" section, for `port` behind `proxy`."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```\n\s*(uvicorn conference\.asgi:application .*?)```", readme, re.S)
    if block is None:
        raise AssertionError("README: no production uvicorn command found")
    command = block.group(1).replace("\\\n", " ")
    assert "800N" in command and "<proxy address>" in command, command
    command = command.replace("800N", str(port)).replace("<proxy address>", proxy)
    words = shlex.split(command)
    return [str(BIN / "uvicorn"), *words[1:]]


# --- PostgreSQL ----------------------------------------------------------------------------------


def database_name() -> str:
    return connection.settings_dict["NAME"]


def _admin_conninfo() -> str:
    conf = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        host=conf.get("HOST") or "127.0.0.1",
        port=conf.get("PORT") or 5432,
        user=conf.get("USER") or "postgres",
        password=conf.get("PASSWORD") or None,
        dbname="postgres",
    )


def admin_query(sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def database_url(application_name: str) -> str:
    conf = connection.settings_dict
    user = conf.get("USER") or "postgres"
    password = f":{urllib.parse.quote(conf['PASSWORD'])}" if conf.get("PASSWORD") else ""
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or 5432
    return (
        f"postgres://{user}{password}@{host}:{port}/{database_name()}"
        f"?application_name={application_name}"
    )


def connections_by_application(prefix: str) -> dict[str, int]:
    """Connections to the test database per `application_name` starting with `prefix`."""
    rows = admin_query(
        "SELECT application_name, count(*) FROM pg_stat_activity"
        " WHERE datname = %s AND application_name LIKE %s GROUP BY application_name",
        (database_name(), prefix + "%"),
    )
    return dict(rows)


@contextmanager
def database_refusing() -> Iterator[None]:
    """The test database refuses new connections and loses its open ones for the block."""
    name = database_name()
    connection.close()
    admin_query(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        admin_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        yield
    finally:
        admin_query(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        connection.close()


# --- Redis ---------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A `redis-server` of the test's own on a free port, without persistence."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: port_open(self.port), 10, what="redis-server listening")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


# --- RabbitMQ ------------------------------------------------------------------------------------


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of this run (nobody else's queues); yields its broker URL."""
    name = f"medvenue-faults-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", name)
    try:
        user = urllib.parse.urlsplit(RABBITMQ_URL).username or "guest"
        rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        yield f"{RABBITMQ_URL}/{name}"
    finally:
        rabbitmqctl("delete_vhost", name)


# --- application processes ----------------------------------------------------------------------


def production_env(
    *, name: str, redis_url: str, broker_url: str, data_dir: Path, **extra: str
) -> dict[str, str]:
    """The production settings a process of the suite runs with (MEDVENUE_PRODUCTION=1)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_", "DATABASE_", "CELERY_"))
        and key not in {"REDIS_URL", "MEDVENUE_DATA_DIR", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="conference.settings",
        MEDVENUE_PRODUCTION="1",
        SECRET_KEY=settings.SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url(name),
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=broker_url,
        MEDVENUE_DATA_DIR=str(data_dir),
        MEDIA_ROOT=str(data_dir / "media"),
        STATIC_ROOT=str(data_dir / "static"),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def start_collectstatic(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """`collectstatic` in the background (it compresses every file: tens of seconds)."""
    log = open(log_path, "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@dataclass
class WebProcess:
    """One uvicorn process started with the README's production command."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.launch()
        self.wait_started()

    def launch(self) -> None:
        """Start the process without waiting (several start at once: see `start_all`)."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            documented_uvicorn_command(self.port),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def started(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
        return port_open(self.port) and get(self.port, "/healthz/live")[0] == 200

    def wait_started(self) -> None:
        wait_for(self.started, 60, 0.2, what=f"{self.name} answering")

    @property
    def pid(self) -> int:
        return self.process.pid

    def terminate(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@dataclass
class Worker:
    """A Celery worker (prefork, one pool process) on the `default` queue."""

    name: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.launch()
        self.wait_started()

    def launch(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            [
                *(str(BIN / "celery"), "-A", "conference", "worker", "-l", "info"),
                *("-Q", "default", "-n", f"{self.name}@%h", "-c", "1"),
                *("--without-gossip", "--without-mingle"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def started(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited: {self.log_path.read_text()[-3000:]}")
        return "ready." in self.log_path.read_text(errors="replace")

    def wait_started(self) -> None:
        wait_for(self.started, 60, 0.2, what=f"worker {self.name} ready")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once (a lost machine)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_all(processes) -> None:
    """Start web processes and workers at once and wait until each answers (their imports and
    Django's start-up overlap instead of adding up)."""
    for process in processes:
        process.launch()
    wait_for(
        lambda: all(process.started() for process in processes),
        90,
        0.2,
        what="every process started",
    )


def stop_all(processes) -> None:
    """Stop every process, each whatever happened to the others."""
    errors = []
    for process in processes:
        try:
            process.stop()
        except Exception as error:  # the others are still stopped; the first error is raised
            errors.append(error)
    if errors:
        raise errors[0]


class BackgroundLoop:
    """An asyncio event loop in a thread of its own: websocket clients stay connected while the
    test's own thread does blocking work (HTTP probes, database switches, signals)."""

    def __init__(self):
        import asyncio
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float | None = None):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# --- HTTP ----------------------------------------------------------------------------------------


class HttpClient:
    """A keep-alive HTTP/1.1 client for one server, as the proxy would forward to it."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        sent = {"Host": f"127.0.0.1:{self.port}", **FORWARDED, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
            try:
                self._conn.request(method, path, body=body, headers=sent)
                response = self._conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
                continue
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def login(self, email: str, password: str) -> int:
        """Log in through the real form (GET for the CSRF token, then POST); the status."""
        status, _, page = self.request("GET", "/accounts/login/")
        assert status == 200, status
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.decode(), "username": email, "password": password}
        ).encode()
        origin = f"https://127.0.0.1:{self.port}"
        status, _, _ = self.request(
            "POST",
            "/accounts/login/",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": origin,
                "Referer": f"{origin}/accounts/login/",
            },
        )
        return status


def get(port: int, path: str, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    client = HttpClient(port, timeout)
    try:
        return client.request("GET", path)
    finally:
        client.close()


def new_secret() -> str:
    return secrets.token_hex(8)
