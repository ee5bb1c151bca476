import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from conference.models import ChatMessage, LiveItem, Question
from tests.factories import EventFactory, RegistrationFactory, UserFactory
from tests.live.conftest import Client, connect

pytestmark = pytest.mark.django_db(transaction=True)


async def join(user, hall_id) -> Client:
    connected, ws = await connect(user, hall_id)
    assert connected
    client = Client(ws)
    hello = await client.next_push()
    assert hello["event"] == "hello"
    client.hello = hello["data"]
    snapshot = await client.next_push(presence=True)
    assert snapshot["event"] == "presence.snapshot"
    client.snapshot = snapshot["data"]["people"]
    return client


async def test_hello_describes_user_hall_and_feed_position(hall_setup):
    alice, hall = hall_setup["alice"], hall_setup["hall"]
    client = await join(alice, hall.pk)
    assert client.hello["hall"] == {"id": hall.pk, "name": hall.name}
    assert client.hello["user"]["id"] == alice.pk
    assert client.hello["role"] == "attendee"
    assert client.hello["moderator"] is False
    assert client.hello["seq"] == 0
    await client.close()


async def test_anonymous_connection_is_refused_with_4001(hall_setup):
    connected, ws = await connect(None, hall_setup["hall"].pk)
    assert connected
    frame = json.loads(await ws.receive_from())
    assert frame == {
        "event": "error",
        "data": {"code": "unauthenticated", "message": "Log in first."},
    }
    assert (await ws.receive_output())["code"] == 4001
    await ws.disconnect()


async def test_wrong_origin_is_rejected(hall_setup):
    connected, ws = await connect(
        hall_setup["alice"], hall_setup["hall"].pk, origin=b"http://evil.example"
    )
    assert connected is False
    await ws.disconnect()


async def test_attendee_of_other_event_is_forbidden(hall_setup):
    other = await database_sync_to_async(lambda: RegistrationFactory(event=EventFactory()))()
    _connected, ws = await connect(other.user, hall_setup["hall"].pk)
    frame = json.loads(await ws.receive_from())
    assert frame["data"]["code"] == "forbidden"
    assert (await ws.receive_output())["code"] == 4003
    await ws.disconnect()


async def test_unknown_hall_is_not_found(hall_setup):
    _connected, ws = await connect(hall_setup["alice"], 999999)
    frame = json.loads(await ws.receive_from())
    assert frame["data"]["code"] == "not_found"
    await ws.disconnect()


async def test_question_is_stored_before_it_is_acknowledged_and_broadcast(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    bob = await join(hall_setup["bob"], hall_setup["hall"].pk)
    reply = await alice.request("qa.ask", {"text": "  What is the NNT?  ", "key": "k-1"})
    assert reply["ok"] is True
    assert reply["data"]["seq"] == 1
    assert reply["data"]["question"]["text"] == "What is the NNT?"
    stored = await database_sync_to_async(
        lambda: list(Question.objects.values_list("text", "status"))
    )()
    assert stored == [("What is the NNT?", "approved")]
    pushed = await bob.next_push()
    assert pushed["event"] == "qa.question"
    assert pushed["seq"] == 1
    assert pushed["data"]["id"] == reply["data"]["question"]["id"]
    await alice.close()
    await bob.close()


async def test_resubmission_with_same_key_is_not_stored_twice(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    first = await alice.request("chat.send", {"text": "hello", "key": "same"})
    second = await alice.request("chat.send", {"text": "hello", "key": "same"})
    assert first["data"]["seq"] == second["data"]["seq"] == 1
    assert second["data"]["duplicate"] is True
    assert await database_sync_to_async(ChatMessage.objects.count)() == 1
    assert await database_sync_to_async(LiveItem.objects.count)() == 1
    await alice.close()


async def test_resume_returns_exactly_the_missed_items_in_order(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    bob = await join(hall_setup["bob"], hall_setup["hall"].pk)
    await bob.request("chat.send", {"text": "before"})
    seen = (await alice.next_push())["seq"]
    await alice.close()
    for text in ("missed 1", "missed 2", "missed 3"):
        await bob.request("chat.send", {"text": text})
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    reply = await alice.request("feed.resume", {"since": seen})
    items = reply["data"]["items"]
    assert [(i["seq"], i["data"]["text"]) for i in items] == [
        (2, "missed 1"),
        (3, "missed 2"),
        (4, "missed 3"),
    ]
    assert reply["data"]["more"] is False
    await alice.close()
    await bob.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        ('{"action": "chat.send"}', "bad_frame"),
        ('{"id": "x", "action": "nope.nope"}', "unknown_action"),
        ('{"id": "x", "action": "chat.send", "data": {"text": ""}}', "invalid"),
        ('{"id": "x", "action": "chat.send", "data": {"text": "' + "a" * 501 + '"}}', "invalid"),
        ('{"id": "x", "action": "chat.send", "data": []}', "bad_frame"),
        ('{"id": "x", "action": "feed.resume", "data": {"since": -1}}', "invalid"),
        (
            '{"id": "x", "action": "chat.send", "data": {"text": "' + "a" * 9000 + '"}}',
            "frame_too_large",
        ),
    ],
)
async def test_bad_frames_get_one_error_reply_and_change_nothing(hall_setup, frame, code):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    await alice.ws.send_to(text_data=frame)
    reply = json.loads(await alice.ws.receive_from())
    assert reply["ok"] is False
    assert reply["error"]["code"] == code
    assert await database_sync_to_async(LiveItem.objects.count)() == 0
    # the socket still works
    assert (await alice.request("chat.send", {"text": "still here"}))["ok"] is True
    await alice.close()


async def test_error_reply_carries_the_request_id_when_it_was_readable(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    await alice.ws.send_to(text_data='{"id": "mine", "data": {}}')
    reply = json.loads(await alice.ws.receive_from())
    assert (reply["id"], reply["error"]["code"]) == ("mine", "bad_frame")
    await alice.ws.send_to(text_data='{"action": "chat.send"}')
    reply = json.loads(await alice.ws.receive_from())
    assert (reply["id"], reply["error"]["code"]) == (None, "bad_frame")
    await alice.close()


async def test_binary_frame_is_refused(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    await alice.ws.send_to(bytes_data=b"\x00\x01")
    reply = json.loads(await alice.ws.receive_from())
    assert reply["error"]["code"] == "bad_frame"
    await alice.close()


async def test_rate_limit_refuses_bursts_with_a_clear_error(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    codes = [
        (await alice.request("chat.send", {"text": f"m{n}"})).get("error", {}).get("code")
        for n in range(8)
    ]
    assert codes[:5] == [None] * 5
    assert codes[5:] == ["rate_limited"] * 3
    assert await database_sync_to_async(ChatMessage.objects.count)() == 5
    await alice.close()


async def test_user_text_is_sent_as_data_never_markup(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    reply = await alice.request("chat.send", {"text": "<img src=x onerror=alert(1)>"})
    assert reply["data"]["message"]["text"] == "<img src=x onerror=alert(1)>"
    await alice.close()


async def test_logout_closes_the_users_sockets(hall_setup):
    from conference.live.control import aclose_user_sockets

    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    await aclose_user_sockets(hall_setup["alice"].pk)
    frame = json.loads(await alice.ws.receive_from())
    assert frame["data"]["code"] == "revoked"
    assert (await alice.ws.receive_output())["code"] == 4009
    await alice.ws.disconnect()


async def test_erasing_an_account_closes_its_sockets(hall_setup):
    """Erasure (a service) closes the person's sockets through the seam the live layer
    connects when the app is ready (services.hall_events), once the erasure commits."""
    from accounts.privacy import erase_account

    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    await database_sync_to_async(erase_account)(hall_setup["alice"])
    frame = json.loads(await alice.ws.receive_from())
    while frame.get("event") != "error":  # pushes before it (presence) are not the point
        frame = json.loads(await alice.ws.receive_from())
    assert frame["data"]["code"] == "revoked"
    assert (await alice.ws.receive_output())["code"] == 4009
    await alice.ws.disconnect()


async def test_no_session_on_means_no_question(hall_setup):
    def end_session():
        session = hall_setup["session"]
        session.starts_at = session.starts_at.replace(year=2020)
        session.ends_at = session.ends_at.replace(year=2020)
        session.save()

    await database_sync_to_async(end_session)()
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    reply = await alice.request("qa.ask", {"text": "anyone?"})
    assert reply["error"]["code"] == "no_session"
    await alice.close()


async def test_pending_question_reaches_only_moderators(hall_setup):
    def setup():
        session = hall_setup["session"]
        session.qa_moderation_required = True
        session.save()
        moderator = UserFactory()
        RegistrationFactory(user=moderator, event=hall_setup["event"], role="moderator")
        return moderator

    moderator_user = await database_sync_to_async(setup)()
    moderator = await join(moderator_user, hall_setup["hall"].pk)
    bob = await join(hall_setup["bob"], hall_setup["hall"].pk)
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    reply = await alice.request("qa.ask", {"text": "pending?"})
    assert reply["data"]["question"]["status"] == "pending"
    assert (await moderator.next_push())["data"]["text"] == "pending?"
    await bob.request("chat.send", {"text": "ping"})
    # bob gets the question's position only (so a gap always means loss), then the chat
    assert await bob.next_push() == {"event": "feed.skip", "seq": 1, "data": {}}
    assert (await bob.next_push())["event"] == "chat.message"
    resumed = await bob.request("feed.resume", {"since": 0})
    assert resumed["data"]["items"][0] == {"event": "feed.skip", "seq": 1, "data": {}}
    assert [(i["event"], i["seq"]) for i in resumed["data"]["items"]] == [
        ("feed.skip", 1),
        ("chat.message", 2),
    ]
    assert "pending?" not in json.dumps(resumed)
    moderator_resumed = await moderator.request("feed.resume", {"since": 0})
    assert [i["event"] for i in moderator_resumed["data"]["items"]] == [
        "qa.question",
        "chat.message",
    ]
    for client in (moderator, bob, alice):
        await client.close()


async def test_sockets_joining_together_share_one_entry_call_and_keep_their_own_answer(
    hall_setup, monkeypatch
):
    """The joins of a hall are checked in batches (conference.live.consumer._enter_many): one
    database call for the sockets joining together, each socket getting its own access, and a
    refusal reaching only the socket it is for."""
    from conference.live import consumer

    batches: list[list] = []
    enter_many = consumer._enter_many

    def recording(hall_id, sockets):
        batches.append([key for key, _present, _limits in sockets])
        return enter_many(hall_id, sockets)

    monkeypatch.setattr(consumer, "_enter_many", recording)
    event = hall_setup["event"]
    members = await database_sync_to_async(
        lambda: [RegistrationFactory(event=event).user for _ in range(4)]
    )()
    outsider = await database_sync_to_async(lambda: RegistrationFactory(event=EventFactory()))()
    people = [hall_setup["alice"], hall_setup["bob"], *members, outsider.user]
    sockets = await asyncio.gather(*(connect(person, hall_setup["hall"].pk) for person in people))
    firsts = [json.loads(await ws.receive_from()) for _connected, ws in sockets]

    assert [frame["event"] for frame in firsts] == ["hello"] * 6 + ["error"]
    assert [frame["data"]["user"]["id"] for frame in firsts[:6]] == [p.pk for p in people[:6]]
    assert firsts[6]["data"]["code"] == "forbidden"
    assert (await sockets[6][1].receive_output())["code"] == 4003
    assert sum(len(batch) for batch in batches) == 7
    assert len(batches) < 7  # at least one call checked several sockets
    for _connected, ws in sockets:
        await ws.disconnect()
