"""Two daphne processes sharing PostgreSQL and Redis act as one venue."""

import asyncio
import json

import pytest
import websockets
from channels.db import database_sync_to_async

from tests.live.conftest import session_cookie
from tests.live.servers import daphne_processes

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
