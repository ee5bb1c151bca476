"""Two server processes sharing PostgreSQL and Redis act as one venue."""

import asyncio
import contextlib
import json
import time

import pytest
import websockets
from channels.db import database_sync_to_async

from conference.live.ratelimit import ABUSE_REFUSALS
from tests.live.conftest import session_cookie
from tests.live.servers import daphne_processes, uvicorn_processes

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


class RealClient:
    def __init__(self, ws):
        self.ws = ws
        self.n = 0
        self.frames: list[dict] = []

    async def request(self, action, data=None):
        self.n += 1
        rid = f"r{self.n}"
        await self.ws.send(json.dumps({"id": rid, "action": action, "data": data or {}}))
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), 20))
            if frame.get("id") == rid:
                return frame
            self.frames.append(frame)

    async def wait_for(self, predicate, timeout=20.0):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for frame in self.frames:
                if predicate(frame):
                    self.frames.remove(frame)
                    return frame
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no matching frame; got {self.frames}")
            self.frames.append(json.loads(await asyncio.wait_for(self.ws.recv(), remaining)))


async def open_client(port, user, hall_id) -> RealClient:
    cookie = await database_sync_to_async(session_cookie)(user)
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/halls/{hall_id}/",
        origin="http://127.0.0.1",
        additional_headers={"Cookie": f"sessionid={cookie}"},
    )
    return RealClient(ws)


def positions(delta: dict) -> dict[int, tuple]:
    """Where a delta puts people. Within one tick an arrival and a move are one `joined` entry
    with the latest position, so a move can come in either list."""
    found = {p["id"]: (p["x"], p["z"], p["yaw"]) for p in delta["joined"]}
    found.update({entry[0]: tuple(entry[1:]) for entry in delta["moved"]})
    return found


def is_event(name):
    return lambda frame: frame.get("event") == name


async def test_attendees_on_different_processes_share_one_hall(hall_setup):
    hall_id = hall_setup["hall"].pk
    with daphne_processes(2) as (port_a, port_b):
        alice = await open_client(port_a, hall_setup["alice"], hall_id)
        await alice.wait_for(is_event("hello"))
        bob = await open_client(port_b, hall_setup["bob"], hall_id)
        await bob.wait_for(is_event("hello"))
        snapshot = await bob.wait_for(is_event("presence.snapshot"))
        assert {p["id"] for p in snapshot["data"]["people"]} == {
            hall_setup["alice"].pk,
            hall_setup["bob"].pk,
        }

        await alice.request("presence.move", {"x": 1.0, "z": 8.0})
        moved = await bob.wait_for(
            lambda f: (
                f.get("event") == "presence.delta"
                and positions(f["data"]).get(hall_setup["alice"].pk) == (1.0, 8.0, 0.0)
            )
        )
        assert moved["data"]["left"] == []  # nobody left

        asked = await alice.request("qa.ask", {"text": "Across processes?"})
        question = await bob.wait_for(is_event("qa.question"))
        assert question["data"]["id"] == asked["data"]["question"]["id"]
        assert question["seq"] == asked["data"]["seq"]

        await bob.request("qa.vote", {"question": question["data"]["id"]})
        updated = await alice.wait_for(is_event("qa.updated"))
        assert updated["data"]["votes"] == 1

        await bob.request("chat.send", {"text": "hello from B"})
        chat = await alice.wait_for(is_event("chat.message"))
        assert chat["data"]["text"] == "hello from B"

        await bob.ws.close()
        left = await alice.wait_for(
            lambda f: (
                f.get("event") == "presence.delta" and hall_setup["bob"].pk in f["data"]["left"]
            )
        )
        assert left["data"]["left"] == [hall_setup["bob"].pk]
        await alice.ws.close()


async def closing_frames(client: RealClient) -> tuple[dict, int]:
    """The `error` push a socket gets before the server closes it, and the close code."""
    error = await client.wait_for(is_event("error"))
    with contextlib.suppress(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(client.ws.recv(), 20)
    return error, client.ws.close_code


async def test_limits_and_abuse_are_per_user_across_processes(hall_setup):
    """One user with a socket on each of two processes (the production command) shares one
    write bucket and one count of refused requests; the 30th refusal closes both sockets with
    4008 and either process refuses a new socket of that user while other users carry on."""
    hall_id = hall_setup["hall"].pk
    alice = hall_setup["alice"]
    with uvicorn_processes(2) as (port_a, port_b):
        tabs = [await open_client(port, alice, hall_id) for port in (port_a, port_b)]
        for tab in tabs:
            await tab.wait_for(is_event("hello"))
        started = time.monotonic()
        codes = []
        for n in range(10):
            reply = await tabs[n % 2].request("chat.send", {"text": f"message {n}"})
            codes.append(reply["ok"] or reply["error"]["code"])
        elapsed = time.monotonic() - started
        accepted = codes.count(True)
        # a burst of 5 per user, then one every 2 s, whichever process the socket is on
        assert 5 <= accepted <= 5 + int(elapsed / 2) + 1, (codes, elapsed)
        assert codes[:5] == [True] * 5
        assert "rate_limited" in codes

        # refused requests (the rate-limited ones above count too) alternating between processes
        for n in range(ABUSE_REFUSALS):
            frame = {"id": f"x{n}", "action": "no.such.action"}
            with contextlib.suppress(websockets.ConnectionClosed):
                await tabs[n % 2].ws.send(json.dumps(frame))
        for tab in tabs:
            error, code = await closing_frames(tab)
            assert error["data"]["code"] == "abuse"
            assert 0 < error["data"]["retry_after"] <= 60
            assert code == 4008

        for port in (port_a, port_b):  # backing off, on every process
            again = await open_client(port, alice, hall_id)
            error, code = await closing_frames(again)
            assert (error["data"]["code"], code) == ("abuse", 4008)
            assert error["data"]["retry_after"] > 0
        bob = await open_client(port_b, hall_setup["bob"], hall_id)
        await bob.wait_for(is_event("hello"))
        assert (await bob.request("chat.send", {"text": "still here"}))["ok"] is True
        await bob.ws.close()
