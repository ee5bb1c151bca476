"""The hub under concurrency and Redis faults, against a redis-server of the test's own."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from conference.live import hub as hub_module
from conference.live.groups import hub_channel
from conference.live.hub import get_hub
from conference.models import AttendanceEvent, Registration
from tests.factories import ProfileFactory, UserFactory
from tests.live.conftest import Client, connect
from tests.live.redis_server import OwnRedis

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def own_redis(settings):
    server = OwnRedis()
    server.start()
    settings.REDIS_URL = server.url
    yield server
    server.kill()


def make_attendees(event, count: int) -> list:
    users = []
    for _ in range(count):
        user = UserFactory()
        ProfileFactory(user=user)
        Registration.objects.create(user=user, event=event)
        users.append(user)
    return users


async def open_client(user, hall_id) -> tuple[Client, list[dict]]:
    """Connect and return the client with every frame up to and including the snapshot."""
    connected, ws = await connect(user, hall_id)
    assert connected
    client = Client(ws)
    first = []
    while not first or first[-1].get("event") != "presence.snapshot":
        first.append(json.loads(await ws.receive_from(timeout=10)))
        if first[-1].get("event") == "error":
            break
    return client, first


async def feed_until(client: Client, seq: int) -> list[int]:
    """Every feed seq the client receives, up to and including `seq`."""
    seen = []
    while not seen or seen[-1] < seq:
        frame = json.loads(await client.ws.receive_from(timeout=10))
        if "seq" in frame and "event" in frame:
            seen.append(frame["seq"])
    return seen


async def test_concurrent_joins_start_one_subscription_and_deliver_once(hall_setup, own_redis):
    hall = hall_setup["hall"]
    users = await database_sync_to_async(make_attendees)(hall_setup["event"], 30)
    opened = await asyncio.gather(*(open_client(user, hall.pk) for user in users))
    hub = get_hub()
    assert hub.subscriptions_started == 1
    assert await database_sync_to_async(own_redis.numsub)(hub_channel()) == 1
    for _client, first in opened:
        assert first[0]["event"] == "hello"  # hello is the first frame on every socket

    asker = opened[0][0]
    one = await asker.request("chat.send", {"text": "one"})
    two = await asker.request("chat.send", {"text": "two"})
    seqs = (one["data"]["seq"], two["data"]["seq"])
    for client, _first in opened[1:]:
        # one process, one subscription: each item exactly once, in order
        assert await feed_until(client, seqs[1]) == list(seqs)
    for client, _first in opened:
        await client.close()


async def test_pushes_during_connect_follow_hello_without_gaps(hall_setup, own_redis):
    """Sockets joining while items are published: hello first, then every later seq."""
    hall = hall_setup["hall"]
    users = await database_sync_to_async(make_attendees)(hall_setup["event"], 12)
    writer, _ = await open_client(hall_setup["alice"], hall.pk)
    other, _ = await open_client(hall_setup["bob"], hall.pk)

    async def write():
        last = 0
        for n in range(8):  # the write bucket allows 5 at once per user: alternate two users
            reply = await (writer, other)[n % 2].request("chat.send", {"text": f"m{n}"})
            last = max(last, reply["data"]["seq"])
        return last

    writing = asyncio.ensure_future(write())
    opened = await asyncio.gather(*(open_client(user, hall.pk) for user in users))
    last = await writing
    for client, first in opened:
        assert first[0]["event"] == "hello"
        start = first[0]["data"]["seq"]
        seen = [f["seq"] for f in first if "seq" in f]
        if start < last:
            seen += await feed_until(client, last) if not seen or seen[-1] < last else []
        assert seen == list(range(start + 1, last + 1))
        await client.close()
    await writer.close()
    await other.close()


async def test_redis_outage_closes_with_retry_hint_and_resubscribes_before_hello(
    hall_setup, own_redis, monkeypatch
):
    monkeypatch.setattr(hub_module, "JOIN_WAIT_SECONDS", 0.5)
    hall = hall_setup["hall"]
    alice, _ = await open_client(hall_setup["alice"], hall.pk)
    bob, _ = await open_client(hall_setup["bob"], hall.pk)

    await database_sync_to_async(own_redis.kill)()
    for client in (alice, bob):
        frame = json.loads(await client.ws.receive_from(timeout=10))
        while frame["event"] == "presence.delta":  # sent before the outage, still in flight
            frame = json.loads(await client.ws.receive_from(timeout=10))
        assert frame["event"] == "error"
        assert frame["data"]["code"] == "unavailable"
        assert 2 <= frame["data"]["retry_after"] <= 10
        assert (await client.ws.receive_output(timeout=5))["code"] == 1013
        await client.ws.disconnect()

    # a reconnect during the outage is refused the same way, and writes no attendance
    joins_before = await database_sync_to_async(AttendanceEvent.objects.filter(kind="join").count)()
    refused, first = await open_client(hall_setup["alice"], hall.pk)
    assert first[0]["data"]["code"] == "unavailable"
    assert (await refused.ws.receive_output(timeout=5))["code"] == 1013
    await refused.ws.disconnect()
    joins = await database_sync_to_async(AttendanceEvent.objects.filter(kind="join").count)()
    assert joins == joins_before
    leaves = await database_sync_to_async(AttendanceEvent.objects.filter(kind="leave").count)()
    assert leaves == joins  # the two dropped sockets' joins are closed

    await database_sync_to_async(own_redis.start)()
    alice, first = await open_client(hall_setup["alice"], hall.pk)
    assert first[0]["event"] == "hello"
    # hello went out only once this process was subscribed again
    assert get_hub().subscribed.is_set()
    assert await database_sync_to_async(own_redis.numsub)(hub_channel()) == 1
    bob, _ = await open_client(hall_setup["bob"], hall.pk)
    asked = await alice.request("qa.ask", {"text": "after the outage?"})
    assert await feed_until(bob, asked["data"]["seq"]) == [asked["data"]["seq"]]
    await alice.close()
    await bob.close()


async def test_publish_failure_after_commit_still_replies_stored(hall_setup, monkeypatch):
    from conference.live.hub import HallHub

    alice, _ = await open_client(hall_setup["alice"], hall_setup["hall"].pk)

    async def broken_publish(self, *args, **kwargs):
        from redis.exceptions import ConnectionError as RedisConnectionError

        raise RedisConnectionError("Redis went away")

    monkeypatch.setattr(HallHub, "publish", broken_publish)
    reply = await alice.request("qa.ask", {"text": "stored anyway?", "key": "k1"})
    assert reply["ok"] is True
    assert reply["data"]["published"] is False
    assert reply["data"]["question"]["text"] == "stored anyway?"
    resumed = await alice.request("feed.resume", {"since": 0})
    assert [i["data"].get("text") for i in resumed["data"]["items"]] == ["stored anyway?"]
    await alice.close()
