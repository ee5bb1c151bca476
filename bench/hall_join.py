"""Join benchmark of the live hall: N registered attendees joining one hall at once.

    .venv/bin/python bench/hall_join.py [--clients 1000] [--concurrency 100] [--servers 1]
                                        [--profile FILE]

In one run, on this machine:

1. prepares PostgreSQL (`--database-url`) and Redis (`--redis-url`): a hall with a session on
   now and N registered attendees, each with a login session;
2. starts `--servers` uvicorn processes (default 1; the production topology runs several behind
   a load balancer) with the README's production command (without the proxy options):
   `--ws websockets-sansio --ws-per-message-deflate false --ws-max-size 16384
   --no-access-log --timeout-graceful-shutdown 10`;
3. opens one warm-up socket per process (its hub subscription, imports, caches), then connects
   the N attendees through the real endpoint (origin check, session authentication, access
   check, attendance `join`, presence, `hello` and `presence.snapshot`), at most
   `--concurrency` handshakes in flight, to the processes in turn (attendee k to process
   k mod `--servers`, as a round-robin load balancer sends them);
4. prints joins per second, the time for all N, the servers' CPU per join (all processes
   together), their memory per socket (RSS of all processes after all joined minus before,
   divided by N; measured again after the sockets settled) and the ratios to the targets (N joins in < 5 s, <= 40 KiB per socket), with the
   machine's `uptime` before and after (the machine is shared: record the load with the figure).

`--profile FILE` runs the server under cProfile and writes its statistics to FILE when it
exits (the figures are then slower; use them only for where the CPU goes). Record the figures
in docs/performance.md.
"""

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from hall_fanout import (  # noqa: E402  (bench/ is on the path, as for every bench)
    cpu_seconds,
    ensure_database,
    prepare_platform,
    rss_kib,
    server_env,
    uptime,
    uvicorn_command,
)

TARGET_SECONDS_PER_1000 = 5.0
TARGET_KIB_PER_SOCKET = 40.0


def start(cmd: list[str], env: dict, port: int) -> subprocess.Popen:
    import socket

    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


async def open_socket(port: int, hall_id: int, cookie: str):
    """One attendee's socket, returned once `hello` and `presence.snapshot` arrived."""
    import websockets

    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/halls/{hall_id}/",
        origin="http://127.0.0.1",
        additional_headers={"Cookie": f"sessionid={cookie}"},
        compression=None,
        max_size=None,
        open_timeout=120,
    )
    hello = json.loads(await ws.recv())
    if hello.get("event") != "hello":
        raise RuntimeError(f"first frame is not hello: {hello}")
    snapshot = json.loads(await ws.recv())
    if snapshot.get("event") != "presence.snapshot":
        raise RuntimeError(f"second frame is not presence.snapshot: {snapshot}")
    return ws


async def drain(ws) -> None:
    """Read (and drop) what the server pushes, as a browser would, so no buffer grows."""
    try:
        async for _frame in ws:
            pass
    except Exception:  # the bench closes the sockets at the end
        pass


async def measure(
    args, ports: list[int], pids: list[int], hall_id: int, cookies: list[str]
) -> dict:
    """Join the attendees through the servers in turn, as a round-robin load balancer would."""
    warm = [
        await open_socket(port, hall_id, cookie)
        for port, cookie in zip(ports, cookies, strict=False)
    ]
    readers = [asyncio.get_running_loop().create_task(drain(ws)) for ws in warm]
    await asyncio.sleep(1)
    rss_before = sum(rss_kib(pid) for pid in pids)
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    limit = asyncio.Semaphore(args.concurrency)
    latencies: list[float] = []

    async def join(port: int, cookie: str):
        async with limit:
            started = time.perf_counter()
            ws = await open_socket(port, hall_id, cookie)
            latencies.append(time.perf_counter() - started)
            readers.append(asyncio.get_running_loop().create_task(drain(ws)))
            return ws

    joining = cookies[len(ports) :]
    client_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    sockets = await asyncio.gather(
        *(join(ports[n % len(ports)], cookie) for n, cookie in enumerate(joining))
    )
    seconds = time.perf_counter() - started
    client_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    rss_joined = sum(rss_kib(pid) for pid in pids)
    await asyncio.sleep(3)  # presence deltas of the arrivals are sent; queues settle
    rss_settled = sum(rss_kib(pid) for pid in pids)
    count = len(sockets)
    latencies.sort()
    result = {
        "servers": len(ports),
        "joins": count,
        "seconds": seconds,
        "joins_per_s": count / seconds,
        "seconds_per_1000": seconds * 1000 / count,
        "server_cpu_ms_per_join": cpu / count * 1000,
        "client_cpu_ms_per_join": (
            (client_after.ru_utime + client_after.ru_stime)
            - (client_before.ru_utime + client_before.ru_stime)
        )
        / count
        * 1000,
        "join_latency_p50_ms": latencies[len(latencies) // 2] * 1000,
        "join_latency_p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "kib_per_socket_joined": (rss_joined - rss_before) / count,
        "kib_per_socket_settled": (rss_settled - rss_before) / count,
    }
    for ws in (*warm, *sockets):
        await ws.close()
    for reader in readers:
        reader.cancel()
    return result


async def main_async(args, hall_id: int, cookies: list[str]) -> dict:
    import socket

    ports = []
    for _ in range(args.servers):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    env = server_env(args.database_url, args.redis_url)
    servers = []
    try:
        for n, port in enumerate(ports):
            profile = f"{args.profile}.{n}" if args.profile and args.servers > 1 else args.profile
            servers.append(start(uvicorn_command(port, profile), env, port))
        return await measure(args, ports, [server.pid for server in servers], hall_id, cookies)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000, help="attendees joining")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="web processes (the production topology runs several); attendees are spread over "
        "them in turn, as a round-robin load balancer would",
    )
    parser.add_argument(
        "--profile",
        help="write the server's cProfile statistics here (FILE.0, FILE.1 ... with --servers > 1)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medvenue_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    )
    args = parser.parse_args()
    ensure_database(args.database_url)
    # one more attendee per server than measured: the warm-up sockets
    hall_id, cookies = prepare_platform(
        args.database_url, args.redis_url, args.clients + args.servers
    )
    import redis

    client = redis.Redis.from_url(args.redis_url)
    for key in client.scan_iter("medvenue:presence:*"):  # people left over from an earlier run
        client.delete(key)
    client.close()
    gc.collect()
    gc.freeze()
    load_before = uptime()
    result = asyncio.run(main_async(args, hall_id, cookies))
    load_after = uptime()
    result["uptime_before"], result["uptime_after"] = load_before, load_after
    print(f"machine before: {load_before}")
    print(f"{args.servers} web process(es), attendees spread over them in turn")
    print(
        f"{result['joins']} joins in {result['seconds']:.2f} s = {result['joins_per_s']:.0f} joins/s "
        f"({result['seconds_per_1000']:.2f} s per 1000; target < {TARGET_SECONDS_PER_1000:.0f} s, "
        f"ratio {result['seconds_per_1000'] / TARGET_SECONDS_PER_1000:.2f})"
    )
    print(
        f"join latency p50 {result['join_latency_p50_ms']:.0f} ms, "
        f"p99 {result['join_latency_p99_ms']:.0f} ms ({args.concurrency} in flight)"
    )
    print(
        f"server CPU {result['server_cpu_ms_per_join']:.2f} ms per join (all processes), "
        f"bench client CPU {result['client_cpu_ms_per_join']:.2f} ms per join"
    )
    print(
        f"server memory (all processes) {result['kib_per_socket_joined']:.1f} KiB per socket "
        "when joined, "
        f"{result['kib_per_socket_settled']:.1f} KiB after 3 s (target <= "
        f"{TARGET_KIB_PER_SOCKET:.0f}, ratio "
        f"{result['kib_per_socket_settled'] / TARGET_KIB_PER_SOCKET:.2f})"
    )
    print(f"machine after: {load_after}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
