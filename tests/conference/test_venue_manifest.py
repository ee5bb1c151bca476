import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conference.models import RegistrationStatus
from tests.factories import (
    EventFactory,
    MembershipFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
)
from tests.venues.conftest import PlacementFactory, ZoneFactory, make_venue_with_lobby
from venues.models import PlacementKind, ZoneKind
from venues.services import publish_layout

pytestmark = pytest.mark.django_db


def berlin(moment) -> str:
    """The zone's letters, not ICU's "GMT+1": what the session pages print after the times."""
    zone = moment.astimezone(ZoneInfo("Europe/Berlin")).tzname()
    assert zone in {"CET", "CEST"}
    return zone


def _url(event) -> str:
    return f"/api/events/{event.slug}/venue/"


def _venue_event(*, halls: int = 1, **event_kwargs):
    venue, lobby, others = make_venue_with_lobby(halls=halls)
    publish_layout(venue)
    event = EventFactory(venue=venue, **event_kwargs)
    return event, lobby, others


@pytest.fixture
def attendee_client(client, user):
    client.force_login(user)
    return client


def _register(user, event):
    return RegistrationFactory(user=user, event=event)


def test_venue_manifest_shape_and_values(attendee_client, user):
    venue, lobby, (hall,) = make_venue_with_lobby()
    hall.description = "Plenary hall"
    hall.save()
    stage = PlacementFactory(hall=hall, label="Stage", z=-5, width=10, depth=4)
    zone = ZoneFactory(
        hall=hall,
        kind=ZoneKind.PODIUM,
        label="Podium",
        polygon=[[-5, -7], [5, -7], [5, -3], [-5, -3]],
        props={},
    )
    publish_layout(venue)
    event = EventFactory(venue=venue, slug="cardio", title="Cardio 2026", timezone="Europe/Berlin")
    now = timezone.now()
    on_now = SessionFactory(
        event=event,
        hall=hall,
        title="Heart failure update",
        starts_at=now - dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(minutes=30),
        stream_url="https://stream.example.org/hf.m3u8",
    )
    on_now.speakers.add(SpeakerFactory(event=event, name="Dr. Ada Obi", credentials="MD"))
    upcoming = SessionFactory(
        event=event,
        hall=hall,
        title="Valve disease",
        starts_at=now + dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=2),
    )
    SessionFactory(  # later still: must not be "next"
        event=event,
        hall=hall,
        starts_at=now + dt.timedelta(hours=3),
        ends_at=now + dt.timedelta(hours=4),
    )
    _register(user, event)
    lobby_portal = lobby.placements.get()
    hall_portal = hall.placements.get(kind=PlacementKind.PORTAL)

    response = attendee_client.get(_url(event))

    assert response.status_code == 200
    data = response.json()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data.pop("generated_at"))

    def utc(value):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    portal = {"yaw": 0.0, "width": 3.0, "depth": 0.5, "height": 3.0, "z": -9.5}
    assert data == {
        "manifest_version": 1,
        "venue": {"id": venue.pk, "slug": venue.slug, "name": venue.name, "layout_version": 1},
        "event": {"slug": "cardio", "title": "Cardio 2026", "timezone": "Europe/Berlin"},
        "lobby": "lobby",
        "halls": [
            {
                "id": hall.pk,
                "slug": hall.slug,
                "name": hall.name,
                "kind": "auditorium",
                "width": 30.0,
                "depth": 20.0,
                "boundary": [[-15.0, -10.0], [15.0, -10.0], [15.0, 10.0], [-15.0, 10.0]],
                "capacity": 500,
                "description": "Plenary hall",
                "shell_url": None,
                "page_url": f"/events/cardio/venue/{hall.slug}/",
                "map_url": f"/events/cardio/venue/{hall.slug}/map.svg",
                "placements": [
                    {
                        "id": hall_portal.pk,
                        "kind": "portal",
                        "label": "To Lobby",
                        "x": 0.0,
                        **portal,
                        "props": {"target_hall": "lobby"},
                    },
                    {
                        "id": stage.pk,
                        "kind": "stage",
                        "label": "Stage",
                        "x": 0.0,
                        "z": -5.0,
                        "yaw": 0.0,
                        "width": 10.0,
                        "depth": 4.0,
                        "height": 1.0,
                        "props": {},
                    },
                ],
                "zones": [
                    {
                        "id": zone.pk,
                        "kind": "podium",
                        "label": "Podium",
                        "polygon": [[-5.0, -7.0], [5.0, -7.0], [5.0, -3.0], [-5.0, -3.0]],
                        "props": {"roles": ["moderator", "speaker", "staff"]},
                    }
                ],
                "now": {
                    "id": on_now.pk,
                    "title": "Heart failure update",
                    "starts_at": utc(on_now.starts_at),
                    "ends_at": utc(on_now.ends_at),
                    "zone": berlin(on_now.starts_at),
                    "speakers": ["Dr. Ada Obi, MD"],
                    "stream_url": "https://stream.example.org/hf.m3u8",
                    "page_url": f"/events/cardio/sessions/{on_now.pk}/",
                },
                "next": {
                    "id": upcoming.pk,
                    "title": "Valve disease",
                    "starts_at": utc(upcoming.starts_at),
                    "ends_at": utc(upcoming.ends_at),
                    "zone": berlin(upcoming.starts_at),
                    "speakers": [],
                    "stream_url": "",
                    "page_url": f"/events/cardio/sessions/{upcoming.pk}/",
                },
            },
            {
                "id": lobby.pk,
                "slug": "lobby",
                "name": "Lobby",
                "kind": "lobby",
                "width": 30.0,
                "depth": 20.0,
                "boundary": [[-15.0, -10.0], [15.0, -10.0], [15.0, 10.0], [-15.0, 10.0]],
                "capacity": 500,
                "description": "",
                "shell_url": None,
                "page_url": "/events/cardio/venue/",
                "map_url": "/events/cardio/venue/lobby/map.svg",
                "placements": [
                    {
                        "id": lobby_portal.pk,
                        "kind": "portal",
                        "label": f"To {hall.name}",
                        "x": -12.0,
                        **portal,
                        "props": {"target_hall": hall.slug},
                    }
                ],
                "zones": [],
                "now": None,
                "next": None,
            },
        ],
    }
    assert response["Cache-Control"] == "private, max-age=15"


def _count_queries(client, event) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_url(event)).status_code == 200
    return len(queries)


def _busy_event(user, halls: int):
    event, lobby, others = _venue_event(halls=halls)
    now = timezone.now()
    for hall in [lobby, *others]:
        PlacementFactory.create_batch(2, hall=hall, kind=PlacementKind.SPAWN, width=1, depth=1)
        for hours in (0, 2):
            session = SessionFactory(
                event=event,
                hall=hall,
                starts_at=now + dt.timedelta(hours=hours, minutes=-10),
                ends_at=now + dt.timedelta(hours=hours, minutes=50),
            )
            session.speakers.add(*SpeakerFactory.create_batch(2, event=event))
    publish_layout(event.venue)
    _register(user, event)
    return event


def test_venue_manifest_query_count_constant(attendee_client, user):
    small = _count_queries(attendee_client, _busy_event(user, halls=1))
    large = _count_queries(attendee_client, _busy_event(user, halls=3))

    assert small == large
    assert small <= 10


def test_venue_manifest_etag_and_not_modified(attendee_client, user):
    event, lobby, _ = _venue_event()
    _register(user, event)

    first = attendee_client.get(_url(event))
    etag = first["ETag"]
    cached = attendee_client.get(_url(event), HTTP_IF_NONE_MATCH=etag)
    PlacementFactory(hall=lobby, kind=PlacementKind.SPAWN, label="Door", width=1, depth=1)
    unpublished = attendee_client.get(_url(event), HTTP_IF_NONE_MATCH=etag)
    publish_layout(event.venue)
    republished = attendee_client.get(_url(event), HTTP_IF_NONE_MATCH=etag)

    assert (first.status_code, cached.status_code) == (200, 304)
    assert cached.content == b""
    assert (cached["ETag"], cached["Cache-Control"]) == (etag, "private, max-age=15")
    assert unpublished.status_code == 304
    assert republished.status_code == 200
    assert republished["ETag"] != etag
    assert republished.json()["venue"]["layout_version"] == 2


def test_venue_manifest_etag_changes_when_session_starts(attendee_client, user):
    event, lobby, _ = _venue_event()
    _register(user, event)
    etag = attendee_client.get(_url(event))["ETag"]
    now = timezone.now()
    SessionFactory(
        event=event,
        hall=lobby,
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=1),
    )

    response = attendee_client.get(_url(event), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    lobby_data = next(h for h in response.json()["halls"] if h["slug"] == "lobby")
    assert lobby_data["now"]["id"] == event.sessions.get().pk


def test_venue_manifest_anonymous_is_401(client):
    event, _, _ = _venue_event()

    response = client.get(_url(event))

    assert response.status_code == 401
    assert response.json() == {"detail": "Log in to enter the venue.", "code": "not_authenticated"}


def test_venue_manifest_registered_for_another_event_is_403(attendee_client, user):
    event, _, _ = _venue_event()
    other = EventFactory(venue=event.venue)
    _register(user, other)

    response = attendee_client.get(_url(event))

    assert attendee_client.get(_url(other)).status_code == 200
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Register for this event to enter its venue.",
        "code": "not_registered",
    }


def test_venue_manifest_cancelled_registration_is_403(attendee_client, user):
    event, _, _ = _venue_event()
    RegistrationFactory(user=user, event=event, status=RegistrationStatus.CANCELLED)

    assert attendee_client.get(_url(event)).status_code == 403


def test_venue_manifest_unknown_event_is_404(attendee_client):
    response = attendee_client.get("/api/events/no-such-event/venue/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No event matches this address.", "code": "not_found"}


def test_venue_manifest_unpublished_event_is_404_for_attendees(attendee_client, user, client):
    event, _, _ = _venue_event(is_published=False)
    _register(user, event)

    assert attendee_client.get(_url(event)).status_code == 404
    client.logout()
    assert client.get(_url(event)).status_code == 404


def test_venue_manifest_event_without_venue_is_404_with_message(attendee_client, user):
    event = EventFactory(venue=None)
    _register(user, event)

    response = attendee_client.get(_url(event))

    assert response.status_code == 404
    assert response.json() == {
        "detail": "This event has no venue yet; check back later.",
        "code": "no_venue",
    }


def test_venue_manifest_organizer_staff_may_preview_draft(client, user):
    event, lobby, _ = _venue_event(is_published=False)
    staff = MembershipFactory(organizer=event.organizer).user
    _register(user, event)
    PlacementFactory(hall=lobby, kind=PlacementKind.SPAWN, label="Door", width=1, depth=1)

    def lobby_labels(response):
        data = response.json()
        lobby_data = next(h for h in data["halls"] if h["slug"] == "lobby")
        return [p["label"] for p in lobby_data["placements"]]

    client.force_login(staff)
    published = client.get(_url(event))
    draft = client.get(_url(event) + "?draft=1")

    assert published.status_code == 200
    assert "Door" not in lobby_labels(published)
    assert "Door" in lobby_labels(draft)


def test_venue_manifest_attendee_cannot_see_draft(attendee_client, user):
    event, lobby, _ = _venue_event()
    _register(user, event)
    PlacementFactory(hall=lobby, kind=PlacementKind.SPAWN, label="Door", width=1, depth=1)

    data = attendee_client.get(_url(event) + "?draft=1").json()

    lobby_data = next(h for h in data["halls"] if h["slug"] == "lobby")
    assert "Door" not in [p["label"] for p in lobby_data["placements"]]


def test_venue_manifest_unpublished_draft_with_bad_data_still_serves(attendee_client, user):
    venue, lobby, _ = make_venue_with_lobby()
    PlacementFactory(
        hall=lobby, kind=PlacementKind.SEAT_BLOCK, label="Broken", props={"rows": "many"}
    )
    ZoneFactory(hall=lobby, label="Bad zone", polygon=[[0, 0], [1, 1]])
    event = EventFactory(venue=venue)
    _register(user, event)

    response = attendee_client.get(_url(event))

    data = response.json()
    lobby_data = next(h for h in data["halls"] if h["slug"] == "lobby")
    assert response.status_code == 200
    assert data["venue"]["layout_version"] == 0
    assert [p["props"] for p in lobby_data["placements"] if p["label"] == "Broken"] == [
        {"rows": "many"}
    ]
    assert lobby_data["zones"] == []
