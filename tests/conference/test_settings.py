"""Production settings, checked the way an operator starts the platform: a fresh process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_VARIABLES = {
    "MEDVENUE_PRODUCTION",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    # Set by the browser tests' fixtures in this process; a deployment never has it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def production_env(**overrides) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    env = {
        **base,
        "MEDVENUE_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "medvenue.example",
        "DATABASE_URL": "postgres://u@db/medvenue",
        "REDIS_URL": "redis://redis:6379/0",
        **overrides,
    }
    return {key: value for key, value in env.items() if value is not None}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_production_settings_passes():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_embedded_default_warns():
    env = production_env(MEDVENUE_PRODUCTION=None, DATABASE_URL=None, REDIS_URL=None)
    env["MEDVENUE_DATA_DIR"] = str(ROOT / "var" / "test")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 1
    assert "security.W004" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set when MEDVENUE_PRODUCTION=1"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set when MEDVENUE_PRODUCTION=1"),
        ({"REDIS_URL": None}, "REDIS_URL must be set when MEDVENUE_PRODUCTION=1"),
        ({"DEBUG": "1"}, "DEBUG must be off when MEDVENUE_PRODUCTION=1"),
        ({"MEDVENUE_PRODUCTION": "maybe"}, "MEDVENUE_PRODUCTION must be a boolean"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL must use one of the schemes"),
    ],
)
def test_production_settings_missing_or_bad_value_fails_clearly(overrides, message):
    result = manage("check", env=production_env(**overrides))

    assert result.returncode == 1
    assert "django.core.exceptions.ImproperlyConfigured: " + message in result.stderr


def test_production_settings_are_hardened():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS, "
        "s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
        "s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_BROKER_URL]))"
    )
    env = {**production_env(), "DJANGO_SETTINGS_MODULE": "conference.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip().splitlines()[-1] == (
        '[false, true, true, true, 31536000, ["medvenue.example"], '
        '"django.db.backends.postgresql", "django.core.cache.backends.redis.RedisCache", '
        '"channels_redis.core.RedisChannelLayer", "redis://redis:6379/0"]'
    )


def _database_settings(**overrides) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(json.dumps({k: d[k] for k in "
        "('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'DISABLE_SERVER_SIDE_CURSORS', 'OPTIONS')}))"
    )
    env = {**production_env(**overrides), "DJANGO_SETTINGS_MODULE": "conference.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_database_connections_are_pooled_and_bounded():
    database = _database_settings()

    assert database == {
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
        "DISABLE_SERVER_SIDE_CURSORS": False,
        "OPTIONS": {
            "connect_timeout": 5,
            "pool": {
                "min_size": 2,
                "max_size": 10,
                "timeout": 10,
                "max_idle": 300,
                "reconnect_timeout": 5,
            },
        },
    }


def test_database_pool_size_and_timeout_come_from_the_environment():
    database = _database_settings(
        DATABASE_POOL_SIZE="4",
        DATABASE_POOL_TIMEOUT="3",
        DATABASE_CONN_MAX_AGE="600",
        DATABASE_DISABLE_SERVER_SIDE_CURSORS="1",
    )

    assert database["OPTIONS"]["pool"] == {
        "min_size": 2,
        "max_size": 4,
        "timeout": 3,
        "max_idle": 300,
        "reconnect_timeout": 5,
    }
    assert database["CONN_MAX_AGE"] == 0  # the pool returns connections, whatever the variable
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_database_pool_off_keeps_connections_per_conn_max_age():
    database = _database_settings(DATABASE_POOL_SIZE="0", DATABASE_CONN_MAX_AGE="60")

    assert "pool" not in database["OPTIONS"]
    assert database["CONN_MAX_AGE"] == 60
