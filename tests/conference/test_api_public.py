"""Public read API: events, schedules, sessions and speakers, scoped to the caller."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import (
    DisclosureFactory,
    EventFactory,
    HallFactory,
    MembershipFactory,
    OrganizerFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
    UserFactory,
    event_local,
)

pytestmark = pytest.mark.django_db


def utc_iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.json()["results"]]


def count_queries(client: APIClient, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def two_organizers():
    """Organizer A with a published and an unpublished event; organizer B the same."""
    org_a, org_b = OrganizerFactory(), OrganizerFactory()
    return {
        "org_a": org_a,
        "org_b": org_b,
        "a_public": EventFactory(organizer=org_a, slug="a-public"),
        "a_hidden": EventFactory(organizer=org_a, slug="a-hidden", is_published=False),
        "b_public": EventFactory(organizer=org_b, slug="b-public"),
        "b_hidden": EventFactory(organizer=org_b, slug="b-hidden", is_published=False),
    }


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


# --- Events: who sees what --------------------------------------------------------------------


def test_event_list_anonymous_sees_published_only(api, two_organizers):
    assert sorted(slugs(api.get("/api/events/"))) == ["a-public", "b-public"]


def test_event_list_regular_user_sees_published_only(two_organizers):
    client = _client_for(UserFactory())
    assert sorted(slugs(client.get("/api/events/"))) == ["a-public", "b-public"]


def test_event_list_organizer_staff_sees_own_unpublished_only(two_organizers):
    staff_a = MembershipFactory(organizer=two_organizers["org_a"]).user
    response = _client_for(staff_a).get("/api/events/")
    assert sorted(slugs(response)) == ["a-hidden", "a-public", "b-public"]


def test_event_list_other_organizer_staff_does_not_see_unpublished(two_organizers):
    staff_b = MembershipFactory(organizer=two_organizers["org_b"]).user
    response = _client_for(staff_b).get("/api/events/")
    assert sorted(slugs(response)) == ["a-public", "b-hidden", "b-public"]


@pytest.mark.parametrize("who", ["anonymous", "regular", "other_staff"])
def test_unpublished_event_detail_and_schedule_hidden_from_outsiders(two_organizers, who):
    SessionFactory(event=two_organizers["a_hidden"])
    SpeakerFactory(event=two_organizers["a_hidden"])
    clients = {
        "anonymous": lambda: APIClient(),
        "regular": lambda: _client_for(UserFactory()),
        "other_staff": lambda: _client_for(
            MembershipFactory(organizer=two_organizers["org_b"]).user
        ),
    }
    client = clients[who]()
    assert client.get("/api/events/a-hidden/").status_code == 404
    assert client.get("/api/events/a-hidden/schedule/").status_code == 404
    assert client.get("/api/sessions/").json()["results"] == []
    assert client.get("/api/speakers/").json()["results"] == []


def test_unpublished_event_detail_visible_to_its_staff(two_organizers):
    staff_a = MembershipFactory(organizer=two_organizers["org_a"]).user
    response = _client_for(staff_a).get("/api/events/a-hidden/")
    assert response.status_code == 200
    assert response.json()["is_published"] is False


def test_event_detail_shows_whole_public_record(api):
    event = EventFactory(
        slug="cardio-2030",
        title="Cardiology 2030",
        description="Hearts.",
        timezone="America/Chicago",
        start_date=dt.date(2030, 3, 9),
        end_date=dt.date(2030, 3, 10),
        capacity=200,
        registration_opens_at=dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC),
        organizer__name="Heart Society",
        organizer__slug="heart",
    )
    response = api.get(f"/api/events/{event.slug}/")
    assert response.status_code == 200
    assert response.json() == {
        "slug": "cardio-2030",
        "title": "Cardiology 2030",
        "description": "Hearts.",
        "organizer": {"name": "Heart Society", "slug": "heart", "website": ""},
        "timezone": "America/Chicago",
        "start_date": "2030-03-09",
        "end_date": "2030-03-10",
        "is_published": True,
        "registration_opens_at": "2030-01-01T12:00:00Z",
        "registration_closes_at": None,
        "capacity": 200,
    }


def test_event_detail_unknown_slug_404(api):
    assert api.get("/api/events/no-such-event/").status_code == 404


# --- Schedule -------------------------------------------------------------------------------


def test_schedule_returns_sessions_in_utc_with_event_timezone(api):
    event = EventFactory(slug="neuro", timezone="America/Chicago")
    hall = HallFactory(name="Main Hall", slug="main")
    track = TrackFactory(event=event, name="Stroke", color="#ff0000")
    speaker = SpeakerFactory(event=event, name="Dr. Ada", credentials="MD", affiliation="Mayo")
    first = SessionFactory(
        event=event,
        title="Opening",
        hall=hall,
        track=track,
        starts_at=event_local(event, 0, 9),
        ends_at=event_local(event, 0, 10),
        is_cme_eligible=True,
    )
    first.speakers.add(speaker)
    second = SessionFactory(
        event=event,
        title="Lunch",
        kind="break",
        starts_at=event_local(event, 0, 12),
        ends_at=event_local(event, 0, 13),
    )
    SessionFactory(title="Elsewhere")  # another event's session must not appear

    response = api.get("/api/events/neuro/schedule/")

    assert response.status_code == 200
    assert response.json() == {
        "event": "neuro",
        "timezone": "America/Chicago",
        "sessions": [
            {
                "id": first.pk,
                "title": "Opening",
                "kind": "seminar",
                "starts_at": utc_iso(first.starts_at),
                "ends_at": utc_iso(first.ends_at),
                "hall": {"id": hall.pk, "name": "Main Hall", "slug": "main", "kind": "auditorium"},
                "track": {"id": track.pk, "name": "Stroke", "color": "#ff0000"},
                "speakers": [
                    {
                        "id": speaker.pk,
                        "name": "Dr. Ada",
                        "credentials": "MD",
                        "affiliation": "Mayo",
                    }
                ],
                "is_cme_eligible": True,
            },
            {
                "id": second.pk,
                "title": "Lunch",
                "kind": "break",
                "starts_at": utc_iso(second.starts_at),
                "ends_at": utc_iso(second.ends_at),
                "hall": None,
                "track": None,
                "speakers": [],
                "is_cme_eligible": False,
            },
        ],
    }


def test_schedule_times_are_utc_not_server_or_event_zone(api):
    event = EventFactory(slug="tz", timezone="Asia/Tokyo", start_date=dt.date(2030, 6, 1))
    SessionFactory(
        event=event,
        starts_at=dt.datetime(2030, 6, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=9))),
        ends_at=dt.datetime(2030, 6, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=9))),
    )
    session = api.get("/api/events/tz/schedule/").json()["sessions"][0]
    assert (session["starts_at"], session["ends_at"]) == (
        "2030-06-01T00:00:00Z",
        "2030-06-01T01:00:00Z",
    )


# --- Sessions and speakers ----------------------------------------------------------------------


def test_session_detail_includes_speakers_with_disclosures(api):
    event = EventFactory(slug="derm", timezone="Europe/Berlin")
    speaker = SpeakerFactory(event=event, name="Dr. Bo", credentials="PhD", bio="Skin.")
    DisclosureFactory(speaker=speaker, company="Zeta", relationship="stock", mitigated=True)
    DisclosureFactory(speaker=speaker, company="Acme", relationship="consultant")
    session = SessionFactory(
        event=event, title="Rashes", abstract="All about rashes.", designated_minutes=60
    )
    session.speakers.add(speaker)

    response = api.get(f"/api/sessions/{session.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": session.pk,
        "title": "Rashes",
        "kind": "seminar",
        "starts_at": utc_iso(session.starts_at),
        "ends_at": utc_iso(session.ends_at),
        "hall": None,
        "track": None,
        "speakers": [
            {
                "id": speaker.pk,
                "event": "derm",
                "name": "Dr. Bo",
                "credentials": "PhD",
                "affiliation": "",
                "bio": "Skin.",
                "has_nothing_to_disclose": False,
                "disclosure_signed_at": None,
                "disclosures": [
                    {
                        "company": "Acme",
                        "relationship": "consultant",
                        "relationship_display": "Consultant",
                        "details": "",
                        "mitigated": False,
                    },
                    {
                        "company": "Zeta",
                        "relationship": "stock",
                        "relationship_display": "Stock or ownership interest",
                        "details": "",
                        "mitigated": True,
                    },
                ],
            }
        ],
        "is_cme_eligible": False,
        "event": {
            "slug": "derm",
            "title": event.title,
            "timezone": "Europe/Berlin",
            "start_date": event.start_date.isoformat(),
            "end_date": event.end_date.isoformat(),
        },
        "abstract": "All about rashes.",
        "duration_minutes": 60,
        "designated_minutes": 60,
        "qa_moderation_required": False,
    }


def test_session_detail_of_unpublished_event_404(api):
    session = SessionFactory(event__is_published=False)
    assert api.get(f"/api/sessions/{session.pk}/").status_code == 404


def test_speaker_list_never_shows_email(api):
    SpeakerFactory(email="private@example.org", event__slug="ev")
    speaker = api.get("/api/speakers/").json()["results"][0]
    assert "email" not in speaker
    assert "user" not in speaker
    assert "private@example.org" not in str(speaker)


def test_speaker_list_filters_by_event(api):
    wanted = SpeakerFactory(event__slug="wanted")
    SpeakerFactory(event__slug="other")
    results = api.get("/api/speakers/?event=wanted").json()["results"]
    assert [item["id"] for item in results] == [wanted.pk]


def test_session_list_filters_by_event(api):
    wanted = SessionFactory(event__slug="wanted")
    SessionFactory(event__slug="other")
    results = api.get("/api/sessions/?event=wanted").json()["results"]
    assert [item["id"] for item in results] == [wanted.pk]


# --- Query counts: 1 item and 3 items cost the same ---------------------------------------------


def _rich_session(event, hour: int):
    speaker = SpeakerFactory(event=event)
    DisclosureFactory(speaker=speaker)
    DisclosureFactory(speaker=speaker, company="Beta")
    session = SessionFactory(
        event=event,
        hall=HallFactory(),
        track=TrackFactory(event=event),
        starts_at=event_local(event, 0, hour),
        ends_at=event_local(event, 0, hour + 1),
    )
    session.speakers.add(speaker, SpeakerFactory(event=event))
    return session


def _event_with_sessions(count: int):
    event = EventFactory()
    for hour in range(8, 8 + count):
        _rich_session(event, hour)
    return event


@pytest.mark.parametrize("count", [1, 3])
def test_event_list_query_count_constant(api, count):
    for _ in range(count):
        _event_with_sessions(1)
    queries, data = count_queries(api, "/api/events/")
    # count, page of events with organizer
    assert (data["count"], queries) == (count, 2)


@pytest.mark.parametrize("count", [1, 3])
def test_event_list_query_count_constant_for_staff(count):
    membership = MembershipFactory()
    for _ in range(count):
        EventFactory(organizer=membership.organizer, is_published=False)
        EventFactory()
    client = _client_for(membership.user)
    queries, data = count_queries(client, "/api/events/")
    # session + user, count, page
    assert (data["count"], queries) == (2 * count, 4)


@pytest.mark.parametrize("count", [1, 3])
def test_schedule_query_count_constant(api, count):
    event = _event_with_sessions(count)
    queries, data = count_queries(api, f"/api/events/{event.slug}/schedule/")
    # event, sessions with hall and track, speakers
    assert (len(data["sessions"]), queries) == (count, 3)


@pytest.mark.parametrize("count", [1, 3])
def test_session_list_query_count_constant(api, count):
    _event_with_sessions(count)
    queries, data = count_queries(api, "/api/sessions/")
    # count, sessions with event/hall/track, speakers with event, disclosures
    assert (data["count"], queries) == (count, 4)


@pytest.mark.parametrize("count", [1, 3])
def test_speaker_list_query_count_constant(api, count):
    _event_with_sessions(count)
    queries, data = count_queries(api, "/api/speakers/")
    # count, speakers with event, disclosures
    assert (data["count"], queries) == (2 * count, 3)
