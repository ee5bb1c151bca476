"""The attendance tracker follows the hall's programme on the server's own timer: at a
session's end the socket leaves it and joins the next one, without any heartbeat, and is told
with `session.changed` (docs/protocol.md, "Attendance")."""

import datetime as dt

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from conference.live import attendance as live_attendance
from conference.models import AttendanceEvent, Registration, RegistrationRole
from conference.services.attendance import AttendanceRow, record_many
from tests.factories import SessionFactory, SpeakerFactory, UserFactory
from tests.live.test_protocol import join

pytestmark = pytest.mark.django_db(transaction=True)

# Long enough for a join on a loaded machine to see the first session still on.
FIRST_ENDS_IN = dt.timedelta(seconds=5)


@pytest.fixture
def back_to_back(hall_setup, monkeypatch):
    """The hall's session ends in a few seconds and the next one starts at that moment; the
    tracker's once-a-minute re-read is pushed out of the way, so only the end timer acts."""
    monkeypatch.setattr(live_attendance, "PROGRAMME_CHECK_SECONDS", 3600.0)
    first = hall_setup["session"]
    first.ends_at = timezone.now() + FIRST_ENDS_IN
    first.save(update_fields=["ends_at"])
    second = SessionFactory(
        event=hall_setup["event"],
        hall=hall_setup["hall"],
        title="Second talk",
        starts_at=first.ends_at,
        ends_at=first.ends_at + dt.timedelta(hours=1),
    )
    return {**hall_setup, "first": first, "second": second}


def speaker_of(session, user) -> None:
    speaker = SpeakerFactory(event=session.event, user=user)
    session.speakers.add(speaker)


def rows_of(user) -> list[tuple]:
    return list(
        AttendanceEvent.objects.filter(user=user)
        .order_by("server_time", "id")
        .values_list("kind", "session_id", "server_time", "connection", "dedup_key")
    )


async def changeover(client) -> dict:
    """The `session.changed` push (no heartbeat is sent meanwhile)."""
    frame = await client.next_push(timeout=FIRST_ENDS_IN.total_seconds() + 10)
    assert frame["event"] == "session.changed"
    return frame["data"]


async def assert_followed(user, first, second) -> None:
    rows = await database_sync_to_async(rows_of)(user)
    assert [(kind, session) for kind, session, *_ in rows] == [
        ("join", first.pk),
        ("leave", first.pk),
        ("join", second.pk),
        ("leave", second.pk),
    ]
    # the switch happened at the first session's end, on the server's clock
    assert rows[1][2] >= first.ends_at
    assert rows[1][2] - first.ends_at < dt.timedelta(seconds=3)
    assert len({row[3] for row in rows}) == 1  # one socket
    assert [row[4] for row in rows] == [f"{rows[0][3]}:{n}" for n in range(4)]


async def test_back_to_back_sessions_change_over_without_a_heartbeat(back_to_back):
    first, second = back_to_back["first"], back_to_back["second"]
    alice = await join(back_to_back["alice"], back_to_back["hall"].pk)
    assert alice.hello["session"]["id"] == first.pk
    data = await changeover(alice)
    assert data["session"]["id"] == second.pk
    assert data["session"]["title"] == "Second talk"
    assert data["session"]["you_moderate"] is False
    assert data["stage"]["session"] == second.pk
    # heartbeats now count for the second session (the first after the switch is recorded)
    beat = await alice.request("attendance.heartbeat")
    assert beat["data"] == {"recorded": True, "session": second.pk}
    await alice.close()
    rows = await database_sync_to_async(rows_of)(back_to_back["alice"])
    assert [(kind, session) for kind, session, *_ in rows] == [
        ("join", first.pk),
        ("leave", first.pk),
        ("join", second.pk),
        ("heartbeat", second.pk),
        ("leave", second.pk),
    ]


async def test_a_speaker_who_is_no_moderator_moderates_only_their_own_session(back_to_back):
    first, second = back_to_back["first"], back_to_back["second"]
    bob = back_to_back["bob"]
    await database_sync_to_async(speaker_of)(second, bob)
    client = await join(bob, back_to_back["hall"].pk)
    assert client.hello["moderator"] is False
    assert client.hello["session"]["id"] == first.pk
    assert client.hello["session"]["you_moderate"] is False
    data = await changeover(client)
    assert data["session"]["id"] == second.pk
    assert data["session"]["you_moderate"] is True
    await client.close()
    await assert_followed(bob, first, second)


async def test_a_moderator_moderates_both_sessions(back_to_back):
    first, second = back_to_back["first"], back_to_back["second"]
    moderator = await database_sync_to_async(UserFactory)()
    await database_sync_to_async(Registration.objects.create)(
        user=moderator, event=back_to_back["event"], role=RegistrationRole.MODERATOR
    )
    client = await join(moderator, back_to_back["hall"].pk)
    assert client.hello["moderator"] is True
    assert client.hello["session"]["you_moderate"] is True
    data = await changeover(client)
    assert data["session"]["id"] == second.pk
    assert data["session"]["you_moderate"] is True
    await client.close()
    await assert_followed(moderator, first, second)


@pytest.mark.django_db
def test_an_attendance_event_written_twice_is_stored_once(hall_setup):
    row = AttendanceRow(
        user_id=hall_setup["alice"].pk,
        hall_id=hall_setup["hall"].pk,
        session_id=hall_setup["session"].pk,
        connection="c0ffee",
        kind="join",
        server_time=timezone.now(),
        key="c0ffee:0",
    )
    record_many([row])
    record_many([row])
    assert list(AttendanceEvent.objects.values_list("dedup_key", flat=True)) == ["c0ffee:0"]
