"""One production web process (the README's command) on PostgreSQL with its connection pool:
readiness with hundreds of sockets open, the connection bound after thousands of probes and
logins, and 503 + Retry-After while the database refuses connections."""

import asyncio
import json
import os
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import websockets

from tests.faults import harness
from tests.faults.conftest import LOGIN_PASSWORD, make_hall

pytestmark = [pytest.mark.django_db(transaction=True)]

SOCKETS = int(os.environ.get("FAULTS_BOUNDS_SOCKETS", "200"))
PROBES = int(os.environ.get("FAULTS_PROBES", "2000"))
# CI sizes; the full run (docs/operations.md): FAULTS_PROBES=10000 FAULTS_LOGINS=1000. Each
# production login costs a PBKDF2 hash (~0.2 s of CPU).
LOGINS = int(os.environ.get("FAULTS_LOGINS", "30"))
POOL_SIZE = 10


class ConnectionSampler(threading.Thread):
    """The most connections the process held at any sample (every 0.2 s)."""

    def __init__(self, application_name: str):
        super().__init__(daemon=True)
        self.application_name = application_name
        self.peak = 0
        self.samples = 0
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            held = harness.connections_by_application(self.application_name)
            self.peak = max(self.peak, sum(held.values()))
            self.samples += 1
            self._done.wait(0.2)

    def stop(self) -> int:
        self._done.set()
        self.join(5)
        return self.peak


async def open_sockets(port: int, hall, count: int) -> list:
    async def one(user):
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/halls/{hall.hall.pk}/",
            origin="https://127.0.0.1",
            additional_headers={
                "Cookie": f"sessionid={hall.cookies[user.pk]}",
                **harness.FORWARDED,
            },
            max_size=2**20,
            open_timeout=30,
        )
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame.get("event") == "hello":
                return ws

    sockets = []
    for start in range(0, count, 50):
        batch = hall.users[start : min(start + 50, count)]
        sockets += await asyncio.gather(*(one(user) for user in batch))
    return sockets


async def drain(sockets):
    """Read and drop pushes so the server never blocks on a full socket."""

    async def read(ws):
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass

    return [asyncio.create_task(read(ws)) for ws in sockets]


def probe_many(port: int, path: str, count: int, threads: int = 8, failed=None) -> Counter:
    """`count` GETs of `path` on `threads` keep-alive connections; the statuses. The checks of
    the answers that were not 200 are counted in `failed` ("database:Timeout": n)."""
    per_thread = [count // threads + (i < count % threads) for i in range(threads)]
    failed = Counter() if failed is None else failed

    def run(n):
        client = harness.HttpClient(port)
        statuses = Counter()
        try:
            for _ in range(n):
                status, _, body = client.request("GET", path)
                statuses[status] += 1
                if status != 200:  # what failed, for the report
                    checks = json.loads(body).get("checks", {})
                    failed.update(
                        f"{name}:{result.get('error')}"
                        for name, result in checks.items()
                        if not result.get("ok")
                    )
        finally:
            client.close()
        return statuses

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(run, per_thread), Counter())


def login_many(port: int, users, threads: int = 10) -> Counter:
    def run(user):
        client = harness.HttpClient(port, timeout=120)
        try:
            return client.login(user.email, LOGIN_PASSWORD)
        finally:
            client.close()

    with ThreadPoolExecutor(threads) as pool:
        return Counter(pool.map(run, users))


def timed(function, *args):
    started = time.monotonic()
    return function(*args), time.monotonic() - started


def timed_get(port: int, path: str) -> tuple[int, dict, dict | bytes, float]:
    started = time.monotonic()
    status, headers, body = harness.get(port, path)
    elapsed = time.monotonic() - started
    if headers.get("content-type", "").startswith("application/json"):
        body = json.loads(body)
    return status, headers, body, elapsed


async def keep_asking(sockets, stop: asyncio.Event) -> None:
    """Database work on the live layer's threads: `qa.list` from each socket every 0.2 s."""

    async def one(ws, n=0):
        while not stop.is_set():
            n += 1
            try:
                await ws.send(json.dumps({"id": f"l{n}", "action": "qa.list", "data": {}}))
            except websockets.ConnectionClosed:
                return
            await asyncio.sleep(0.2)

    await asyncio.gather(*(one(ws) for ws in sockets))


async def start_load(sockets):
    stop = asyncio.Event()
    return stop, asyncio.ensure_future(keep_asking(sockets, stop))


async def stop_load(stop, task):
    stop.set()
    await task


async def close_all(sockets, readers):
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()


def test_readiness_pool_bound_and_database_outage(tmp_path, redis_server, broker_url, static_root):
    hall = make_hall(max(SOCKETS, LOGINS))
    name = f"bounds-{harness.new_secret()}"
    env = harness.production_env(
        name=name,
        redis_url=redis_server.url,
        broker_url=broker_url,
        data_dir=tmp_path,
        STATIC_ROOT=str(static_root),
    )
    loop = harness.BackgroundLoop()
    web = harness.WebProcess("web", harness.free_port(), env, tmp_path / "web.log")
    web.start()
    figures = {}
    try:
        # Readiness with hundreds of sockets open: 200, fast, naming every check.
        started = time.monotonic()
        sockets = loop.run(open_sockets(web.port, hall, SOCKETS))
        figures["sockets"] = len(sockets)
        figures["join_seconds"] = round(time.monotonic() - started, 1)
        readers = loop.run(drain(sockets))
        probes = [timed_get(web.port, "/healthz/ready") for _ in range(20)]
        assert [(s, b["status"]) for s, _, b, _ in probes] == [(200, "ok")] * 20, probes[-1]
        assert set(probes[0][2]["checks"]) == {"database", "cache", "channel_layer"}
        figures["ready_ms_median_with_sockets"] = round(
            statistics.median(t for *_, t in probes) * 1000, 1
        )
        full = timed_get(web.port, "/healthz")
        assert (full[0], full[2]["status"]) == (200, "ok"), full[2]
        assert full[2]["checks"]["broker"]["ok"] is True

        # Thousands of probes and logins at the same time: never more connections than the pool.
        sampler = ConnectionSampler(name)
        sampler.start()
        with ThreadPoolExecutor(2) as both:
            failed = Counter()
            probing = both.submit(timed, probe_many, web.port, "/healthz/ready", PROBES, 8, failed)
            logging_in = both.submit(timed, login_many, web.port, hall.users[:LOGINS])
            statuses, probe_seconds = probing.result()
            logins, login_seconds = logging_in.result()
        figures["probes_per_second"] = round(PROBES / probe_seconds)
        figures["logins_per_second"] = round(LOGINS / login_seconds, 1)
        peak = sampler.stop()
        held_after = sum(harness.connections_by_application(name).values())
        figures.update(
            failed_checks=dict(failed),
            probes=PROBES,
            logins=LOGINS,
            peak_connections=peak,
            connection_samples=sampler.samples,
            held_after=held_after,
        )
        assert statuses == Counter({200: PROBES})
        assert logins == Counter({302: LOGINS})  # the form redirects after a login
        assert 1 <= peak <= POOL_SIZE
        assert held_after <= POOL_SIZE

        # The database refuses connections: pages and API 503 + Retry-After, readiness names
        # it, liveness stays 200; then everything recovers without a restart.
        # Sockets keep the live layer's database threads busy (each call waits for the pool):
        # the HTTP answers must not wait behind them.
        load = loop.run(start_load(sockets[:40]))
        with harness.database_refusing():
            time.sleep(1)
            page = timed_get(web.port, "/")
            api = timed_get(web.port, "/api/events/")
            ready = timed_get(web.port, "/healthz/ready")
            live = timed_get(web.port, "/healthz/live")
        loop.run(stop_load(*load))
        figures["outage_page_seconds"] = round(page[3], 2)
        figures["outage_ready_seconds"] = round(ready[3], 2)
        assert (page[0], page[1].get("retry-after")) == (503, "15")
        assert page[3] < 15  # DATABASE_POOL_TIMEOUT (10 s), not the length of the outage
        assert b"Briefly unavailable" in page[2]
        assert (api[0], api[1].get("retry-after"), api[2]["code"]) == (503, "15", "unavailable")
        assert (ready[0], ready[2]["down"]) == (503, ["database"])
        assert ready[3] < 5  # the 3 s check timeout, plus the request on a busy machine
        assert live[0] == 200
        unblocked = time.monotonic()
        recovered = harness.wait_for(
            lambda: harness.get(web.port, "/")[0] == 200,
            30,
            0.2,
            "pages answer again after the outage",
        )
        figures["outage_pages_back_seconds"] = round(time.monotonic() - unblocked, 1)
        assert recovered
        assert figures["outage_pages_back_seconds"] < 5
        assert (timed_get(web.port, "/healthz/ready"))[0] == 200
        loop.run(close_all(sockets, readers))
    finally:
        print(f"\nfault suite, one process: {json.dumps(figures)}")
        web.stop()
        loop.stop()
