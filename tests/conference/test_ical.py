import datetime as dt

import icalendar
import pytest
from django.urls import reverse

from conference.models import RegistrationStatus
from conference.services.ical import build_calendar, calendar_filename
from tests.factories import (
    EventFactory,
    HallFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    event_local,
)

pytestmark = pytest.mark.django_db

CHICAGO_DST_START = dt.date(2026, 3, 8)  # 02:00 CST -> 03:00 CDT
CHICAGO_DST_END = dt.date(2026, 11, 1)  # 02:00 CDT -> 01:00 CST


def _ics_url(event) -> str:
    return reverse("conference:event-schedule-ics", kwargs={"event_slug": event.slug})


def _parse(response) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(response.content)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


@pytest.fixture
def dst_event():
    """An event in Chicago spanning the spring DST change, one session on each side."""
    event = EventFactory(
        slug="spring-congress",
        timezone="America/Chicago",
        start_date=CHICAGO_DST_START - dt.timedelta(days=1),
        end_date=CHICAGO_DST_START + dt.timedelta(days=1),
    )
    hall = HallFactory(name="Auditorium A")
    before = SessionFactory(
        event=event, title="Before", hall=hall, starts_at=event_local(event, 0, 9)
    )
    after = SessionFactory(
        event=event, title="After", hall=hall, starts_at=event_local(event, 1, 9)
    )
    return event, before, after


def test_event_calendar_has_utc_instants_across_spring_dst(client, dst_event):
    event, before, after = dst_event

    response = client.get(_ics_url(event))

    assert response.status_code == 200
    events = {ev["uid"]: ev for ev in _parse(response).walk("VEVENT")}
    assert {uid: (_utc(ev.start), _utc(ev.end)) for uid, ev in events.items()} == {
        f"session-{before.pk}@medvenue": (
            dt.datetime(2026, 3, 7, 15, tzinfo=dt.UTC),  # 09:00 CST = UTC-6
            dt.datetime(2026, 3, 7, 16, tzinfo=dt.UTC),
        ),
        f"session-{after.pk}@medvenue": (
            dt.datetime(2026, 3, 8, 14, tzinfo=dt.UTC),  # 09:00 CDT = UTC-5
            dt.datetime(2026, 3, 8, 15, tzinfo=dt.UTC),
        ),
    }


def test_event_calendar_uses_tzid_and_vtimezone(client, dst_event):
    event, _, _ = dst_event

    response = client.get(_ics_url(event))

    text = response.content.decode()
    assert "DTSTART;TZID=America/Chicago:20260307T090000" in text
    assert "DTSTART;TZID=America/Chicago:20260308T090000" in text
    [vtimezone] = _parse(response).walk("VTIMEZONE")
    assert vtimezone["tzid"] == "America/Chicago"
    # The VTIMEZONE itself (not the client's zoneinfo) must map the local times correctly.
    own_zone = vtimezone.to_tz()
    assert _utc(dt.datetime(2026, 3, 7, 9, tzinfo=own_zone)) == dt.datetime(
        2026, 3, 7, 15, tzinfo=dt.UTC
    )
    assert _utc(dt.datetime(2026, 3, 8, 9, tzinfo=own_zone)) == dt.datetime(
        2026, 3, 8, 14, tzinfo=dt.UTC
    )


def test_calendar_has_utc_instants_across_autumn_dst():
    event = EventFactory(
        timezone="America/Chicago",
        start_date=CHICAGO_DST_END - dt.timedelta(days=1),
        end_date=CHICAGO_DST_END,
    )
    before = SessionFactory(event=event, starts_at=event_local(event, 0, 9))
    after = SessionFactory(event=event, starts_at=event_local(event, 1, 9))

    body = build_calendar([before, after], name="x", url_for=lambda s: "https://x.test/")

    calendar = icalendar.Calendar.from_ical(body)
    own_zone = calendar.walk("VTIMEZONE")[0].to_tz()
    starts = [_utc(ev.start) for ev in calendar.walk("VEVENT")]
    assert starts == [
        dt.datetime(2026, 10, 31, 14, tzinfo=dt.UTC),  # 09:00 CDT
        dt.datetime(2026, 11, 1, 15, tzinfo=dt.UTC),  # 09:00 CST
    ]
    assert _utc(dt.datetime(2026, 11, 1, 9, tzinfo=own_zone)) == starts[1]


def test_event_calendar_fields_and_headers(client):
    event = EventFactory(slug="cardio-2030", title="Cardio 2030")
    session = SessionFactory(
        event=event,
        title="Heart failure update",
        hall=HallFactory(name="Auditorium A"),
        abstract="New guidelines.",
        is_cme_eligible=True,
        designated_minutes=60,
    )
    session.speakers.add(SpeakerFactory(event=event, name="Ada Lovelace", credentials="MD"))
    EventFactory()  # another event's sessions must not appear
    SessionFactory(title="Elsewhere")

    response = client.get(_ics_url(event))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="cardio-2030-schedule.ics"'
    calendar = _parse(response)
    assert str(calendar["x-wr-calname"]) == "Cardio 2030"
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["summary"]) == "Heart failure update"
    assert str(vevent["location"]) == "Auditorium A"
    assert str(vevent["url"]) == f"http://testserver{session.get_absolute_url()}"
    assert str(vevent["uid"]) == f"session-{session.pk}@medvenue"
    assert vevent.decoded("dtstamp").tzinfo is not None
    assert str(vevent["description"]) == (
        "Cardio 2030 — Seminar\n"
        "Speakers: Ada Lovelace, MD\n"
        "CME eligible: 60 designated minutes.\n"
        "\n"
        "New guidelines."
    )


def test_event_calendar_uid_is_stable_across_downloads(client, dst_event):
    event, _, _ = dst_event

    first = [str(ev["uid"]) for ev in _parse(client.get(_ics_url(event))).walk("VEVENT")]
    second = [str(ev["uid"]) for ev in _parse(client.get(_ics_url(event))).walk("VEVENT")]

    assert first == second
    assert len(set(first)) == 2


def test_event_calendar_of_unpublished_event_is_404(client):
    event = EventFactory(is_published=False)
    SessionFactory(event=event)

    assert client.get(_ics_url(event)).status_code == 404


def test_event_calendar_of_unknown_event_is_404(client):
    assert client.get("/events/nope/schedule.ics").status_code == 404


def test_event_calendar_without_sessions_is_valid(client):
    response = client.get(_ics_url(EventFactory()))

    assert response.status_code == 200
    calendar = _parse(response)
    assert calendar.walk("VEVENT") == []
    assert str(calendar["version"]) == "2.0"


def test_my_schedule_requires_login(client):
    url = reverse("conference:my-schedule-ics")

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={url}"


def test_my_schedule_includes_only_active_registrations(logged_in_client, user):
    mine = EventFactory(timezone="Europe/Berlin")
    mine_session = SessionFactory(event=mine, title="Mine")
    also_mine = EventFactory(timezone="Asia/Tokyo")
    also_mine_session = SessionFactory(event=also_mine, title="Also mine")
    cancelled = EventFactory()
    SessionFactory(event=cancelled, title="Cancelled event session")
    others = EventFactory()
    SessionFactory(event=others, title="Another user's event session")
    unregistered = EventFactory()
    SessionFactory(event=unregistered, title="Not registered")
    RegistrationFactory(user=user, event=mine)
    RegistrationFactory(user=user, event=also_mine)
    RegistrationFactory(user=user, event=cancelled, status=RegistrationStatus.CANCELLED)
    RegistrationFactory(event=others)
    RegistrationFactory(event=mine)  # another attendee of my event: no duplicate sessions

    response = logged_in_client.get(reverse("conference:my-schedule-ics"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="my-medvenue-schedule.ics"'
    calendar = _parse(response)
    uids = sorted(str(ev["uid"]) for ev in calendar.walk("VEVENT"))
    assert uids == sorted(
        [f"session-{mine_session.pk}@medvenue", f"session-{also_mine_session.pk}@medvenue"]
    )
    assert sorted(str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")) == [
        "Asia/Tokyo",
        "Europe/Berlin",
    ]
    assert "no-cache" in response["Cache-Control"]


def test_calendar_filename_strips_unsafe_characters():
    assert calendar_filename('a"b\r\nc/../d') == "a-b-c-d.ics"
    assert calendar_filename("///") == "schedule.ics"
