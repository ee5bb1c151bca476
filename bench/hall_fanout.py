"""Fan-out benchmark of the live hall: MedVenue on PostgreSQL + Redis against a bare server.

    .venv/bin/python bench/hall_fanout.py [--clients 1000] [--burst 200] [--paced-seconds 30]

In one run, on this machine:

1. starts MedVenue (one process per `--servers` entry: uvicorn with the README's production
   command, or daphne; PostgreSQL, Redis) and, separately, a bare `websockets` fan-out server
   with no Django (the ceiling);
2. connects N authenticated attendees to one hall of each (joins per second, memory per socket);
3. saturation: `--burst` questions sent at once by different attendees; deliveries per second
   until every attendee received every question (ratio MedVenue / ceiling);
4. paced: 10 questions per second for `--paced-seconds`; p50/p99 send-to-receive latency and
   whether anything was lost;
5. avatars (MedVenue only): 300 attendees move at 10 Hz; server CPU per tick, messages out per
   second, and the lag of deltas early vs late in the phase (growing lag = growing queues).

Figures are printed (with the machine's `uptime`); record them in docs/performance.md.
`--profile FILE` runs uvicorn under cProfile (slower; for where the CPU goes only).
"""

import argparse
import asyncio
import gc
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CLK_TCK = os.sysconf("SC_CLK_TCK")
BENCH_SECRET = "bench-secret-key-" + "x" * 40


# --- the bare ceiling server ------------------------------------------------------------------


async def bare_server(port: int) -> None:
    import websockets

    clients = set()
    seq = 0

    async def handler(ws):
        nonlocal seq
        clients.add(ws)
        try:
            await ws.send(json.dumps({"event": "hello", "data": {"seq": seq}}))
            await ws.send(json.dumps({"event": "presence.snapshot", "data": {"people": []}}))
            async for text in ws:
                request = json.loads(text)
                if request.get("action") == "qa.ask":
                    seq += 1
                    question = {"id": seq, "text": request["data"]["text"], "status": "approved"}
                    await ws.send(
                        json.dumps({"id": request["id"], "ok": True, "data": {"seq": seq}})
                    )
                    websockets.broadcast(
                        clients, json.dumps({"event": "qa.question", "seq": seq, "data": question})
                    )
                else:
                    await ws.send(json.dumps({"id": request.get("id"), "ok": True, "data": {}}))
        finally:
            clients.discard(ws)

    async with websockets.serve(handler, "127.0.0.1", port, compression=None, max_size=8192):
        await asyncio.Future()


# --- setting up MedVenue ----------------------------------------------------------------------


def server_env(database_url: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="conference.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=BENCH_SECRET,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        MEDVENUE_DATA_DIR=str(ROOT / "var" / "bench"),
        LOG_LEVEL="WARNING",
    )
    return env


def ensure_database(database_url: str) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[-1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare_platform(database_url: str, redis_url: str, clients: int) -> tuple[int, list[str]]:
    """Migrate, create a hall with a session on now and `clients` registered attendees;
    return the hall id and one session cookie per attendee."""
    env = server_env(database_url, redis_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    return _seed(clients)


def _seed(clients: int) -> tuple[int, list[str]]:
    import datetime as dt

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session as DjangoSession
    from django.utils import timezone

    from accounts.models import User
    from conference.models import Event, Organizer, Registration, Session
    from venues.models import Hall, Venue

    now = timezone.now()
    organizer, _ = Organizer.objects.get_or_create(slug="bench", defaults={"name": "Bench Society"})
    venue, _ = Venue.objects.get_or_create(slug="bench", defaults={"name": "Bench Venue"})
    hall, _ = Hall.objects.update_or_create(
        venue=venue,
        slug="bench-hall",
        defaults={"name": "Bench Hall", "capacity": 100000, "width_m": 60, "depth_m": 40},
    )
    event, _ = Event.objects.update_or_create(
        slug="bench-event",
        defaults={
            "organizer": organizer,
            "title": "Bench",
            "venue": venue,
            "is_published": True,
            "start_date": (now - dt.timedelta(days=1)).date(),
            "end_date": (now + dt.timedelta(days=1)).date(),
        },
    )
    Session.objects.update_or_create(
        event=event,
        title="Bench session",
        defaults={
            "hall": hall,
            "starts_at": now - dt.timedelta(minutes=5),
            "ends_at": now + dt.timedelta(hours=3),
        },
    )
    existing = User.objects.filter(email__startswith="bench").count()
    User.objects.bulk_create(
        User(email=f"bench{n}@bench.test", display_name=f"Bench {n}", password="!")
        for n in range(existing, clients)
    )
    users = list(User.objects.filter(email__startswith="bench").order_by("pk")[:clients])
    Registration.objects.bulk_create(
        [Registration(user=u, event=event) for u in users], ignore_conflicts=True
    )
    DjangoSession.objects.filter(session_key__startswith="bench").delete()
    cookies, rows = [], []
    for n, user in enumerate(users):
        store = SessionStore()
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        key = f"bench{n:06d}" + "k" * 20
        rows.append(
            DjangoSession(
                session_key=key,
                session_data=store.encode(data),
                expire_date=now + dt.timedelta(days=1),
            )
        )
        cookies.append(key)
    DjangoSession.objects.bulk_create(rows)
    return hall.pk, cookies


# --- measuring ----------------------------------------------------------------------------------


def uptime() -> str:
    """The machine's load (shared machine: recorded with every figure)."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Attendee:
    def __init__(self, ws, index: int):
        self.ws = ws
        self.index = index
        self.received: dict[int, float] = {}  # question number -> receive time
        self.frames = 0
        self.deltas: list[tuple[float, list]] = []
        self.replies: dict[str, asyncio.Future] = {}
        self.n = 0
        self.user_id = None

    async def run(self) -> None:
        async for text in self.ws:
            self.frames += 1
            now = time.perf_counter()
            if '"qa.question"' in text:
                question = json.loads(text)["data"]
                number = int(question["text"].split()[1])
                self.received.setdefault(number, now)
            elif '"presence.delta"' in text:
                self.deltas.append((now, json.loads(text)["data"]["moved"]))
            elif text.startswith('{"id"'):
                reply = json.loads(text)
                future = self.replies.pop(reply["id"], None)
                if future and not future.done():
                    future.set_result(reply)

    async def request(self, action: str, data: dict, *, wait: bool = True):
        self.n += 1
        rid = f"b{self.n}"
        future = asyncio.get_running_loop().create_future()
        self.replies[rid] = future
        await self.ws.send(json.dumps({"id": rid, "action": action, "data": data}))
        if wait:
            return await asyncio.wait_for(future, 30)
        return None


async def connect_all(port: int, hall_id: int, cookies: list[str]) -> tuple[list[Attendee], float]:
    import websockets

    limit = asyncio.Semaphore(50)

    async def connect(n: int, cookie: str) -> Attendee:
        async with limit:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/ws/halls/{hall_id}/",
                origin="http://127.0.0.1",
                additional_headers={"Cookie": f"sessionid={cookie}"},
                compression=None,
                max_size=None,
                open_timeout=60,
            )
            hello = json.loads(await ws.recv())
            await ws.recv()  # presence.snapshot
            attendee = Attendee(ws, n)
            attendee.user_id = hello["data"].get("user", {}).get("id")
            return attendee

    started = time.perf_counter()
    attendees = await asyncio.gather(*(connect(n, c) for n, c in enumerate(cookies)))
    elapsed = time.perf_counter() - started
    return list(attendees), elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def saturation(attendees: list[Attendee], burst: int, first: int) -> dict:
    """`burst` questions at once from different attendees; deliveries per second."""
    numbers = range(first, first + burst)
    started = time.perf_counter()
    sent_at = {}
    for offset, number in enumerate(numbers):
        sender = attendees[offset % len(attendees)]
        sent_at[number] = time.perf_counter()
        await sender.request("qa.ask", {"text": f"q {number} saturation"}, wait=False)
    expected = len(attendees) * burst
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        got = sum(1 for a in attendees for n in numbers if n in a.received)
        if got >= expected:
            break
        await asyncio.sleep(0.05)
    last = max(
        (a.received[n] for a in attendees for n in numbers if n in a.received), default=started
    )
    delivered = sum(1 for a in attendees for n in numbers if n in a.received)
    return {
        "deliveries": delivered,
        "expected": expected,
        "seconds": last - started,
        "per_second": delivered / max(last - started, 1e-9),
    }


async def paced(attendees: list[Attendee], seconds: float, rate: float, first: int) -> dict:
    count = int(seconds * rate)
    sent_at = {}
    started = time.perf_counter()
    for k in range(count):
        number = first + k
        target = started + k / rate
        await asyncio.sleep(max(0.0, target - time.perf_counter()))
        sender = attendees[(k * 7919) % len(attendees)]
        sent_at[number] = time.perf_counter()
        await sender.request("qa.ask", {"text": f"q {number} paced"}, wait=False)
    await asyncio.sleep(3)
    latencies, missing = [], 0
    for attendee in attendees:
        for number, sent in sent_at.items():
            got = attendee.received.get(number)
            if got is None:
                missing += 1
            else:
                latencies.append(got - sent)
    return {
        "events": count,
        "rate": rate,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "missing": missing,
    }


async def avatars(attendees: list[Attendee], pid: int, movers: int, seconds: float) -> dict:
    """`movers` attendees walk at 10 Hz; an observer measures how late their positions arrive."""
    observer = attendees[-1]
    moving = attendees[:movers]
    sent: dict[tuple[int, float], float] = {}
    frames_before = sum(a.frames for a in attendees)
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()

    async def walk(attendee: Attendee, lane: int) -> None:
        # walk slowly down a lane so that no move is speed-capped: each z is unique per mover
        x = float(lane % 50 - 25)
        tick = 0
        await asyncio.sleep(random.random() * 0.1)
        while time.perf_counter() - started < seconds:
            tick += 1
            z = round(15 - tick * 0.05, 2)
            sent[(attendee.user_id, z)] = time.perf_counter()
            await attendee.request("presence.move", {"x": x, "z": z}, wait=False)
            await asyncio.sleep(0.1)

    await asyncio.gather(*(walk(a, n) for n, a in enumerate(moving)))
    elapsed = time.perf_counter() - started
    await asyncio.sleep(1)
    cpu = cpu_seconds(pid) - cpu_before
    frames = sum(a.frames for a in attendees) - frames_before
    lags_early, lags_late = [], []
    for received, moved in observer.deltas:
        for entry in moved:
            key = (entry[0], round(entry[2], 2))
            if key in sent:
                lag = received - sent[key]
                offset = sent[key] - started
                if offset < seconds / 4:
                    lags_early.append(lag)
                elif offset > seconds * 3 / 4:
                    lags_late.append(lag)
    ticks = elapsed * 10
    return {
        "movers": movers,
        "seconds": elapsed,
        "server_cpu_ms_per_tick": cpu / ticks * 1000,
        "server_cpu_percent": cpu / elapsed * 100,
        "messages_out_per_s": frames / elapsed,
        "lag_p50_early_ms": percentile(lags_early, 0.5) * 1000 if lags_early else None,
        "lag_p50_late_ms": percentile(lags_late, 0.5) * 1000 if lags_late else None,
        "lag_p99_late_ms": percentile(lags_late, 0.99) * 1000 if lags_late else None,
    }


async def run_against(
    name: str, port: int, pid: int, hall_id: int, cookies: list[str], args
) -> dict:
    rss_before = rss_kib(pid)
    attendees, join_seconds = await connect_all(port, hall_id, cookies)
    rss_after = rss_kib(pid)
    readers = [asyncio.get_running_loop().create_task(a.run()) for a in attendees]
    await asyncio.sleep(2)
    result = {
        "joins_per_s": len(attendees) / join_seconds,
        "join_seconds": join_seconds,
        "kib_per_socket": (rss_after - rss_before) / len(attendees),
    }
    cpu_before = cpu_seconds(pid)
    result["saturation"] = await saturation(attendees, args.burst, first=1)
    result["saturation"]["server_cpu_us_per_delivery"] = (
        (cpu_seconds(pid) - cpu_before) / max(result["saturation"]["deliveries"], 1) * 1e6
    )
    result["paced"] = await paced(attendees, args.paced_seconds, args.rate, first=100000)
    if name == "medvenue" and args.movers:
        result["avatars"] = await avatars(attendees, pid, args.movers, args.avatar_seconds)
    for attendee in attendees:
        await attendee.ws.close()
    for reader in readers:
        reader.cancel()
    return result


# The README's production command (docs/operations.md), without the proxy options.
DOCUMENTED_OPTIONS = [
    "--ws",
    "websockets-sansio",
    "--ws-per-message-deflate",
    "false",
    "--ws-max-size",
    "16384",
    "--no-access-log",
    "--timeout-graceful-shutdown",
    "10",
]

# uvicorn's command line under cProfile: the statistics are written when the server returns
# (after SIGTERM and its graceful shutdown, uvicorn raises the signal again: exit instead).
PROFILED = """
import cProfile, signal, sys
from uvicorn.main import main
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
profile = cProfile.Profile()
profile.enable()
try:
    main(sys.argv[2:], standalone_mode=False)
finally:
    profile.disable()
    profile.dump_stats(sys.argv[1])
"""


def uvicorn_command(port: int, profile: str | None = None) -> list[str]:
    """uvicorn as in production (README), optionally under cProfile writing to `profile`."""
    python = (
        [sys.executable, "-c", PROFILED, profile] if profile else [sys.executable, "-m", "uvicorn"]
    )
    return [
        *python,
        "conference.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *DOCUMENTED_OPTIONS,
        "--log-level",
        "warning",
    ]


SERVERS = {
    "daphne": lambda port, profile=None: [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "conference.asgi:application",
    ],
    "uvicorn": uvicorn_command,
}


def start(cmd: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


def report(name: str, result: dict) -> None:
    s, p = result["saturation"], result["paced"]
    print(f"\n== {name}")
    print(
        f"joins: {result['joins_per_s']:.0f}/s ({result['join_seconds']:.1f} s for all), "
        f"{result['kib_per_socket']:.0f} KiB RSS per socket"
    )
    print(
        f"saturation: {s['deliveries']}/{s['expected']} deliveries in {s['seconds']:.2f} s = "
        f"{s['per_second']:.0f} deliveries/s, {s['server_cpu_us_per_delivery']:.0f} us server CPU each"
    )
    print(
        f"paced {p['rate']:.0f} events/s x {p['events']}: p50 {p['p50_ms']:.0f} ms, "
        f"p99 {p['p99_ms']:.0f} ms, missing {p['missing']}"
    )
    if "avatars" in result:
        a = result["avatars"]
        print(
            f"avatars: {a['movers']} moving at 10 Hz for {a['seconds']:.0f} s: server "
            f"{a['server_cpu_ms_per_tick']:.1f} ms CPU per tick ({a['server_cpu_percent']:.0f}% of a core), "
            f"{a['messages_out_per_s']:.0f} messages/s out, delta lag p50 early "
            f"{a['lag_p50_early_ms']} ms / late {a['lag_p50_late_ms']} ms, p99 late {a['lag_p99_late_ms']} ms"
        )


async def main_async(args, hall_id: int, cookies: list[str]) -> None:
    import socket

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    env = server_env(args.database_url, args.redis_url)

    results = {}
    for server in args.servers.split(","):
        port = free_port()
        medvenue = start(SERVERS[server](port, args.profile), env, port)
        try:
            results[server] = await run_against(
                "medvenue", port, medvenue.pid, hall_id, cookies, args
            )
        finally:
            medvenue.terminate()
            medvenue.wait(10)

    port = free_port()
    bare = start([sys.executable, __file__, "--bare-server", str(port)], env, port)
    try:
        ceiling = await run_against("bare", port, bare.pid, hall_id, cookies, args)
    finally:
        bare.terminate()
        bare.wait(10)

    for server, ours in results.items():
        report(f"MedVenue on {server} (PostgreSQL, Redis)", ours)
    report("bare websockets fan-out (ceiling)", ceiling)
    print()
    for server, ours in results.items():
        ours["ratio"] = ours["saturation"]["per_second"] / ceiling["saturation"]["per_second"]
        print(
            f"{server}: deliveries/s ratio MedVenue / ceiling {ours['ratio']:.2f} (target >= 0.25); "
            f"paced p99 {ours['paced']['p99_ms']:.0f} ms (target < 250); "
            f"missing {ours['paced']['missing']} (target 0); "
            f"joins {ours['joins_per_s']:.0f}/s (target >= 100)"
        )
    print(
        json.dumps(
            {"clients": args.clients, "medvenue": results, "ceiling": ceiling}, default=float
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument(
        "--servers",
        default="daphne",
        help="comma-separated ASGI servers to measure: daphne,uvicorn",
    )
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--paced-seconds", type=float, default=30.0)
    parser.add_argument("--movers", type=int, default=300)
    parser.add_argument("--avatar-seconds", type=float, default=20.0)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medvenue_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    )
    parser.add_argument(
        "--profile", help="run uvicorn under cProfile, writing its statistics to this file"
    )
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        asyncio.run(bare_server(args.bare_server))
        return
    ensure_database(args.database_url)
    hall_id, cookies = prepare_platform(args.database_url, args.redis_url, args.clients)
    # The client holds thousands of sockets too: keep its own GC pauses out of the latencies.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    print(f"machine before: {uptime()}")
    asyncio.run(main_async(args, hall_id, cookies))
    print(f"machine after: {uptime()}")


if __name__ == "__main__":
    main()
