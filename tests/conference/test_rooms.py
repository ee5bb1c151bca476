"""Meeting rooms: access and capacity decided by the server, the expert's queue, moderation,
chat, notes and reports, and the endpoints' refusals (docs/rooms.md). Janus is real where
media is involved."""

import asyncio
import datetime as dt
import json

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from conference.models import (
    HallRemoval,
    MeetingRoom,
    Registration,
    RegistrationRole,
    RoomOccupant,
    RoomReport,
)
from conference.services.media import rooms as service
from conference.services.media.janus import VIDEOROOM, JanusAdmin
from conference.services.media.stage import MediaRefused
from conference.services.media.tokens import make_opaque_id
from tests.factories import EventFactory, HallFactory, ProfileFactory, UserFactory
from tests.support.media import JanusClient
from venues.models import HallKind, Placement, PlacementKind
from venues.services import publish_layout


@pytest.fixture
def rooms_setup(db):
    event = EventFactory(start_date=timezone.now().date() - dt.timedelta(days=1))
    hall = HallFactory(kind=HallKind.LOBBY)
    event.venue = hall.venue
    event.save()

    def room(label, props, x=0):
        return Placement.objects.create(
            hall=hall, kind=PlacementKind.MEETING_ROOM, label=label, x=x, props=props
        )

    workshop = room("Workshop", {"room": "workshop", "capacity": 2}, x=-5)
    expert = room("Expert", {"room": "expert", "capacity": 2, "slot_minutes": 5}, x=5)
    publish_layout(hall.venue)
    people = {}
    for key, role in (
        ("ana", RegistrationRole.ATTENDEE),
        ("ben", RegistrationRole.ATTENDEE),
        ("cleo", RegistrationRole.ATTENDEE),
        ("mod", RegistrationRole.MODERATOR),
        ("eva", RegistrationRole.ATTENDEE),
    ):
        user = UserFactory(display_name=key.title())
        ProfileFactory(user=user)
        Registration.objects.create(user=user, event=event, role=role)
        people[key] = user
    MeetingRoom.objects.get_or_create(placement=expert)[0].hosts.add(people["eva"])
    return {"event": event, "hall": hall, "workshop": workshop, "expert": expert, **people}


def _room(setup, key):
    return service.get_room(setup["hall"], setup[key].pk)


def _access(setup, who, key="workshop"):
    return service.room_access(setup[who], _room(setup, key), event_slug=setup["event"].slug)


def test_room_access_follows_the_hall_rules(rooms_setup):
    assert _access(rooms_setup, "ana").is_host is False
    assert _access(rooms_setup, "mod").is_host is True
    assert _access(rooms_setup, "eva", "expert").is_host is True
    assert _access(rooms_setup, "eva", "workshop").is_host is False
    stranger = UserFactory()
    with pytest.raises(MediaRefused, match="Only registered attendees"):
        service.room_access(
            stranger, _room(rooms_setup, "workshop"), event_slug=rooms_setup["event"].slug
        )
    HallRemoval.objects.create(
        hall=rooms_setup["hall"],
        user=rooms_setup["ben"],
        removed_by=rooms_setup["mod"],
        until=timezone.now() + dt.timedelta(hours=1),
    )
    with pytest.raises(MediaRefused, match="removed you"):
        _access(rooms_setup, "ben")
    with pytest.raises(MediaRefused, match="not part of your event"):
        service.room_access(rooms_setup["ana"], _room(rooms_setup, "workshop"), event_slug="x")


def test_joining_without_media_says_how_to_turn_it_on(rooms_setup, settings):
    settings.JANUS_WS_URLS = []
    with pytest.raises(MediaRefused, match="Live media is off") as refused:
        service.join_room(_access(rooms_setup, "ana"), _room(rooms_setup, "workshop"))
    assert refused.value.code == "unavailable"


@pytest.mark.janus
def test_capacity_is_enforced_by_the_server(rooms_setup, janus):
    room = _room(rooms_setup, "workshop")
    first = service.join_room(_access(rooms_setup, "ana"), room)
    second = service.join_room(_access(rooms_setup, "ben"), room)
    assert first["room_token"] != second["room_token"]
    assert first["room"] == second["room"] == service.ROOM_OFFSET + rooms_setup["workshop"].pk
    with pytest.raises(MediaRefused) as refused:
        service.join_room(_access(rooms_setup, "cleo"), room)
    assert refused.value.code == "conflict"
    assert refused.value.message == (
        "Workshop is full: 2 of 2 places are taken. Try again when someone leaves, "
        "or choose another room."
    )
    # Joining again (a reload) keeps one's place; leaving frees it.
    service.join_room(_access(rooms_setup, "ana"), room)
    service.leave_room(_access(rooms_setup, "ben"), room)
    service.join_room(_access(rooms_setup, "cleo"), room)
    # Someone whose page went quiet no longer counts.
    RoomOccupant.objects.filter(user=rooms_setup["ana"]).update(
        seen_at=timezone.now() - dt.timedelta(seconds=60)
    )
    service.join_room(_access(rooms_setup, "ben"), room)
    summary = service.room_summary(room, zone=dt.UTC)
    assert [p["name"] for p in summary["people"]] == ["Cleo", "Ben"]
    assert (summary["count"], summary["full"]) == (2, True)


@pytest.mark.janus
def test_a_locked_room_admits_only_hosts(rooms_setup, janus):
    room = _room(rooms_setup, "workshop")
    with pytest.raises(MediaRefused, match="Only this room's hosts"):
        service.set_locked(_access(rooms_setup, "ana"), room, locked=True)
    service.set_locked(_access(rooms_setup, "mod"), room, locked=True)
    room = _room(rooms_setup, "workshop")
    with pytest.raises(MediaRefused, match="locked by its host"):
        service.join_room(_access(rooms_setup, "ana"), room)
    assert service.join_room(_access(rooms_setup, "mod"), room)["is_host"] is True


def test_the_expert_queue_orders_waits_and_admits(rooms_setup):
    room = _room(rooms_setup, "expert")
    ana, ben, eva = (_access(rooms_setup, k, "expert") for k in ("ana", "ben", "eva"))
    assert service.request_slot(ana, room)["mine"] == {
        "status": "waiting",
        "place": 1,
        "wait_minutes": 0,
    }
    service.request_slot(ana, room)  # twice is one entry
    assert service.request_slot(ben, room)["mine"] == {
        "status": "waiting",
        "place": 2,
        "wait_minutes": 5,
    }
    with pytest.raises(MediaRefused, match="request a slot"):
        service.join_room(ana, room)
    with pytest.raises(MediaRefused, match="Only this room's hosts"):
        service.admit(ana, room)
    host_view = service.admit(eva, room, count=1)
    assert [p["name"] for p in host_view["admitted"]] == ["Ana"]
    assert [p["name"] for p in host_view["people"]] == ["Ben"]
    assert service.queue_state(ana, room)["mine"]["status"] == "admitted"
    mine = service.queue_state(ben, room)["mine"]
    assert (mine["status"], mine["place"], mine["wait_minutes"]) == ("waiting", 1, 5)
    # Attendees do not see who else waits.
    assert service.queue_state(ben, room)["people"] == []
    # The time limit: a slot past its end is over.
    from conference.models import RoomQueueEntry

    RoomQueueEntry.objects.filter(user=rooms_setup["ana"]).update(
        ends_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert service.room_state(ana, room)["queue"]["mine"] is None
    service.leave_queue(ben, room)
    assert service.queue_state(ben, room)["mine"] is None
    with pytest.raises(MediaRefused, match="Nobody is waiting"):
        service.admit(eva, room)


def test_notes_are_private_and_chat_is_for_the_room(rooms_setup):
    room = _room(rooms_setup, "workshop")
    ana, ben = _access(rooms_setup, "ana"), _access(rooms_setup, "ben")
    service.save_note(ana, room, text="Ask about the trial.")
    assert service.get_note(ana, room) == "Ask about the trial."
    assert service.get_note(ben, room) == ""
    with pytest.raises(MediaRefused, match="Join the room"):
        service.post_message(ana, room, text="hello")
    with pytest.raises(MediaRefused, match="1 to 500"):
        service.post_message(_access(rooms_setup, "mod"), room, text="x" * 501)
    service.post_message(_access(rooms_setup, "mod"), room, text="Welcome")
    assert service.room_state(ana, room)["messages"] == []  # not in the room: nothing to read
    assert [
        m["text"] for m in service.room_state(_access(rooms_setup, "mod"), room)["messages"]
    ] == ["Welcome"]


def test_a_report_keeps_the_room_time_and_people(
    rooms_setup, mailoutbox, django_capture_on_commit_callbacks
):
    room = _room(rooms_setup, "workshop")
    now = timezone.now()
    for key in ("ana", "ben"):
        RoomOccupant.objects.create(
            room=room.meeting,
            user=rooms_setup[key],
            name=key.title(),
            janus_token="t" + key,
            joined_at=now,
            seen_at=now,
        )
    with pytest.raises(MediaRefused, match="Say what happened"):
        service.report_room(_access(rooms_setup, "ana"), room, reason=" ")
    organizer = rooms_setup["event"].organizer
    organizer.contact_email = "safety@society.test"
    organizer.save()
    with django_capture_on_commit_callbacks(execute=True):
        report = service.report_room(_access(rooms_setup, "ana"), room, reason="Abusive remarks")
    assert [m.to for m in mailoutbox] == [["safety@society.test"]]
    assert "Abusive remarks" in mailoutbox[0].body
    assert "In the room then: Ana, Ben" in mailoutbox[0].body
    stored = RoomReport.objects.get()
    assert stored.pk == report.pk
    assert stored.people == [
        {"id": rooms_setup["ana"].pk, "name": "Ana"},
        {"id": rooms_setup["ben"].pk, "name": "Ben"},
    ]
    assert stored.room.placement == rooms_setup["workshop"]
    assert abs((stored.created_at - now).total_seconds()) < 5


def test_endpoints_refuse_clearly(rooms_setup, client):
    client.force_login(rooms_setup["ana"])
    base = reverse(
        "venue:room",
        kwargs={
            "event_slug": rooms_setup["event"].slug,
            "hall_slug": rooms_setup["hall"].slug,
            "room_id": rooms_setup["workshop"].pk,
        },
    )
    page = client.get(base)
    assert page.status_code == 200
    assert "camera=(self)" in page["Permissions-Policy"]
    answer = client.post(base + "moderate/", "[]", content_type="application/json")
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "The request must be a JSON object."},
    )
    answer = client.post(
        base + "moderate/", json.dumps({"action": "lock"}), content_type="application/json"
    )
    assert (answer.status_code, answer.json()) == (
        403,
        {"error": "Only this room's hosts may do that."},
    )
    answer = client.post(
        base + "queue/", json.dumps({"action": "request"}), content_type="application/json"
    )
    assert answer.json() == {"error": "Only a meet-the-expert room has a queue."}
    missing = base.replace(f"/{rooms_setup['workshop'].pk}/", "/999999/")
    assert client.get(missing + "state/").status_code == 404
    listing = client.get(
        reverse(
            "venue:rooms",
            kwargs={"event_slug": rooms_setup["event"].slug, "hall_slug": rooms_setup["hall"].slug},
        )
        + "?format=json"
    ).json()
    assert [(r["label"], r["capacity"], r["count"]) for r in listing["rooms"]] == [
        ("Workshop", 2, 0),
        ("Expert", 2, 0),
    ]
    hall_page = client.get(
        reverse(
            "venue:hall",
            kwargs={"event_slug": rooms_setup["event"].slug, "hall_slug": rooms_setup["hall"].slug},
        )
    ).content.decode()
    assert "Meeting rooms" in hall_page
    assert "0 of 2 places taken" in hall_page
    client.logout()
    assert client.post(base + "join/").status_code in (401, 403)


@pytest.mark.janus
def test_cutting_a_room_ends_only_that_users_sessions_of_that_room(rooms_setup, janus):
    """A removed person's handles in this room end; their other sessions, a handle that only
    claims the room's tag (not signed by the server) and the others in the room stay."""
    room = _room(rooms_setup, "workshop")
    ana = service.join_room(_access(rooms_setup, "ana"), room)
    ben = service.join_room(_access(rooms_setup, "ben"), room)
    ana_id = rooms_setup["ana"].pk
    forged = f"mv.{ana_id}.r{room.janus_id}-forged.{'0' * 28}"
    other_room = make_opaque_id(secret=settings.JANUS_TOKEN_SECRET, user_id=ana_id, tag="r1-")

    async def run():
        clients = [JanusClient(janus.ws_url) for _ in range(4)]
        opaque_ids = [ana["opaque_id"], ben["opaque_id"], forged, other_room]
        for client, opaque_id in zip(clients, opaque_ids, strict=True):
            await client.__aenter__()
            created = await client.request({"janus": "create", "token": ana["token"]})
            await client.request(
                {
                    "janus": "attach",
                    "session_id": created["data"]["id"],
                    "plugin": VIDEOROOM,
                    "opaque_id": opaque_id,
                    "token": ana["token"],
                }
            )
        try:
            admin = JanusAdmin(service.host_for_room(room))
            before = set(admin.sessions())
            ended = await asyncio.to_thread(service.cut_room_media, room, ana_id)
            return before, ended, set(admin.sessions())
        finally:
            for client in clients:
                await client.__aexit__(None, None, None)

    before, ended, after = asyncio.run(run())
    assert (len(before), ended, len(after)) == (4, 1, 3)
