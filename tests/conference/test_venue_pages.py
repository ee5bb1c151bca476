"""The venue pages: who may enter, and the server-rendered 2D twin that works without JS."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from conference.models import RegistrationStatus
from tests.factories import (
    EventFactory,
    MembershipFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    UserFactory,
)
from venues.demo import build_demo_venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def venue():
    return build_demo_venue()


@pytest.fixture
def event(venue):
    event = EventFactory(
        title="Cardiology Congress",
        timezone="America/Chicago",
        start_date=timezone.now().date() - dt.timedelta(days=1),
        end_date=timezone.now().date() + dt.timedelta(days=1),
        venue=venue,
    )
    event.organizer.venues.add(venue)
    return event


@pytest.fixture
def plenary(event, venue):
    moment = timezone.now().replace(second=0, microsecond=0)
    session = SessionFactory(
        event=event,
        hall=venue.halls.get(slug="auditorium"),
        title="Heart failure guidelines",
        starts_at=moment - dt.timedelta(minutes=10),
        ends_at=moment + dt.timedelta(minutes=50),
    )
    session.speakers.set([SpeakerFactory(event=event, name="Dr. Amara Okafor", credentials="MD")])
    return session


@pytest.fixture
def attendee(event):
    return RegistrationFactory(event=event).user


def _lobby(event):
    return reverse("venue:lobby", kwargs={"event_slug": event.slug})


def _hall(event, slug):
    if slug == "lobby":  # the lobby has one address, the venue's own
        return reverse("venue:lobby", kwargs={"event_slug": event.slug})
    return reverse("venue:hall", kwargs={"event_slug": event.slug, "hall_slug": slug})


def test_lobby_anonymous_redirects_to_login(client, event):
    response = client.get(_lobby(event))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={_lobby(event)}"


def test_lobby_unregistered_user_is_forbidden_with_clear_page(client, event):
    client.force_login(UserFactory())

    response = client.get(_lobby(event))

    assert response.status_code == 403
    assert "Registration needed to enter the venue" in response.content.decode()
    assert event.get_absolute_url() in response.content.decode()


def test_lobby_cancelled_registration_is_forbidden(client, event):
    registration = RegistrationFactory(event=event, status=RegistrationStatus.CANCELLED)
    client.force_login(registration.user)

    assert client.get(_lobby(event)).status_code == 403


def test_lobby_registered_attendee_sees_every_hall_and_the_panels(client, event, attendee):
    client.force_login(attendee)

    response = client.get(_lobby(event))

    assert response.status_code == 200
    html = response.content.decode()
    halls = list(response.context["halls"])
    assert [h.slug for h in halls] == ["lobby", "auditorium", "seminar", "posters"]
    for hall in halls:
        assert f'href="{_hall(event, hall.slug)}"' in html
    for region in ("panel-session", "panel-qa", "panel-people", "panel-chat"):
        assert f'id="{region}"' in html
    assert "Live Q&amp;A will appear here" in html
    assert response.context["is_lobby"] is True


def test_lobby_embeds_the_same_manifest_as_the_api(client, event, attendee, plenary):
    client.force_login(attendee)

    page = client.get(_lobby(event))
    api = client.get(reverse("venue-api:manifest", kwargs={"event_slug": event.slug}))

    embedded = page.context["manifest"]
    served = api.json()
    assert {k: v for k, v in embedded.items() if k != "generated_at"} == {
        k: v for k, v in served.items() if k != "generated_at"
    }
    assert 'id="venue-manifest" type="application/json"' in page.content.decode()


def test_lobby_twin_shows_now_in_event_time_zone(client, event, attendee, plenary):
    client.force_login(attendee)

    html = client.get(_lobby(event)).content.decode()

    local = timezone.localtime(plenary.starts_at, event.tzinfo).strftime("%H:%M")
    assert "Heart failure guidelines" in html
    assert f'href="{plenary.get_absolute_url()}"' in html
    assert local in html
    assert "Dr. Amara Okafor, MD" in html


def test_hall_page_shows_its_session_and_portal_back_to_lobby(client, event, attendee, plenary):
    client.force_login(attendee)

    response = client.get(_hall(event, "auditorium"))

    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["hall"].name == "Main Auditorium"
    assert response.context["hall"].now.title == "Heart failure guidelines"
    assert response.context["hall"].portals == [
        {"label": "To the lobby", "url": _hall(event, "lobby")}
    ]
    assert response.context["hall"].seats == 400
    assert 'data-hall="auditorium"' in html
    assert "<svg" in html


def test_hall_page_unknown_hall_is_404(client, event, attendee):
    client.force_login(attendee)

    assert client.get(_hall(event, "no-such-hall")).status_code == 404


def test_lobby_organizer_staff_enter_unpublished_event_without_registration(client, event):
    event.is_published = False
    event.save()
    staff = MembershipFactory(organizer=event.organizer).user
    client.force_login(staff)

    assert client.get(_lobby(event)).status_code == 200


def test_lobby_unpublished_event_is_404_for_registered_attendee(client, event, attendee):
    event.is_published = False
    event.save()
    client.force_login(attendee)

    assert client.get(_lobby(event)).status_code == 404


def test_lobby_event_without_venue_explains_itself(client, attendee, event):
    event.venue = None
    event.save()
    client.force_login(attendee)

    response = client.get(_lobby(event))

    assert response.status_code == 404
    assert "This event has no venue yet" in response.content.decode()


def test_hall_map_is_svg_with_portal_links(client, event, attendee):
    client.force_login(attendee)
    url = reverse("venue:hall-map", kwargs={"event_slug": event.slug, "hall_slug": "lobby"})

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    svg = response.content.decode()
    for slug in ("auditorium", "seminar", "posters"):
        assert f'href="{_hall(event, slug)}"' in svg


def test_hall_map_requires_registration(client, event):
    client.force_login(UserFactory())
    url = reverse("venue:hall-map", kwargs={"event_slug": event.slug, "hall_slug": "lobby"})

    assert client.get(url).status_code == 403


def test_lobby_post_is_not_allowed(client, event, attendee):
    client.force_login(attendee)

    assert client.post(_lobby(event)).status_code == 405


def test_lobby_manifest_script_is_valid_json(client, event, attendee):
    client.force_login(attendee)
    html = client.get(_lobby(event)).content.decode()

    start = html.index('id="venue-manifest" type="application/json">') + len(
        'id="venue-manifest" type="application/json">'
    )
    data = json.loads(html[start : html.index("</script>", start)])

    assert data["lobby"] == "lobby"
    assert data["event"]["timezone"] == "America/Chicago"
