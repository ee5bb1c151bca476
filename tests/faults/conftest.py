"""Fixtures of the fault suite: a hall with a live session and many registered attendees, their
sessions, static files for production settings, and the services the processes run on."""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.sessions.backends.db import SessionStore

from tests.factories import HallFactory
from tests.faults import harness
from tests.support.stage_world import registered, session_on_now

# Production settings hash with PBKDF2 (the test settings use MD5); one hash for every login user.
LOGIN_PASSWORD = "fault-suite-password"


# collectstatic of the run, started as soon as fault tests are collected (it overlaps with the
# test database's creation and the first test's setup).
_collectstatic: dict = {}


def pytest_collection_modifyitems(items):
    # A fault test runs a whole scenario (servers, workers, hundreds of clients): 30 minutes
    # instead of the suite's default timeout (pyproject.toml).
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.timeout(1800), append=False)


def pytest_collection_finish(session):
    if not any("tests/faults/" in str(item.fspath) for item in session.items):
        return
    root = Path(tempfile.mkdtemp(prefix="medvenue-faults-static-"))
    env = harness.production_env(
        name="faults-collectstatic",
        redis_url="redis://127.0.0.1:1/0",
        broker_url="memory://",
        data_dir=root,
        STATIC_ROOT=str(root / "static"),
    )
    log = root / "collectstatic.log"
    _collectstatic.update(root=root, log=log, process=harness.start_collectstatic(env, log))


def pytest_sessionfinish(session):
    process = _collectstatic.get("process")
    if process is not None:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        shutil.rmtree(_collectstatic["root"], ignore_errors=True)


@pytest.fixture(scope="session")
def static_root() -> Path:
    """Static files collected once for the run (production settings need the manifest)."""
    process = _collectstatic["process"]
    if process.wait(300) != 0:
        raise AssertionError(f"collectstatic failed: {_collectstatic['log'].read_text()[-3000:]}")
    return _collectstatic["root"] / "static"


@pytest.fixture
def redis_server(tmp_path):
    server = harness.RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def broker_url():
    """A RabbitMQ virtual host for the run (rabbitmqctl takes seconds per call)."""
    with harness.rabbitmq_vhost() as url:
        yield url


@dataclass
class Hall:
    event: object
    hall: object
    session: object
    users: list
    cookies: dict  # user id -> session key


def session_key(user) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def make_hall(count: int) -> Hall:
    """A published event whose hall has a session on now (no Q&A moderation) and `count`
    registered attendees, each with a logged-in session and the password LOGIN_PASSWORD."""
    event, hall, session = session_on_now(
        left=120, hall=HallFactory(capacity=max(500, count + 50)), qa_moderation_required=False
    )
    # A salt of full entropy: a weak one makes every login hash twice (Django rehashes it).
    hasher = PBKDF2PasswordHasher()
    encoded = hasher.encode(LOGIN_PASSWORD, hasher.salt())
    users = [registered(event) for _ in range(count)]
    type(users[0]).objects.filter(pk__in=[u.pk for u in users]).update(password=encoded)
    for user in users:
        user.password = encoded
    cookies = {user.pk: session_key(user) for user in users}
    return Hall(event, hall, session, users, cookies)
