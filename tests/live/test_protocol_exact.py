"""Points of docs/protocol.md a client relies on: ids in error replies, per-user limits, the
back-off after 4008, logout per browser, `unavailable` during a database outage, attendance of
refused and dropped sockets."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client as HttpClient

from conference.asgi import application
from conference.live.ratelimit import ABUSE_REFUSALS
from conference.models import AttendanceEvent
from tests.live.conftest import ORIGIN, Client, connect
from tests.live.test_protocol import join

pytestmark = pytest.mark.django_db(transaction=True)


def attendance_kinds() -> list[str]:
    return list(AttendanceEvent.objects.order_by("id").values_list("kind", flat=True))


async def raw(client: Client, text: str) -> dict:
    await client.ws.send_to(text_data=text)
    return json.loads(await client.ws.receive_from(timeout=3))


async def test_error_replies_carry_the_frames_readable_id(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    big = json.dumps({"id": "big-1", "action": "chat.send", "data": {"text": "x" * 9000}})
    reply = await raw(alice, big)
    assert (reply["id"], reply["error"]["code"]) == ("big-1", "frame_too_large")
    reply = await raw(alice, json.dumps({"id": 42, "action": "qa.list"}))
    assert (reply["id"], reply["error"]["code"]) == (42, "bad_frame")
    long_id = "i" * 65
    reply = await raw(alice, json.dumps({"id": long_id, "action": "qa.list"}))
    assert (reply["id"], reply["error"]["code"]) == (long_id, "bad_frame")
    reply = await raw(alice, "not json")
    assert (reply["id"], reply["error"]["code"]) == (None, "bad_frame")
    await alice.close()


async def test_rate_limits_are_per_user_across_sockets(hall_setup):
    hall_id = hall_setup["hall"].pk
    tabs = [await join(hall_setup["alice"], hall_id) for _ in range(3)]
    replies = []
    for n in range(2):
        for tab in tabs:
            replies.append(await tab.request("chat.send", {"text": f"tab message {n}"}))
    codes = [r["ok"] or r["error"]["code"] for r in replies]
    assert codes == [True] * 5 + ["rate_limited"]  # the write bucket holds 5 per user
    bob = await join(hall_setup["bob"], hall_id)  # another user has his own buckets
    assert (await bob.request("chat.send", {"text": "mine"}))["ok"] is True
    for client in (*tabs, bob):
        await client.close()


async def test_abusive_socket_closes_with_4008_and_the_user_backs_off(hall_setup):
    hall_id = hall_setup["hall"].pk
    alice = await join(hall_setup["alice"], hall_id)
    for n in range(ABUSE_REFUSALS):
        await alice.ws.send_to(text_data=json.dumps({"id": f"x{n}", "action": "nope"}))
    while True:
        frame = json.loads(await alice.ws.receive_from(timeout=3))
        if frame.get("event") == "error":
            break
    assert frame["data"]["code"] == "abuse"
    assert 55 <= frame["data"]["retry_after"] <= 60
    assert (await alice.ws.receive_output(timeout=3))["code"] == 4008
    await alice.ws.disconnect()

    kinds_before = await database_sync_to_async(attendance_kinds)()
    _connected, ws = await connect(hall_setup["alice"], hall_id)
    refused = json.loads(await ws.receive_from(timeout=3))
    assert refused["data"]["code"] == "abuse"
    assert refused["data"]["retry_after"] > 0
    assert (await ws.receive_output(timeout=3))["code"] == 4008
    await ws.disconnect()
    assert await database_sync_to_async(attendance_kinds)() == kinds_before  # no join written
    bob = await join(hall_setup["bob"], hall_id)  # other users are not affected
    await bob.close()


def login_session(user) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


async def open_with_session(session_key: str, hall_id: int) -> Client:
    ws = WebsocketCommunicator(
        application,
        f"/ws/halls/{hall_id}/",
        headers=[(b"origin", ORIGIN), (b"cookie", f"sessionid={session_key}".encode())],
    )
    connected, _ = await ws.connect()
    assert connected
    client = Client(ws)
    assert (await client.next_push())["event"] == "hello"
    assert (await client.next_push(presence=True))["event"] == "presence.snapshot"
    return client


async def test_logout_closes_that_browsers_sockets_only(hall_setup):
    hall_id = hall_setup["hall"].pk
    laptop_key = await database_sync_to_async(login_session)(hall_setup["alice"])
    phone_key = await database_sync_to_async(login_session)(hall_setup["alice"])
    laptop = await open_with_session(laptop_key, hall_id)
    phone = await open_with_session(phone_key, hall_id)

    def log_out():
        browser = HttpClient()
        browser.cookies["sessionid"] = laptop_key
        return browser.post("/accounts/logout/").status_code

    assert await database_sync_to_async(log_out)() == 302
    frame = await laptop.next_push()
    assert frame["data"]["code"] == "revoked"
    assert (await laptop.ws.receive_output(timeout=3))["code"] == 4009
    await laptop.ws.disconnect()
    # the phone's socket (another login session) stays open and answers
    assert (await phone.request("qa.list"))["ok"] is True
    await phone.close()


async def test_refused_and_dropped_handshakes_leave_no_dangling_join(hall_setup):
    hall = hall_setup["hall"]

    def shrink():
        hall.capacity = 1
        hall.save()

    await database_sync_to_async(shrink)()
    alice = await join(hall_setup["alice"], hall.pk)
    _connected, ws = await connect(hall_setup["bob"], hall.pk)
    refused = json.loads(await ws.receive_from(timeout=3))
    assert refused["data"]["code"] == "hall_full"
    assert (await ws.receive_output(timeout=3))["code"] == 4005
    await ws.disconnect()
    assert await database_sync_to_async(attendance_kinds)() == ["join"]  # alice's only
    await alice.close()

    # a client that drops right after the upgrade, before its hello
    connected, ws = await connect(hall_setup["alice"], hall.pk)
    assert connected
    await ws.disconnect()
    kinds = await database_sync_to_async(attendance_kinds)()
    assert kinds.count("join") == kinds.count("leave") == 2


@pytest.fixture
def runner_pid(hall_setup) -> int:
    """The backend of the test runner's own connection (this thread's, which flushes the tables
    afterwards): the only one the outage below spares."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.postgres
async def test_database_outage_answers_unavailable_and_loses_nothing(hall_setup, runner_pid):
    import psycopg

    name = connection.settings_dict["NAME"]
    admin_url = (
        f"host={connection.settings_dict['HOST'] or '127.0.0.1'} user=postgres dbname=postgres"
    )
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    bob_key = await database_sync_to_async(login_session)(hall_setup["bob"])

    def block(allow: bool) -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
            if not allow:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> %s",
                    [name, runner_pid],
                )

    await database_sync_to_async(block, thread_sensitive=False)(False)
    try:
        reply = await alice.request("qa.ask", {"text": "during the outage", "key": "k-out"})
        assert reply["error"]["code"] == "unavailable"
        assert reply["error"]["retry_after"] > 0
        # a new socket: its session cannot be read, so it is refused `unavailable` (1013)
        ws = WebsocketCommunicator(
            application,
            f"/ws/halls/{hall_setup['hall'].pk}/",
            headers=[(b"origin", ORIGIN), (b"cookie", f"sessionid={bob_key}".encode())],
        )
        assert (await ws.connect())[0]
        refused = json.loads(await ws.receive_from(timeout=3))
        assert refused["data"]["code"] == "unavailable"
        assert (await ws.receive_output(timeout=3))["code"] == 1013
        await ws.disconnect()
    finally:
        await database_sync_to_async(block, thread_sensitive=False)(True)
        # the outage ended this test's own connection of the thread that runs
        # database_sync_to_async (opened by login_session): later tests must not inherit it
        await database_sync_to_async(lambda: connection.close())()
    again = await alice.request("qa.ask", {"text": "during the outage", "key": "k-out"})
    assert again["ok"] is True and again["data"]["duplicate"] is False  # nothing was stored before
    await alice.close()


@pytest.mark.postgres
async def test_live_calls_hold_no_database_connection_between_frames(hall_setup, runner_pid):
    """Each live database call returns its connection when it ends: between frames only the
    test runner's own connection is open (a held one would be stale after an outage, and held
    from the pool for good in production)."""
    import psycopg

    name = connection.settings_dict["NAME"]
    admin_url = (
        f"host={connection.settings_dict['HOST'] or '127.0.0.1'} user=postgres dbname=postgres"
    )

    def own_pid() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    # the test's own database_sync_to_async thread (it wrote the session cookie) is not the
    # live layer's: its connection is the runner's too
    runner_pids = [runner_pid, await database_sync_to_async(own_pid)()]

    def others() -> list[int]:
        with psycopg.connect(admin_url) as admin:
            found = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND NOT pid = ANY(%s)",
                [name, runner_pids],
            ).fetchall()
        return [pid for (pid,) in found]

    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    reply = await alice.request("qa.ask", {"text": "held?", "key": "k-held"})
    assert reply["ok"] is True
    assert await database_sync_to_async(others, thread_sensitive=False)() == []
    await alice.close()


async def test_resume_cap_counts_positions_placeholders_included(hall_setup):
    """docs/protocol.md: `feed.resume` returns at most 500 positions, each an item or its
    `feed.skip`; `more` is true exactly when positions after the last returned one exist."""
    from conference.models import LiveItem
    from conference.models.live import Audience
    from conference.services.live import RESUME_LIMIT

    hall = hall_setup["hall"]

    def fill(count: int) -> None:
        LiveItem.objects.bulk_create(
            LiveItem(
                hall=hall,
                seq=seq,
                event="qa.question",
                # every third item awaits moderation: attendees get its placeholder
                audience=Audience.MODERATORS if seq % 3 == 0 else Audience.EVERYONE,
                data={"id": seq, "text": f"q{seq}", "status": "approved"},
            )
            for seq in range(1, count + 1)
        )

    await database_sync_to_async(fill)(RESUME_LIMIT + 1)
    alice = await join(hall_setup["alice"], hall.pk)
    first = (await alice.request("feed.resume", {"since": 0}))["data"]
    assert [i["seq"] for i in first["items"]] == list(range(1, RESUME_LIMIT + 1))
    assert [i["event"] for i in first["items"][:3]] == ["qa.question", "qa.question", "feed.skip"]
    assert first["more"] is True
    rest = (await alice.request("feed.resume", {"since": RESUME_LIMIT}))["data"]
    assert [i["seq"] for i in rest["items"]] == [RESUME_LIMIT + 1]
    assert rest["more"] is False
    exact = (await alice.request("feed.resume", {"since": 1}))["data"]
    assert len(exact["items"]) == RESUME_LIMIT and exact["more"] is False
    await alice.close()
