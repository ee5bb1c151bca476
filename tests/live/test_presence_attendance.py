import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from conference.live import attendance as live_attendance
from conference.live import guard
from conference.models import AttendanceEvent, HallRemoval, Registration
from tests.factories import RegistrationFactory, UserFactory
from tests.live.conftest import connect
from tests.live.test_protocol import join

pytestmark = pytest.mark.django_db(transaction=True)


async def next_delta(client, *, timeout=2.0) -> dict:
    while True:
        frame = await client.next_push(timeout=timeout, presence=True)
        if frame["event"] == "presence.delta":
            return frame["data"]


def positions(delta: dict) -> dict[int, tuple]:
    """Where a delta puts people: newcomers in full, movers as [id, x, z, yaw]."""
    found = {p["id"]: (p["x"], p["z"], p["yaw"]) for p in delta["joined"]}
    found.update({entry[0]: tuple(entry[1:]) for entry in delta["moved"]})
    return found


async def test_snapshot_on_join_and_batched_delta_for_moves(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    bob = await join(hall_setup["bob"], hall_setup["hall"].pk)
    assert sorted(p["id"] for p in bob.snapshot) == sorted(
        [hall_setup["alice"].pk, hall_setup["bob"].pk]
    )
    arrival = await next_delta(alice)
    while hall_setup["bob"].pk not in [p["id"] for p in arrival["joined"]]:
        arrival = await next_delta(alice)
    names = {p["id"]: p["name"] for p in arrival["joined"]}
    assert names[hall_setup["bob"].pk] == hall_setup["bob"].public_name
    for n in range(5):
        reply = await alice.request("presence.move", {"x": 0.0, "z": 7.0 - n * 0.4, "yaw": 90})
        assert reply["ok"] is True
    deltas = []
    while True:
        delta = await next_delta(bob)
        deltas.append(delta)
        if positions(delta).get(hall_setup["alice"].pk) == (0.0, 5.4, 90.0):
            break
    # five moves within one tick arrive as at most a couple of batched deltas, not five
    assert len(deltas) <= 3
    await alice.close()
    delta = await next_delta(bob)
    while hall_setup["alice"].pk not in delta["left"]:
        delta = await next_delta(bob)
    assert delta["left"] == [hall_setup["alice"].pk]
    await bob.close()


async def test_positions_are_clamped_to_the_hall_and_speed_capped(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    far = await alice.request("presence.move", {"x": 500.0, "z": 0.0})
    hall = hall_setup["hall"]
    # the hall factory's hall is 30 m x 20 m: x is clamped to 15; the jump is speed-capped first
    assert far["data"]["x"] < 15.0
    await asyncio.sleep(3)
    far = await alice.request("presence.move", {"x": 500.0, "z": 0.0})
    assert far["data"]["x"] == float(hall.width_m) / 2
    for bad in ({"x": "1", "z": 0}, {"x": float("nan"), "z": 0}, {"z": 1}, {"x": True, "z": 1}):
        frame = json.dumps({"id": "b", "action": "presence.move", "data": bad}, allow_nan=True)
        await alice.ws.send_to(text_data=frame)
        reply = json.loads(await alice.ws.receive_from())
        while reply.get("id") != "b":
            reply = json.loads(await alice.ws.receive_from())
        assert reply["error"]["code"] in {"invalid", "bad_frame"}
    await alice.close()


async def test_two_tabs_count_once_and_leave_only_with_the_last(hall_setup):
    tab1 = await join(hall_setup["alice"], hall_setup["hall"].pk)
    tab2 = await join(hall_setup["alice"], hall_setup["hall"].pk)
    counts = await tab1.request("presence.counts")
    assert counts["data"]["halls"][str(hall_setup["hall"].pk)] == 1
    await tab1.close()
    people = (await tab2.request("presence.snapshot"))["data"]["people"]
    assert [p["id"] for p in people] == [hall_setup["alice"].pk]
    await tab2.close()


async def test_connect_and_disconnect_become_attendance_events(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    beat = await alice.request("attendance.heartbeat")
    assert beat["data"] == {"recorded": True, "session": hall_setup["session"].pk}
    again = await alice.request("attendance.heartbeat")  # within 20 s of the first
    assert again["data"] == {"recorded": False, "session": hall_setup["session"].pk}
    await alice.close()  # returns once the consumer has finished (the leave is stored)
    rows = await database_sync_to_async(
        lambda: list(
            AttendanceEvent.objects.order_by("id").values_list("kind", "session_id", "user_id")
        )
    )()
    session, user = hall_setup["session"].pk, hall_setup["alice"].pk
    assert rows == [("join", session, user), ("heartbeat", session, user), ("leave", session, user)]


async def test_attention_check_passed_and_missed(hall_setup, monkeypatch):
    monkeypatch.setattr(live_attendance, "UNIT_SECONDS", 0.3)  # "minutes" become 0.3 s

    def enable():
        session = hall_setup["session"]
        session.attention_check_minutes = 1
        session.attention_window_seconds = 60  # -> 0.3 s here
        session.save()

    await database_sync_to_async(enable)()
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    check = await alice.next_push(timeout=3)
    assert check["event"] == "attendance.check"
    passed = await alice.request("attendance.confirm", {"check": check["data"]["check"]})
    assert passed["data"] == {"passed": True}
    again = await alice.request("attendance.confirm", {"check": check["data"]["check"]})
    assert again["error"]["code"] == "expired"
    second = await alice.next_push(timeout=3)
    assert second["event"] == "attendance.check"
    missed = await alice.next_push(timeout=3)
    assert missed == {
        "event": "attendance.check_missed",
        "data": {"check": second["data"]["check"]},
    }
    await alice.close()
    kinds = await database_sync_to_async(
        lambda: list(AttendanceEvent.objects.order_by("id").values_list("kind", flat=True))
    )()
    assert kinds[:3] == ["join", "attention_passed", "attention_missed"]
    assert kinds[-1] == "leave"


async def test_full_hall_refuses_attendees(hall_setup):
    def shrink():
        hall = hall_setup["hall"]
        hall.capacity = 1
        hall.save()

    await database_sync_to_async(shrink)()
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    _connected, ws = await connect(hall_setup["bob"], hall_setup["hall"].pk)
    frame = json.loads(await ws.receive_from())
    assert frame["data"]["code"] == "hall_full"
    assert (await ws.receive_output())["code"] == 4005
    await ws.disconnect()
    await alice.close()


async def test_moderator_removes_a_user_who_cannot_come_back(hall_setup):
    def make_moderator():
        user = UserFactory()
        RegistrationFactory(user=user, event=hall_setup["event"], role="moderator")
        return user

    moderator_user = await database_sync_to_async(make_moderator)()
    moderator = await join(moderator_user, hall_setup["hall"].pk)
    bob = await join(hall_setup["bob"], hall_setup["hall"].pk)
    refused = await bob.request("hall.remove", {"user": moderator_user.pk})
    assert refused["error"]["code"] == "forbidden"
    done = await moderator.request("hall.remove", {"user": hall_setup["bob"].pk, "reason": "spam"})
    assert done["ok"] is True
    frame = await bob.next_push()
    assert frame == {"event": "feed.skip", "seq": done["data"]["seq"], "data": {}}
    frame = await bob.next_push()
    assert frame["data"]["code"] == "removed"
    assert frame["data"]["reason"] == "spam"
    assert frame["data"]["until"] == done["data"]["until"]
    assert await database_sync_to_async(HallRemoval.objects.count)() == 1
    _connected, ws = await connect(hall_setup["bob"], hall_setup["hall"].pk)
    again = json.loads(await ws.receive_from())["data"]
    assert again["code"] == "removed"
    assert again["reason"] == "spam"
    assert again["until"] == done["data"]["until"]
    await ws.disconnect()
    await moderator.close()


@pytest.mark.parametrize("change", ["deactivate", "cancel"])
async def test_losing_access_closes_the_socket_on_the_next_check(hall_setup, change):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    bob = await join(hall_setup["bob"], hall_setup["hall"].pk)

    def revoke():
        if change == "deactivate":
            hall_setup["alice"].is_active = False
            hall_setup["alice"].save()
        else:
            Registration.objects.filter(user=hall_setup["alice"]).update(status="cancelled")

    await database_sync_to_async(revoke)()
    assert await guard.check_once() == 1
    frame = await alice.next_push()
    assert frame["data"]["code"] == "revoked"
    assert (await bob.request("chat.send", {"text": "still in"}))["ok"] is True
    await bob.close()
    await alice.ws.disconnect()


async def test_access_check_skips_sockets_still_joining(hall_setup):
    """A socket is in the hub before its access is read; the re-check of the others goes on."""
    from conference.live.hub import get_hub

    class Joining:  # as HallConsumer.join leaves a socket before `enter_hall` answers
        hall_id = hall_setup["hall"].pk
        access = None
        held: list = []  # pushes wait here until its `hello`

    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    joining = Joining()
    get_hub().members[hall_setup["hall"].pk].add(joining)
    try:

        def deactivate():
            hall_setup["alice"].is_active = False
            hall_setup["alice"].save()

        await database_sync_to_async(deactivate)()
        assert await guard.check_once() == 1
        assert (await alice.next_push())["data"]["code"] == "revoked"
    finally:
        get_hub().leave(joining)
    await alice.ws.disconnect()


async def test_restricted_zone_refuses_roles_it_does_not_list(hall_setup):
    def add_zone_and_speaker():
        from venues.models import Zone

        Zone.objects.create(
            hall=hall_setup["hall"],
            kind="podium",
            label="Podium",
            polygon=[[-5, -10], [5, -10], [5, -6], [-5, -6]],
            props={"roles": ["speaker", "moderator"]},
        )
        speaker = UserFactory()
        RegistrationFactory(user=speaker, event=hall_setup["event"], role="speaker")
        return speaker

    speaker_user = await database_sync_to_async(add_zone_and_speaker)()
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    speaker = await join(speaker_user, hall_setup["hall"].pk)
    # walk close to the podium first (speed cap), then try to step onto it
    for client in (alice, speaker):
        for z in (6.0, 2.0, -2.0, -5.0):
            await client.request("presence.move", {"x": 0.0, "z": z})
            await asyncio.sleep(0.3)
    refused = await alice.request("presence.move", {"x": 0.0, "z": -8.0})
    assert refused["error"] == {
        "code": "restricted_zone",
        "message": "Only moderator, speaker may enter Podium.",
    }
    allowed = await speaker.request("presence.move", {"x": 0.0, "z": -8.0})
    assert allowed["data"]["z"] == -8.0
    await alice.close()
    await speaker.close()


async def test_arrivals_alone_wait_a_second_moves_go_every_tick(monkeypatch):
    """docs/protocol.md: a delta per tick while someone moves; arrivals and departures alone at
    most once a second per hall (a first arrival in a quiet hall at once)."""
    from conference.live import presence

    clock = [100.0]
    monkeypatch.setattr(presence.time, "monotonic", lambda: clock[0])
    ticker = presence.PresenceTicker(presence.LocalPresence())
    sent = []

    async def record(hall_id, joined, moved, left):
        sent.append(([p["id"] for p in joined], [p["id"] for p in moved], left))

    monkeypatch.setattr(ticker, "_publish", record)

    def person(user_id):
        return {"id": user_id, "name": "P", "degree": "", "x": 0.0, "z": 0.0, "yaw": 0.0}

    ticker.joined[1][7] = person(7)
    assert await ticker.flush() is True
    assert sent == [([7], [], [])]  # a first arrival goes out at once
    clock[0] += 0.1
    ticker.joined[1][8] = person(8)
    ticker.left[1].add(9)
    assert await ticker.flush() is True  # still ticking, but nothing sent yet
    assert len(sent) == 1
    clock[0] += 0.1
    ticker.moved[1][7] = person(7)  # someone moved: everything goes out this tick
    await ticker.flush()
    assert sent[-1] == ([8], [7], [9])
    clock[0] += 0.1
    ticker.joined[1][10] = person(10)
    await ticker.flush()
    assert len(sent) == 2
    clock[0] += 1.0
    await ticker.flush()
    assert sent[-1] == ([10], [], [])
    assert await ticker.flush() is False  # nothing left
