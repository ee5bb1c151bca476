import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conference.models import SessionKind
from tests.factories import (
    DisclosureFactory,
    EventFactory,
    HallFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
    VenueFactory,
    event_local,
)

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


def _text(response) -> str:
    return response.content.decode()


def _event_url(event) -> str:
    return reverse("conference:event-detail", kwargs={"event_slug": event.slug})


def test_event_list_orders_upcoming_first_then_past(client):
    past = EventFactory(
        title="Past Meeting", start_date=dt.date(2020, 5, 1), end_date=dt.date(2020, 5, 2)
    )
    later = EventFactory(
        title="Later Congress", start_date=dt.date(2031, 9, 1), end_date=dt.date(2031, 9, 3)
    )
    sooner = EventFactory(
        title="Sooner Summit", start_date=dt.date(2030, 3, 30), end_date=dt.date(2030, 4, 2)
    )
    EventFactory(title="Hidden Draft", is_published=False)

    response = client.get(reverse("conference:event-list"))

    assert response.status_code == 200
    assert [event.pk for event in response.context["upcoming"]] == [sooner.pk, later.pk]
    assert [event.pk for event in response.context["past"]] == [past.pk]
    text = _text(response)
    assert text.index("Sooner Summit") < text.index("Later Congress") < text.index("Past Meeting")
    assert "Hidden Draft" not in text
    assert "30 March – 2 April 2030" in text
    assert "1–3 September 2031" in text


def test_event_list_shows_registration_deadline_in_event_timezone(client):
    closes = dt.datetime(2030, 3, 1, 17, 0, tzinfo=dt.UTC)  # 11:00 in Chicago (CST)
    EventFactory(
        start_date=dt.date(2030, 3, 30),
        end_date=dt.date(2030, 4, 1),
        timezone="America/Chicago",
        registration_closes_at=closes,
    )
    EventFactory(
        start_date=dt.date(2030, 3, 30),
        end_date=dt.date(2030, 4, 1),
        timezone="Asia/Tokyo",
        registration_closes_at=closes,
    )

    text = _text(client.get(reverse("conference:event-list")))

    assert "Registration closes 1 March 2030, 11:00 CST" in text
    assert "Registration closes 2 March 2030, 02:00 JST" in text


def test_event_detail_shows_times_in_event_timezone(client, settings):
    assert settings.TIME_ZONE == "Pacific/Auckland"
    event = EventFactory(timezone="America/Chicago")
    SessionFactory(event=event, title="Morning plenary", starts_at=event_local(event, 0, 9))

    response = client.get(_event_url(event))

    assert response.status_code == 200
    text = _text(response)
    assert re.search(r">09:00</time>–<time[^>]*>10:00</time>", text)
    assert "America/Chicago" in text
    assert "Morning plenary" in text


def test_event_detail_groups_schedule_by_day_and_hall(client):
    event = EventFactory(
        timezone="America/Chicago", start_date=dt.date(2030, 5, 6), end_date=dt.date(2030, 5, 7)
    )
    hall_a = HallFactory(name="Auditorium A", order=1)
    hall_b = HallFactory(name="Hall B", order=2)
    first = SessionFactory(event=event, hall=hall_b, starts_at=event_local(event, 0, 9))
    second = SessionFactory(event=event, hall=hall_a, starts_at=event_local(event, 0, 10))
    third = SessionFactory(event=event, hall=hall_a, starts_at=event_local(event, 1, 23))

    response = client.get(_event_url(event))

    days = [
        (day.day, [(group.label, [s.pk for s in group.sessions]) for group in day.groups])
        for day in response.context["days"]
    ]
    assert days == [
        (dt.date(2030, 5, 6), [("Auditorium A", [second.pk]), ("Hall B", [first.pk])]),
        (dt.date(2030, 5, 7), [("Auditorium A", [third.pk])]),
    ]


def test_event_detail_groups_schedule_by_track_on_request(client):
    event = EventFactory()
    track = TrackFactory(event=event, name="Cardiology")
    with_track = SessionFactory(event=event, track=track, starts_at=event_local(event, 0, 9))
    no_track = SessionFactory(event=event, starts_at=event_local(event, 0, 11))

    response = client.get(_event_url(event), {"group": "track"})

    [day] = response.context["days"]
    assert [(g.label, [s.pk for s in g.sessions]) for g in day.groups] == [
        ("Cardiology", [with_track.pk]),
        ("General", [no_track.pk]),
    ]


def test_event_detail_unknown_grouping_falls_back_to_hall(client):
    event = EventFactory()

    response = client.get(_event_url(event), {"group": "<bad>"})

    assert response.status_code == 200
    assert response.context["group_by"] == "hall"


def test_event_detail_unpublished_is_404(client):
    event = EventFactory(is_published=False)
    SessionFactory(event=event)

    assert client.get(_event_url(event)).status_code == 404


def test_event_detail_unknown_slug_is_404(client):
    assert client.get("/events/no-such-event/").status_code == 404


def test_event_detail_links_venue_only_when_event_has_one(client):
    with_venue = EventFactory(venue=VenueFactory(name="Congress Centre"))
    without_venue = EventFactory()

    with_text = _text(client.get(_event_url(with_venue)))
    without_text = _text(client.get(_event_url(without_venue)))

    assert f'href="/events/{with_venue.slug}/venue/"' in with_text
    assert "/venue/" not in without_text


def test_event_detail_links_calendar(client):
    event = EventFactory()

    text = _text(client.get(_event_url(event)))

    assert f'href="/events/{event.slug}/schedule.ics"' in text


def test_event_detail_escapes_user_text(client):
    event = EventFactory(title=f"Congress {XSS}", description=f"About {XSS}")
    event.organizer.name = f"Society {XSS}"
    event.organizer.save()
    track = TrackFactory(event=event, name=f"Track {XSS}", color='"><b>x')
    session = SessionFactory(event=event, title=f"Talk {XSS}", track=track)
    session.speakers.add(SpeakerFactory(event=event, name=f"Dr {XSS}"))

    text = _text(client.get(_event_url(event)))

    assert "<script>" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "<b>x" not in text


def _capture_event_page_queries(client, event) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_event_url(event))
    assert response.status_code == 200
    return len(queries)


def _add_full_session(event, hour):
    track = TrackFactory(event=event)
    session = SessionFactory(
        event=event, hall=HallFactory(), track=track, starts_at=event_local(event, 0, hour)
    )
    session.speakers.add(SpeakerFactory(event=event), SpeakerFactory(event=event))
    return session


@pytest.mark.parametrize("logged_in", [False, True])
def test_event_detail_query_count_does_not_grow_with_sessions(client, user, logged_in):
    if logged_in:
        client.force_login(user)
    event = EventFactory(capacity=50, venue=VenueFactory())
    RegistrationFactory(event=event, user=user)
    _add_full_session(event, 8)
    one_session = _capture_event_page_queries(client, event)

    _add_full_session(event, 10)
    _add_full_session(event, 12)
    three_sessions = _capture_event_page_queries(client, event)

    assert len(event.sessions.all()) == 3
    assert three_sessions == one_session


def test_session_detail_shows_time_place_and_credit(client, settings):
    assert settings.TIME_ZONE == "Pacific/Auckland"
    event = EventFactory(
        timezone="America/Chicago", start_date=dt.date(2030, 1, 14), end_date=dt.date(2030, 1, 15)
    )
    session = SessionFactory(
        event=event,
        title="Heart failure update",
        hall=HallFactory(name="Auditorium A"),
        track=TrackFactory(event=event, name="Cardiology"),
        kind=SessionKind.PLENARY,
        starts_at=event_local(event, 0, 9),
        ends_at=event_local(event, 0, 10, 30),
        is_cme_eligible=True,
        designated_minutes=90,
        abstract="New guideline recommendations.",
    )

    response = client.get(session.get_absolute_url())

    assert response.status_code == 200
    text = _text(response)
    assert re.search(
        r"Monday 14 January 2030, <time[^>]*>09:00</time>–<time[^>]*>10:30</time> CST", text
    )
    assert "America/Chicago" in text
    for expected in ("Auditorium A", "Cardiology", "Plenary", "New guideline recommendations."):
        assert expected in text
    assert "90 designated minutes (1 h 30 min)" in text


def test_session_detail_shows_speakers_and_disclosures(client):
    event = EventFactory()
    session = SessionFactory(event=event)
    conflicted = SpeakerFactory(
        event=event, name="Ada Lovelace", credentials="MD, PhD", affiliation="Mayo Clinic"
    )
    DisclosureFactory(
        speaker=conflicted, company="Acme Pharma", relationship="consultant", details="Heart drugs"
    )
    clean = SpeakerFactory(event=event, name="Ben Carson", has_nothing_to_disclose=True)
    pending = SpeakerFactory(event=event, name="Cy Pending")
    session.speakers.add(conflicted, clean, pending)
    SpeakerFactory(event=event, name="Not In This Session")

    text = _text(client.get(session.get_absolute_url()))

    speakers = re.findall(r'<h3 class="speaker__name">([^<]*)', text)
    assert speakers == ["Ada Lovelace, ", "Ben Carson, ", "Cy Pending, "]
    assert "MD, PhD" in text
    assert "Mayo Clinic" in text
    assert "<strong>Acme Pharma</strong> — Consultant (Heart drugs)" in text
    assert text.count("Nothing to disclose") == 1
    assert text.count("Disclosure not yet received.") == 1
    assert "Not In This Session" not in text


def test_session_detail_escapes_user_text(client):
    event = EventFactory()
    session = SessionFactory(event=event, title=f"Talk {XSS}", abstract=f"Abstract {XSS}")
    speaker = SpeakerFactory(event=event, name=f"Dr {XSS}", affiliation=XSS)
    DisclosureFactory(speaker=speaker, company=XSS, details=XSS)
    session.speakers.add(speaker)

    text = _text(client.get(session.get_absolute_url()))

    assert "<script>" not in text
    assert text.count("&lt;script&gt;") >= 5


def test_session_detail_of_unpublished_event_is_404(client):
    session = SessionFactory(event=EventFactory(is_published=False))

    assert client.get(session.get_absolute_url()).status_code == 404


def test_session_detail_under_another_event_slug_is_404(client):
    session = SessionFactory()
    other = EventFactory()
    url = reverse(
        "conference:session-detail", kwargs={"event_slug": other.slug, "session_id": session.pk}
    )

    assert client.get(url).status_code == 404


def test_my_events_requires_login(client):
    url = reverse("conference:my-events")

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={url}"


def test_my_events_lists_only_own_active_registrations(client, user):
    mine = RegistrationFactory(user=user, event=EventFactory(title="My Congress"))
    RegistrationFactory(
        user=user, event=EventFactory(title="Cancelled Congress"), status="cancelled"
    )
    RegistrationFactory(event=EventFactory(title="Someone Else's Congress"))
    client.force_login(user)

    response = client.get(reverse("conference:my-events"))

    assert response.status_code == 200
    assert [reg.pk for reg in response.context["upcoming"]] == [mine.pk]
    assert response.context["past"] == []
    text = _text(response)
    assert "My Congress" in text
    assert "Cancelled Congress" not in text
    assert "Someone Else" not in text
    assert reverse("conference:registration-cancel", args=[mine.pk]) in text


def test_favicon_ico_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
    assert "max-age=86400" in response["Cache-Control"]
