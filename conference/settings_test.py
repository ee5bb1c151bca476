"""Test settings: the real settings with a non-UTC default time zone and fast hashing."""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("MEDVENUE_DATA_DIR", os.path.join(os.getcwd(), "var", "test"))


def _worker_own(worker: str) -> None:
    """`make test` runs the suite on two pytest-xdist workers. pytest-django gives each worker a
    test database of its own (`test_<name>_gw1`); this gives each its own data folder and Redis
    database as well (worker N uses the configured database number + N, modulo 16), in the
    environment, so the servers and workers a test starts use them too."""
    index = int(worker.removeprefix("gw") or 0)
    os.environ["MEDVENUE_DATA_DIR"] = os.path.join(os.environ["MEDVENUE_DATA_DIR"], worker)
    url = urlsplit(os.environ.get("REDIS_URL", ""))
    if index and url.scheme in ("redis", "rediss"):
        number = url.path.strip("/")
        database = (int(number) if number.isdigit() else 0) + index
        os.environ["REDIS_URL"] = urlunsplit(url._replace(path=f"/{database % 16}"))


if os.environ.get("PYTEST_XDIST_WORKER"):
    _worker_own(os.environ["PYTEST_XDIST_WORKER"])

from conference.settings import *  # noqa: F403, E402 (after the worker's environment above)
from conference.settings import DATABASES  # noqa: E402

# A non-UTC default catches naive datetimes and code that forgets the event's time zone.
TIME_ZONE = "Pacific/Auckland"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
# Close connections after each use: the consumers' database threads would otherwise keep theirs
# open past the end of the run, and PostgreSQL refuses to drop a test database still in use.
DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in-memory for speed
# No connection pool in the pytest process: tests open connections from many short-lived threads
# and hold them in test transactions. The servers and workers the tests start run
# conference.settings, pool included (tests/faults, tests/conference/test_db_pool.py).
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
