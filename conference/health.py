"""Health endpoints for load balancers and process managers.

- `/healthz/live` (liveness): the process and its event loop answer. No service is contacted, so
  a database or Redis outage never gets a healthy process restarted.
- `/healthz/ready` (readiness): the services every request needs answer — the database, the
  cache and the channel layer (Redis). A load balancer sends traffic only to ready processes.
- `/healthz` (diagnostics): the readiness checks plus the Celery broker.

Each check talks to the real service with a short timeout. Probes that arrive while the checks
are running share that run's result (one run per process at a time, whatever the probe rate). A failure becomes `{"ok": false,
"error": "<exception class>"}` — never a 500, never a URL or password — and the answer is 503
with `"down"` naming what failed.

The channel-layer check receives on a channel of the layer's default `specific.` kind: the layer
reads every such channel of this process through one shared Redis list, so while a websocket
consumer waits on its own channel, that waiting reader hands the check's message over. (A channel
of another prefix lives in a list nobody reads while a consumer holds the layer's receive lock,
so the check used to time out whenever a socket was open.)
"""

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from conference.celery import app

CHECK_TIMEOUT_SECONDS = 3.0
# Blocking checks run here, not in the event loop's default executor: a hung client library
# then holds one of these threads, never the loop's shutdown or the next request.
_BLOCKING_CHECKS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


class CheckFailed(Exception):
    """A service answered, but not what it should have."""


def check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                raise CheckFailed("SELECT 1 returned something else")
    finally:
        # Back to the pool at once (with a pool, closing returns the connection).
        connection.close()


def check_cache() -> None:
    key = f"healthz:{secrets.token_hex(8)}"
    value = secrets.token_hex(8)
    cache.set(key, value, timeout=30)
    try:
        if cache.get(key) != value:
            raise CheckFailed("the cache did not return what was stored")
    finally:
        cache.delete(key)


async def check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise CheckFailed("no channel layer is configured")
    channel = await layer.new_channel()
    message = {"type": "healthz.ping", "token": secrets.token_hex(8)}
    await layer.send(channel, message)
    if await layer.receive(channel) != message:
        raise CheckFailed("the channel layer returned another message")


def check_broker() -> None:
    with app.connection_for_write(settings.CELERY_BROKER_URL) as broker:
        broker.ensure_connection(
            max_retries=1,
            interval_start=0,
            interval_step=0,
            timeout=CHECK_TIMEOUT_SECONDS,  # type: ignore[arg-type]  # kombu takes seconds as a float
        )


async def _run(check: Callable[[], Awaitable[None]]) -> dict:
    started = time.monotonic()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check()
    except TimeoutError:
        return {"ok": False, "error": "Timeout"}
    except Exception as error:  # every failure is a failed check, not a 500
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _in_thread(check: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    return sync_to_async(check, thread_sensitive=False, executor=_BLOCKING_CHECKS)


def _checks(*, broker: bool) -> dict[str, Callable[[], Awaitable[None]]]:
    checks = {
        "database": _in_thread(check_database),
        "cache": _in_thread(check_cache),
        "channel_layer": check_channel_layer,
    }
    if broker:
        checks["broker"] = _in_thread(check_broker)
    return checks


async def _run_all(broker: bool) -> dict[str, dict]:
    checks = _checks(broker=broker)
    results = await asyncio.gather(*(_run(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))


# The run of the checks in flight, per event loop and kind: probes that arrive meanwhile share
# its result, so a burst of probes (several balancers, a monitoring system) costs one run.
_in_flight: dict[tuple[int, bool], asyncio.Task] = {}


async def run_checks(*, broker: bool = True) -> dict[str, dict]:
    """Run the checks, or join the run already in flight (it started at most
    CHECK_TIMEOUT_SECONDS ago)."""
    key = (id(asyncio.get_running_loop()), broker)
    task = _in_flight.get(key)
    if task is None:
        task = asyncio.get_running_loop().create_task(_run_all(broker))
        _in_flight[key] = task
        task.add_done_callback(lambda done: _in_flight.pop(key, None))
    # Shielded: one probe giving up (its client went away) does not cancel the others' run.
    return await asyncio.shield(task)


async def _answer(*, broker: bool) -> JsonResponse:
    checks = await run_checks(broker=broker)
    down = sorted(name for name, result in checks.items() if not result["ok"])
    body: dict[str, Any] = {"status": "degraded" if down else "ok", "checks": checks}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)


@never_cache
async def healthz(request):
    """Diagnostics: every service, the Celery broker included."""
    return await _answer(broker=True)


@never_cache
async def healthz_ready(request):
    """Readiness: the services a request needs (not the broker: tasks wait for it)."""
    return await _answer(broker=False)


@never_cache
async def healthz_live(request):
    """Liveness: the event loop answers; no service is contacted."""
    return JsonResponse({"status": "ok"})
