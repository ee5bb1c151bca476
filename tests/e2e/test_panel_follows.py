"""The hall panel follows the programme (issue 17, rough edges): the lobby offers no Q&A for a
break, and a hall's panel switches from "Next at" (questions ahead) to the session on now when
it starts, without a reload."""

import datetime as dt

import pytest
from django.utils import timezone

from conference.models import SessionKind
from tests.e2e.conftest import VIEWPORT, PageErrors, live_congress, registered_person
from tests.factories import (
    SessionFactory,
)
from tests.live.conftest import session_cookie
from tests.live.servers import daphne_processes

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def programme(transactional_db):
    venue, event = live_congress()
    moment = timezone.now()
    SessionFactory(
        event=event,
        hall=venue.halls.get(slug="lobby"),
        title="Coffee break and exhibits",
        kind=SessionKind.BREAK,
        starts_at=moment + dt.timedelta(minutes=10),
        ends_at=moment + dt.timedelta(minutes=40),
    )
    SessionFactory(
        event=event,
        hall=venue.halls.get(slug="auditorium"),
        title="Lipids in 2026",
        starts_at=moment + dt.timedelta(seconds=40),
        ends_at=moment + dt.timedelta(minutes=60),
    )
    return {"event": event, "user": registered_person(event, "Dr. Ana Ruiz")}


def test_lobby_break_has_no_qa_and_the_hall_follows_its_session(chromium_without_webgl, programme):
    errors = PageErrors(websocket_expected=False)
    with daphne_processes(1) as (port,):
        base = f"http://127.0.0.1:{port}"
        context = chromium_without_webgl.new_context(viewport=VIEWPORT)  # the panel as in 3D
        cookie = session_cookie(programme["user"])
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
        page = errors.attach(context.new_page())

        page.goto(f"{base}/events/live-congress/venue/auditorium/", timeout=60000)
        page.wait_for_function(
            "document.querySelector('.live-status')?.textContent.startsWith('Next at')",
            timeout=30000,
            polling=250,
        )
        assert page.locator("#qa-form").is_visible()  # questions ahead of the start
        assert not page.locator(".live-reactions").is_visible()
        # When the session starts, the panel follows without a reload.
        page.wait_for_function(
            "document.querySelector('.live-status')?.textContent === 'Connected · Lipids in 2026'",
            timeout=60000,
            polling=250,
        )
        assert page.locator(".live-reactions").is_visible()
        page.goto(f"{base}/events/live-congress/venue/", timeout=60000)
        page.wait_for_function(
            "document.querySelector('.live-status')?.textContent.includes('a break, no Q&A')",
            timeout=30000,
            polling=250,
        )
        assert not page.locator("#qa-form").is_visible()
        assert not page.locator(".live-reactions").is_visible()
        assert page.locator("#chat-form").is_visible()  # the lobby's chat stays open

        context.close()
    assert errors == []
