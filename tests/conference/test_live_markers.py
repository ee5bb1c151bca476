""" "Live now", "Starting in N min" and "Join in the venue" on the programme, session pages and
the lobby, in the event's time zone."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from conference.services.schedule import LiveState, live_state
from tests.factories import EventFactory, RegistrationFactory, SessionFactory, UserFactory
from venues.demo import build_demo_venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    venue = build_demo_venue()
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
def sessions(event):
    moment = timezone.now().replace(second=0, microsecond=0)
    halls = {hall.slug: hall for hall in event.venue.halls.all()}
    live = SessionFactory(
        event=event,
        hall=halls["auditorium"],
        title="Live plenary",
        starts_at=moment - dt.timedelta(minutes=10),
        ends_at=moment + dt.timedelta(minutes=50),
    )
    soon = SessionFactory(
        event=event,
        hall=halls["seminar"],
        title="Soon seminar",
        starts_at=timezone.now() + dt.timedelta(minutes=12, seconds=30),
        ends_at=moment + dt.timedelta(minutes=70),
    )
    later = SessionFactory(
        event=event,
        hall=halls["auditorium"],
        title="Later plenary",
        starts_at=moment + dt.timedelta(hours=3),
        ends_at=moment + dt.timedelta(hours=4),
    )
    return live, soon, later


def test_live_state_boundaries():
    start = timezone.now()
    end = start + dt.timedelta(hours=1)
    assert live_state(start, end, now=start) == LiveState("live")
    assert live_state(start, end, now=end) == LiveState("")
    assert live_state(start, end, now=start - dt.timedelta(seconds=61)) == LiveState("soon", 2)
    assert live_state(start, end, now=start - dt.timedelta(minutes=30)) == LiveState("soon", 30)
    assert live_state(start, end, now=start - dt.timedelta(minutes=31)) == LiveState("")


def session_item(html: str, title: str) -> str:
    items = re.findall(r'<li id="session-\d+" class="session-item.*?</li>', html, flags=re.S)
    return next(item for item in items if title in item)


def test_programme_marks_live_and_soon_with_join_for_registered(client, event, sessions):
    client.force_login(RegistrationFactory(event=event).user)
    html = client.get(event.get_absolute_url()).content.decode()

    live_item = session_item(html, "Live plenary")
    assert "Live now" in live_item
    assert f'href="/events/{event.slug}/venue/auditorium/?join=1"' in live_item
    soon_item = session_item(html, "Soon seminar")
    assert "Starting in 13 min" in soon_item
    assert f'href="/events/{event.slug}/venue/seminar/?join=1"' in soon_item
    later_item = session_item(html, "Later plenary")
    assert "Live now" not in later_item
    assert "Starting in" not in later_item
    assert "Join in the venue" not in later_item


def test_programme_join_only_for_those_who_may_enter(client, event, sessions):
    html = client.get(event.get_absolute_url()).content.decode()
    assert "Live now" in session_item(html, "Live plenary")
    assert "Join in the venue" not in html

    client.force_login(UserFactory())
    assert "Join in the venue" not in client.get(event.get_absolute_url()).content.decode()


def test_session_page_live_with_join_and_hall_link(client, event, sessions):
    live, _, later = sessions
    client.force_login(RegistrationFactory(event=event).user)
    html = client.get(live.get_absolute_url()).content.decode()

    assert "Live now" in html
    assert f'<a class="button" href="/events/{event.slug}/venue/auditorium/?join=1">' in html
    assert f'<a href="/events/{event.slug}/venue/auditorium/">Main Auditorium</a>' in html
    # until the end, in the event's zone (America/Chicago)
    end = timezone.localtime(live.ends_at, event.tzinfo).strftime("%H:%M")
    assert f">{end}</time>" in html

    later_html = client.get(later.get_absolute_url()).content.decode()
    assert "Live now" not in later_html
    assert "Join in the venue" not in later_html


def test_lobby_lists_live_and_soon_with_join(client, event, sessions):
    client.force_login(RegistrationFactory(event=event).user)
    html = client.get(f"/events/{event.slug}/venue/").content.decode()
    panel = html[html.index('id="panel-session"') :]
    panel = panel[: panel.index("</section>")]

    assert "Live plenary" in panel
    assert f'href="/events/{event.slug}/venue/auditorium/?join=1"' in panel
    assert "Starting in 13 min" in panel
    assert "Soon seminar" in panel
    assert "Later plenary" not in panel
