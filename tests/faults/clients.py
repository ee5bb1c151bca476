"""Hall clients for the fault suite, written from docs/protocol.md: they log in with a session
cookie, reconnect after a close as the close code says (1012: a random 0–5 s; `retry_after` of
the last `error` push; else jittered exponential back-off), and follow the documented client
algorithm for the feed — `contiguous` and `ahead`, `feed.skip` placeholders, a `feed.resume` from
`contiguous` after every later `hello` and whenever a gap stays open for 1 s.

They count what the suite asserts: the feed items each client applied, pushes delivered twice on
one socket, frames before `hello`, and the asks of the askers (with idempotency keys, retried
with the same key until answered)."""

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import websockets
from websockets.asyncio.client import connect

from tests.faults import harness

GAP_WAIT_SECONDS = 1.0


@dataclass
class Ask:
    key: str
    text: str
    attempts: int = 0
    replies: list = field(default_factory=list)  # ("ok", seq, duplicate) or ("error", code)
    done: bool = False


class HallClient:
    def __init__(self, index: int, user_id: int, cookie: str, hall_id: int, ports: list[int]):
        self.index = index
        self.user_id = user_id
        self.cookie = cookie
        self.hall_id = hall_id
        self.ports = ports  # alive ports are tried in the order of preference
        self.preferred = ports[index % len(ports)]
        # feed state (docs/protocol.md, "Client algorithm")
        self.joined_seq: int | None = None
        self.contiguous: int | None = None
        self.ahead: dict[int, dict] = {}
        self.applied: dict[int, dict] = {}  # seq -> applied item (not placeholders)
        self.applied_twice = 0
        self.skips = 0
        # per socket and overall counters
        self.ws = None
        self.hello_event = asyncio.Event()
        self.connections = 0
        self.hellos = 0
        self.connect_failures = 0
        self.close_codes: Counter = Counter()
        self.live_duplicates = 0
        self.before_hello = 0
        self.resumes = 0
        self.resumed_items = 0
        self.last_retry_after: float | None = None
        self._socket_seqs: set[int] = set()
        self._requests: dict[str, asyncio.Future] = {}
        self._n = 0
        self._failures_in_a_row = 0
        self._gap_task: asyncio.Task | None = None
        self._resume_task: asyncio.Task | None = None
        self._resuming = asyncio.Lock()
        self.stopping = False
        self.asks: list[Ask] = []
        self.task: asyncio.Task | None = None

    # --- connection ---------------------------------------------------------------------------

    def url(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}/ws/halls/{self.hall_id}/"

    async def run(self) -> None:
        while not self.stopping:
            order = [self.preferred] + [p for p in self.ports if p != self.preferred]
            ws = None
            for port in order:
                try:
                    ws = await connect(
                        self.url(port),
                        origin="https://127.0.0.1",
                        additional_headers={
                            "Cookie": f"sessionid={self.cookie}",
                            **harness.FORWARDED,
                        },
                        open_timeout=10,
                        max_size=2**22,
                    )
                    break
                except (OSError, TimeoutError, websockets.InvalidHandshake):
                    self.connect_failures += 1
            if ws is None:
                await asyncio.sleep(self._backoff())
                continue
            self.connections += 1
            self.last_retry_after = None
            try:
                await self._read(ws)
            except websockets.ConnectionClosed:
                pass
            finally:
                self.ws = None
                self.hello_event.clear()
                for future in self._requests.values():
                    if not future.done():
                        future.set_exception(ConnectionError("socket closed"))
                self._requests.clear()
            code = ws.close_code if ws.close_code is not None else 1006
            self.close_codes[code] += 1
            if self.stopping:
                return
            await asyncio.sleep(self._delay_after(code))

    def _backoff(self) -> float:
        self._failures_in_a_row += 1
        base = min(30.0, 0.5 * 2 ** (self._failures_in_a_row - 1))
        return base * random.uniform(0.5, 1.5)

    def _delay_after(self, code: int) -> float:
        if self.last_retry_after is not None:
            return self.last_retry_after
        if code == 1012:
            return random.uniform(0, 5)
        return self._backoff()

    async def _read(self, ws) -> None:
        self._socket_seqs = set()
        first = True
        async for raw in ws:
            frame = json.loads(raw)
            if first and frame.get("event") not in ("hello", "error"):
                self.before_hello += 1
            first = False
            if frame.get("id") is not None and ("ok" in frame):
                future = self._requests.pop(frame["id"], None)
                if future is not None and not future.done():
                    future.set_result(frame)
                continue
            event = frame.get("event")
            if event == "hello":
                self._on_hello(ws, frame)
            elif event == "error":
                retry = frame.get("data", {}).get("retry_after")
                if isinstance(retry, int | float):
                    self.last_retry_after = float(retry)
            elif "seq" in frame:
                if not self.hello_event.is_set():
                    self.before_hello += 1
                if frame["seq"] in self._socket_seqs:
                    self.live_duplicates += 1
                self._socket_seqs.add(frame["seq"])
                self._feed(frame)

    def _on_hello(self, ws, frame: dict) -> None:
        self.ws = ws
        self.hellos += 1
        self._failures_in_a_row = 0
        seq = frame["data"]["seq"]
        if self.contiguous is None:
            self.joined_seq = self.contiguous = seq
        else:
            self._resume_task = asyncio.ensure_future(self.resume())
        self.hello_event.set()

    # --- the feed -------------------------------------------------------------------------------

    def _feed(self, frame: dict) -> None:
        seq = frame["seq"]
        if self.contiguous is None or seq <= self.contiguous or seq in self.ahead:
            return
        self.ahead[seq] = frame
        while self.contiguous + 1 in self.ahead:
            item = self.ahead.pop(self.contiguous + 1)
            self.contiguous = item["seq"]
            if item["event"] == "feed.skip":
                self.skips += 1
            elif item["seq"] in self.applied:
                self.applied_twice += 1
            else:
                self.applied[item["seq"]] = item
        if self.ahead and (self._gap_task is None or self._gap_task.done()):
            self._gap_task = asyncio.ensure_future(self._close_gap())

    async def _close_gap(self) -> None:
        await asyncio.sleep(GAP_WAIT_SECONDS)
        if self.ahead:
            await self.resume()

    async def resume(self) -> None:
        async with self._resuming:
            self.resumes += 1
            while self.ws is not None:
                try:
                    reply = await self.request("feed.resume", {"since": self.contiguous}, 20)
                except (ConnectionError, TimeoutError, websockets.ConnectionClosed):
                    return
                if not reply.get("ok"):
                    return
                for item in reply["data"]["items"]:
                    self.resumed_items += 1
                    self._feed(item)
                if not reply["data"]["more"]:
                    return

    # --- requests -------------------------------------------------------------------------------

    async def request(self, action: str, data: dict, timeout: float) -> dict:
        ws = self.ws
        if ws is None:
            raise ConnectionError("not connected")
        self._n += 1
        request_id = f"c{self.index}-{self._n}"
        future = asyncio.get_running_loop().create_future()
        self._requests[request_id] = future
        await ws.send(json.dumps({"id": request_id, "action": action, "data": data}))
        return await asyncio.wait_for(future, timeout)

    async def ask(self, text: str) -> Ask:
        """Ask once, retrying with the same key until the server answers ok (or 30 tries)."""
        ask = Ask(key=uuid.uuid4().hex, text=text)
        self.asks.append(ask)
        while ask.attempts < 30 and not self.stopping:
            ask.attempts += 1
            try:
                await asyncio.wait_for(self.hello_event.wait(), 60)
                reply = await self.request("qa.ask", {"text": text, "key": ask.key}, 15)
            except (ConnectionError, TimeoutError, websockets.ConnectionClosed):
                ask.replies.append(("lost",))
                await asyncio.sleep(random.uniform(0.5, 1.5))
                continue
            if reply.get("ok"):
                ask.replies.append(("ok", reply["data"]["seq"], reply["data"].get("duplicate")))
                ask.done = True
                return ask
            error = reply.get("error", {})
            ask.replies.append(("error", error.get("code"), error.get("message", "")))
            retry = error.get("retry_after")
            await asyncio.sleep(retry if isinstance(retry, int | float) else random.uniform(1, 2))
        return ask


async def start_clients(clients: list[HallClient], timeout: float = 120) -> float:
    """Connect the clients in batches; seconds until every one had its `hello`."""
    started = time.monotonic()
    for start in range(0, len(clients), 25):
        batch = clients[start : start + 25]
        for client in batch:
            client.task = asyncio.ensure_future(client.run())
        await asyncio.wait_for(
            asyncio.gather(*(c.hello_event.wait() for c in batch)), timeout=timeout
        )
    return time.monotonic() - started


async def stop_clients(clients: list[HallClient]) -> None:
    for client in clients:
        client.stopping = True
        if client.ws is not None:
            await client.ws.close()
    for client in clients:
        if client.task is not None:
            client.task.cancel()
    await asyncio.gather(*(c.task for c in clients if c.task), return_exceptions=True)


async def ask_questions(askers: list[HallClient], interval: float, stop: asyncio.Event) -> None:
    """Each asker asks a question every `interval` seconds (jittered) until `stop`."""

    async def loop(client: HallClient):
        n = 0
        await asyncio.sleep(random.uniform(0, interval))
        while not stop.is_set():
            n += 1
            await client.ask(f"Question {n} from client {client.index}: what is the NNT?")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), random.uniform(0.8, 1.2) * interval)

    await asyncio.gather(*(loop(client) for client in askers))
