"""Celery: reliability settings, and a real worker consuming a real task from a real broker."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from conference.celery import app as project_app
from conference.celery import create_app
from conference.services import enqueue
from conference.tasks import read_heartbeat, record_heartbeat

ROOT = Path(__file__).resolve().parents[2]


def _conf_in_subprocess(**env) -> dict:
    """The Celery settings a fresh process builds from `env` (no broker is contacted)."""
    code = (
        "import json, django; django.setup(); from conference.celery import app; c = app.conf; "
        "print(json.dumps({k: c[k] for k in ('broker_url', 'broker_transport_options', "
        "'task_time_limit', 'task_soft_time_limit')}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "conference.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _consume_heartbeat(celery_app) -> tuple[str, dict | None]:
    """Run a real worker on `celery_app`, send it a heartbeat, wait for its effect."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    token = uuid.uuid4().hex
    with start_worker(
        celery_app,
        perform_ping_check=False,
        queues=[queue],
        hostname=f"{queue}@medvenue-test",
        shutdown_timeout=20,
    ):
        celery_app.tasks[record_heartbeat.name].apply_async(args=[token], queue=queue)
        deadline = time.monotonic() + 20
        while read_heartbeat(token) is None and time.monotonic() < deadline:
            time.sleep(0.1)
    return token, read_heartbeat(token)


def test_celery_app_reliability_settings_in_place():
    conf = project_app.conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit == settings.CELERY_LONGEST_TASK_SECONDS
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.broker_connection_retry_on_startup is True


def test_celery_redis_broker_visibility_timeout_exceeds_longest_task():
    conf = _conf_in_subprocess(REDIS_URL="redis://127.0.0.1:1/0", CELERY_LONGEST_TASK_SECONDS="900")

    assert conf["broker_url"] == "redis://127.0.0.1:1/0"
    assert conf["task_time_limit"] == 900
    assert conf["task_soft_time_limit"] == 870
    assert conf["broker_transport_options"] == {"visibility_timeout": 1800}


def test_celery_rabbitmq_broker_confirms_publishing_and_has_no_visibility_timeout():
    conf = _conf_in_subprocess(
        REDIS_URL="redis://127.0.0.1:1/0", CELERY_BROKER_URL="amqp://u:p@127.0.0.1:1/medvenue"
    )

    assert conf["broker_url"] == "amqp://u:p@127.0.0.1:1/medvenue"
    assert conf["broker_transport_options"] == {"confirm_publish": True}


def test_celery_embedded_default_uses_filesystem_broker_in_data_dir(tmp_path):
    conf = _conf_in_subprocess(MEDVENUE_DATA_DIR=str(tmp_path))

    broker = tmp_path / "broker"
    assert conf["broker_url"] == "filesystem://"
    assert conf["broker_transport_options"] == {
        "data_folder_in": str(broker / "queue"),
        "data_folder_out": str(broker / "queue"),
        "processed_folder": str(broker / "processed"),
        "control_folder": str(broker / "control"),
        "store_processed": False,
    }
    assert sorted(path.name for path in broker.iterdir()) == ["control", "processed", "queue"]


def test_record_heartbeat_run_twice_leaves_one_entry():
    record_heartbeat.apply(args=["same-token"])
    first = read_heartbeat("same-token")
    record_heartbeat.apply(args=["same-token"])

    assert first["token"] == "same-token"
    assert read_heartbeat("same-token")["token"] == "same-token"


def test_worker_filesystem_broker_consumes_task(tmp_path, restore_default_app):
    celery_app = create_app(broker_url="filesystem://", broker_dir=tmp_path)

    token, entry = _consume_heartbeat(celery_app)

    assert entry is not None, "the worker did not run the task within 20 s"
    assert entry["token"] == token
    assert entry["worker"] != ""
    assert list((tmp_path / "queue").iterdir()) == []


@pytest.mark.redis
def test_worker_redis_broker_consumes_task(restore_default_app):
    celery_app = create_app(broker_url=settings.REDIS_URL)
    assert celery_app.conf.broker_url.startswith("redis")

    token, entry = _consume_heartbeat(celery_app)

    assert entry is not None, "the worker did not run the task within 20 s"
    assert entry["token"] == token


def test_task_names_services_send_are_registered_by_a_worker():
    """Services send tasks by name (`services.enqueue`); a worker loading the project's task
    modules registers every one of those names, and beat's schedule names only known tasks."""
    celery_app = create_app(broker_url="memory://")
    celery_app.loader.import_default_modules()
    names = {value for key, value in vars(enqueue).items() if key.isupper()}

    assert names - set(celery_app.tasks) == set()
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert scheduled - set(celery_app.tasks) == set()
