"""A client that vanishes while the server still answers it: its attendance `join` gets its
`leave` all the same (docs/protocol.md, "Attendance").

uvicorn raises ClientDisconnected when the application sends to a connection already lost, and
ends the application's task without a word; the consumer must undo its join whatever ends it."""

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async

from conference.models import AttendanceEvent
from tests.live.servers import uvicorn_process
from tests.live.test_two_processes import is_event, open_client

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def kinds() -> list[str]:
    return sorted(AttendanceEvent.objects.values_list("kind", flat=True))


async def test_a_client_gone_while_replies_are_due_still_gets_its_leave(hall_setup):
    with uvicorn_process() as (port, _process):
        client = await open_client(port, hall_setup["alice"], hall_setup["hall"].pk)
        await client.wait_for(is_event("hello"))
        assert await database_sync_to_async(kinds)() == ["join"]
        # Requests whose replies are due, then the connection is cut without a close frame.
        for n in range(20):
            await client.ws.send(json.dumps({"id": f"q{n}", "action": "qa.list", "data": {}}))
        client.ws.transport.abort()
        deadline = time.monotonic() + 15
        while await database_sync_to_async(kinds)() != ["join", "leave"]:
            assert time.monotonic() < deadline, await database_sync_to_async(kinds)()
            await asyncio.sleep(0.1)
