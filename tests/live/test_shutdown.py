"""SIGTERM to a web process: every socket is closed with 1012 and attendance is closed."""

import asyncio
import signal
import time

import pytest
import websockets
from channels.db import database_sync_to_async

from conference.models import AttendanceEvent
from tests.live.servers import uvicorn_process
from tests.live.test_hub_faults import make_attendees
from tests.live.test_two_processes import is_event, open_client

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


async def test_sigterm_closes_every_socket_with_1012_and_drains(hall_setup):
    hall_id = hall_setup["hall"].pk
    users = await database_sync_to_async(make_attendees)(hall_setup["event"], 20)
    with uvicorn_process() as (port, process):
        clients = [await open_client(port, user, hall_id) for user in users]
        for client in clients:
            await client.wait_for(is_event("hello"))
        joins = await database_sync_to_async(AttendanceEvent.objects.filter(kind="join").count)()
        assert joins == len(users)

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        codes = []
        for client in clients:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(client.ws.recv(), 10)
            codes.append(closed.value.rcvd.code if closed.value.rcvd else None)
        assert codes == [1012] * len(users)
        exit_code = await asyncio.get_running_loop().run_in_executor(None, process.wait, 15)
        drained = time.monotonic() - started
        # uvicorn re-raises the signal once it has shut down gracefully
        assert exit_code in (0, -signal.SIGTERM)
        assert drained < 11  # --timeout-graceful-shutdown 10 (README, docs/protocol.md)
        log = process.stderr.read().decode()
        assert "timeout graceful shutdown exceeded" not in log
        assert "Finished server process" in log
    leaves = await database_sync_to_async(AttendanceEvent.objects.filter(kind="leave").count)()
    assert leaves == len(users)  # every join got its leave while draining
