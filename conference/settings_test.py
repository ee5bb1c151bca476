"""Test settings: the real settings with a non-UTC default time zone and fast hashing."""

import os

os.environ.setdefault("MEDVENUE_DATA_DIR", os.path.join(os.getcwd(), "var", "test"))

from conference.settings import *  # noqa: F403
from conference.settings import DATABASES

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
