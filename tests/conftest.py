"""Shared fixtures, and the rule for tests that need a real service.

Tests marked `postgres`, `redis` or `browser` run against the real thing. Without it they are
skipped with the reason on a newcomer's machine; under CI (`CI=true` or
`MEDVENUE_REQUIRE_SERVICES=1`) a missing service fails them instead.
"""

import os
import shutil
import socket
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.factories import PASSWORD, UserFactory
from tests.support import fast_flush

fast_flush.install()

REQUIRE_SERVICES = (
    os.environ.get("CI", "").lower() == "true" or os.environ.get("MEDVENUE_REQUIRE_SERVICES") == "1"
)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def _missing_service(marker: str) -> str | None:
    """Why the service behind `marker` is unavailable, or None when it is there."""
    if marker == "postgres":
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            return "needs PostgreSQL: set DATABASE_URL=postgres://..."
        return None
    if marker == "redis":
        url = settings.REDIS_URL
        if not url:
            return "needs Redis: set REDIS_URL=redis://..."
        if not _reachable(url, 6379):
            return f"Redis at {url} is unreachable"
        return None
    if marker == "janus":
        from tests.support.media import janus_available

        if not janus_available():
            return "needs the Janus WebRTC server (apt-get install janus)"
        return None
    if marker == "browser":
        if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
            return "needs Debian's chromium (apt-get install -y chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "needs the playwright Python package"
        return None
    if marker == "faults":
        return _missing_fault_service()
    return None


def _missing_fault_service() -> str | None:
    """The fault suite starts its own redis-server and uses RabbitMQ (a virtual host of its own)."""
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    for program in ("redis-server", "rabbitmqctl"):
        if not shutil.which(program):
            return f"needs {program} on PATH"
    rabbitmq = os.environ.get("MEDVENUE_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")
    if not _reachable(rabbitmq, 5672):
        return f"RabbitMQ at {urlsplit(rabbitmq).hostname}:{urlsplit(rabbitmq).port} is unreachable"
    return None


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "browser", "faults", "janus"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing_service(marker)
        if reason is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"required service missing under CI: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def logged_in_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def janus(settings):
    """A real Janus of the test's own, and the settings pointing at it."""
    from tests.support.media import janus_server

    with janus_server() as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        yield server


@pytest.fixture
def media_root(settings, tmp_path):
    """MEDIA_ROOT in the test's own folder (certificates, uploads)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def recordings_root(settings, tmp_path):
    """RECORDINGS_ROOT as an empty folder of the test's own."""
    root = tmp_path / "recordings"
    root.mkdir()
    settings.RECORDINGS_ROOT = root
    return root


@pytest.fixture
def restore_default_app():
    """For tests that create Celery apps of their own: the project's app is current again after."""
    from conference.celery import app as project_app

    yield
    project_app.set_current()
    project_app.set_default()


@pytest.fixture
def sent_tasks(monkeypatch):
    """Tasks the code sends through the project's Celery app, recorded instead of reaching the
    broker (a test with real transactions would otherwise leave their messages in the shared
    Redis). Apps a test creates itself still send for real. Items: (task name, args, kwargs)."""
    from celery import Celery
    from celery.result import AsyncResult

    from conference.celery import app as project_app

    sent: list[tuple[str, tuple, dict]] = []
    real_send_task = Celery.send_task

    def send_task(self, name, args=None, kwargs=None, **options):
        if self is not project_app:
            return real_send_task(self, name, args, kwargs, **options)
        sent.append((name, tuple(args or ()), dict(kwargs or {})))
        return AsyncResult(options.get("task_id") or uuid.uuid4().hex, app=self)

    monkeypatch.setattr(Celery, "send_task", send_task)
    return sent
