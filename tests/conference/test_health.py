"""`/healthz` against real services: the embedded ones, Redis, and a stopped service (a closed
port, nothing mocked)."""

import asyncio
import json
import socket
import time

import pytest
from django.conf import settings
from django.test import override_settings

CLOSED_REDIS = "redis://127.0.0.1:1/0"
CHECKS = ["broker", "cache", "channel_layer", "database"]


def _health(client):
    response = client.get("/healthz")
    return response.status_code, json.loads(response.content)


def _redis_settings(url: str) -> dict:
    return {
        "CACHES": {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        },
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [url], "prefix": "medvenue-test:asgi"},
            }
        },
        "CELERY_BROKER_URL": url,
    }


def _summary(body: dict) -> dict:
    return {name: result["ok"] for name, result in body["checks"].items()}


@pytest.mark.django_db
def test_healthz_embedded_services_up_returns_200(client):
    status, body = _health(client)

    assert status == 200
    assert body["status"] == "ok"
    assert _summary(body) == dict.fromkeys(CHECKS, True)
    assert "down" not in body
    assert all(isinstance(result["ms"], float) for result in body["checks"].values())


@pytest.mark.django_db
def test_healthz_cache_stopped_returns_503_naming_cache(client):
    with override_settings(CACHES=_redis_settings(CLOSED_REDIS)["CACHES"]):
        status, body = _health(client)

    assert status == 503
    assert body["status"] == "degraded"
    assert body["down"] == ["cache"]
    assert body["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}
    assert _summary(body) == {**dict.fromkeys(CHECKS, True), "cache": False}


@pytest.mark.django_db
def test_healthz_channel_layer_stopped_returns_503_naming_channel_layer(client):
    with override_settings(CHANNEL_LAYERS=_redis_settings(CLOSED_REDIS)["CHANNEL_LAYERS"]):
        status, body = _health(client)

    assert status == 503
    assert body["down"] == ["channel_layer"]
    assert body["checks"]["channel_layer"] == {"ok": False, "error": "ConnectionError"}


@pytest.mark.django_db
def test_healthz_broker_stopped_returns_503_naming_broker(client):
    with override_settings(CELERY_BROKER_URL=CLOSED_REDIS):
        status, body = _health(client)

    assert status == 503
    assert body["down"] == ["broker"]
    assert body["checks"]["broker"] == {"ok": False, "error": "OperationalError"}


@pytest.mark.django_db
def test_healthz_everything_stopped_names_all_but_database(client):
    with override_settings(**_redis_settings(CLOSED_REDIS)):
        status, body = _health(client)

    assert status == 503
    assert body["down"] == ["broker", "cache", "channel_layer"]
    assert body["checks"]["database"]["ok"] is True


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers, like a hung server."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.mark.django_db
def test_healthz_hanging_cache_times_out_as_503(client, silent_port):
    hanging = _redis_settings(f"redis://127.0.0.1:{silent_port}/0")["CACHES"]
    started = time.monotonic()
    with override_settings(CACHES=hanging):
        status, body = _health(client)

    assert time.monotonic() - started < 6
    assert status == 503
    assert body["down"] == ["cache"]
    assert body["checks"]["cache"] == {"ok": False, "error": "Timeout"}


@pytest.mark.django_db
def test_healthz_failure_output_has_no_secrets(client):
    url = "redis://:hunter2-secret@127.0.0.1:1/0"
    with override_settings(**_redis_settings(url)):
        response = client.get("/healthz")

    assert response.status_code == 503
    text = response.content.decode()
    assert "hunter2" not in text
    assert "127.0.0.1" not in text
    assert "redis://" not in text


@pytest.mark.django_db
def test_healthz_sends_no_cache_headers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    assert response["Content-Type"] == "application/json"


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_redis_services_up_returns_200(client):
    with override_settings(**_redis_settings(settings.REDIS_URL)):
        status, body = _health(client)

    assert status == 200
    assert _summary(body) == dict.fromkeys(CHECKS, True)


@pytest.mark.postgres
@pytest.mark.django_db
def test_healthz_postgres_database_up_returns_200(client):
    status, body = _health(client)

    assert status == 200
    assert body["checks"]["database"]["ok"] is True


# --- liveness and readiness -----------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_live_answers_without_contacting_any_service(client):
    with override_settings(**_redis_settings(CLOSED_REDIS)):
        response = client.get("/healthz/live")

    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_ready_checks_what_requests_need_not_the_broker(client):
    with override_settings(CELERY_BROKER_URL=CLOSED_REDIS):
        response = client.get("/healthz/ready")

    body = json.loads(response.content)
    assert response.status_code == 200
    assert _summary(body) == {"database": True, "cache": True, "channel_layer": True}


@pytest.mark.django_db
def test_healthz_ready_names_the_failing_dependency(client):
    with override_settings(CACHES=_redis_settings(CLOSED_REDIS)["CACHES"]):
        response = client.get("/healthz/ready")

    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["down"] == ["cache"]
    assert body["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}


@pytest.mark.redis
async def test_channel_layer_check_passes_while_a_consumer_waits_on_its_channel(settings):
    """A websocket consumer holds the layer's receive lock while it waits on its own channel;
    the check's message must still arrive (it timed out whenever a socket was open)."""
    from channels.layers import channel_layers

    from conference.health import check_channel_layer

    settings.CHANNEL_LAYERS = _redis_settings(settings.REDIS_URL)["CHANNEL_LAYERS"]
    channel_layers.backends.clear()
    layer = channel_layers["default"]
    consumer_channel = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(consumer_channel))
    try:
        await asyncio.wait_for(_receive_lock_held(layer), 3)  # the consumer now receives
        started = time.monotonic()
        await asyncio.wait_for(check_channel_layer(), 3)
        elapsed = time.monotonic() - started
        await layer.send(consumer_channel, {"type": "still.served"})
        assert await asyncio.wait_for(waiting, 3) == {"type": "still.served"}
    finally:
        waiting.cancel()
        await layer.flush()
        channel_layers.backends.clear()
    assert elapsed < 1


async def _receive_lock_held(layer) -> None:
    """Until a receive on `layer` holds its receive lock (channels_redis takes it in receive)."""
    while layer.receive_lock is None or not layer.receive_lock.locked():
        await asyncio.sleep(0.01)


@pytest.mark.django_db(transaction=True)
async def test_concurrent_probes_share_one_run_of_the_checks(monkeypatch):
    """Twenty probes at once run the checks once; the next probe runs them again."""
    from conference import health

    runs = []
    real = health.check_cache

    def counted():
        runs.append(time.monotonic())
        time.sleep(0.2)  # a slow cache: every probe below arrives while this run is in flight
        real()

    monkeypatch.setattr(health, "check_cache", counted)
    answers = await asyncio.gather(*(health.run_checks(broker=False) for _ in range(20)))
    assert len(runs) == 1
    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["cache"]["ok"] is True
    await health.run_checks(broker=False)
    assert len(runs) == 2
    assert health._in_flight == {}
