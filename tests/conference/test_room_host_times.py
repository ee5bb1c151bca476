"""Host times of meeting rooms (issue 16): the poster's author "at the poster" in a published time
slot, shown to attendees in the event's time zone, set up by the organizer in admin."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from conference.models import MeetingRoom, RoomHostSlot
from conference.services.media import rooms as service
from tests.factories import RegistrationFactory, UserFactory
from tests.support.admin import inline_management
from venues.models import Placement, PlacementKind

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 12, 8, 13, 10, tzinfo=dt.UTC)  # 14:10 in Berlin


@pytest.fixture
def poster_room(world):
    """A poster spot (board P-01) in Alpha's hall."""
    hall = world.hall_a
    placement = Placement.objects.create(
        hall=hall,
        kind=PlacementKind.MEETING_ROOM,
        label="At poster P-01",
        x=0,
        props={"room": "poster", "board": "P-01"},
    )
    return service.get_room(hall, placement.pk)


def _slot(room, name, start, end):
    host = UserFactory(display_name=name)
    return RoomHostSlot.objects.create(room=room.meeting, host=host, starts_at=start, ends_at=end)


def test_the_line_names_who_is_at_the_poster_now_and_next_in_the_events_zone(poster_room):
    assert service.host_times(poster_room, zone=BERLIN, now=NOW) == {
        "now": [],
        "next": None,
        "line": "",
    }
    _slot(poster_room, "Dr. Old", NOW - dt.timedelta(hours=2), NOW - dt.timedelta(hours=1))
    _slot(
        poster_room, "Dr. Ana Ruiz", NOW - dt.timedelta(minutes=10), NOW + dt.timedelta(minutes=20)
    )
    _slot(poster_room, "Dr. Ben Okoro", NOW + dt.timedelta(hours=1), NOW + dt.timedelta(hours=2))
    _slot(poster_room, "Dr. Later", NOW + dt.timedelta(hours=3), NOW + dt.timedelta(hours=4))
    times = service.host_times(poster_room, zone=BERLIN, now=NOW)
    assert times["line"] == (
        "At the poster now: Dr. Ana Ruiz (until 14:30). "
        "Next at the poster: Dr. Ben Okoro, Tue 8 Dec 15:10–16:10 (CET)."
    )
    assert [s["host"] for s in times["now"]] == ["Dr. Ana Ruiz"]
    assert times["next"]["starts"] == (NOW + dt.timedelta(hours=1)).isoformat()
    # Another zone, the same moments.
    chicago = service.host_times(poster_room, zone=ZoneInfo("America/Chicago"), now=NOW)
    assert "(until 07:30)" in chicago["line"] and "08:10–09:10 (CST)" in chicago["line"]


def test_the_room_list_and_room_state_carry_the_line(poster_room, world, client):
    start = timezone.now() - dt.timedelta(minutes=5)
    _slot(poster_room, "Dr. Ana Ruiz", start, start + dt.timedelta(hours=1))
    summary = service.room_summary(poster_room, zone=world.event_a.tzinfo)
    assert summary["host_times"]["line"].startswith("At the poster now: Dr. Ana Ruiz (until ")


def test_the_organizer_publishes_a_host_time_in_admin(poster_room, world, client):
    """In the event's zone (Chicago for Alpha); the person becomes one of the room's hosts; a
    time that ends before it starts is refused with a clear message."""
    author = UserFactory(display_name="Dr. Poster Author", email="author@example.org")
    outsider = UserFactory(email="outsider@example.org")  # nobody of Alpha's
    RegistrationFactory(event=world.event_a, user=author)
    client.force_login(world.staff_a)
    url = reverse("admin:conference_meetingroom_change", args=[poster_room.meeting.pk])
    assert client.get(url).status_code == 200
    prefix = "host_slots"
    base = {"locked": "", **inline_management(prefix, total=1)}
    row = {
        f"{prefix}-0-host": author.pk,
        f"{prefix}-0-starts_at_0": "2026-12-09",
        f"{prefix}-0-starts_at_1": "10:00",
        f"{prefix}-0-ends_at_0": "2026-12-09",
        f"{prefix}-0-ends_at_1": "09:00",
    }
    foreign = client.post(url, {**base, **row, f"{prefix}-0-host": outsider.pk})
    assert "Select a valid choice" in foreign.content.decode()
    refused = client.post(url, {**base, **row})
    assert refused.status_code == 200
    assert "A host time ends after it starts." in refused.content.decode()
    assert not RoomHostSlot.objects.exists()
    row[f"{prefix}-0-ends_at_1"] = "10:30"
    saved = client.post(url, {**base, **row})
    assert saved.status_code == 302
    slot = RoomHostSlot.objects.get()
    assert slot.starts_at == dt.datetime(2026, 12, 9, 16, 0, tzinfo=dt.UTC)  # 10:00 in Chicago
    assert list(MeetingRoom.objects.get(pk=poster_room.meeting.pk).hosts.all()) == [author]


def test_another_organizers_staff_cannot_reach_the_room(poster_room, world, client):
    client.force_login(world.staff_b)
    url = reverse("admin:conference_meetingroom_change", args=[poster_room.meeting.pk])
    assert client.get(url).status_code in (302, 404)
