"""Two attendees in headless Chromium, on a real ASGI server, see each other live."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.e2e.conftest import VIEWPORT, PageErrors, live_congress, registered_person
from tests.factories import (
    SessionFactory,
)
from tests.live.conftest import session_cookie
from tests.live.servers import daphne_processes

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def hall_party(transactional_db):
    venue, event = live_congress()
    moment = timezone.now()
    SessionFactory(
        event=event,
        hall=venue.halls.get(slug="auditorium"),
        title="Anticoagulation in atrial fibrillation",
        starts_at=moment - dt.timedelta(minutes=10),
        ends_at=moment + dt.timedelta(minutes=50),
    )
    return {
        "event": event,
        "ana": registered_person(event, "Dr. Ana Ruiz"),
        "ben": registered_person(event, "Ben Okoro"),
    }


def open_hall(browser, base_url: str, user, errors: PageErrors):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies([{"name": "sessionid", "value": session_cookie(user), "url": base_url}])
    page = errors.attach(context.new_page())
    page.goto(f"{base_url}/events/live-congress/venue/auditorium/")
    page.wait_for_function("document.body.dataset.venueReady === '1'", timeout=30000)
    return context, page


def test_two_attendees_see_each_others_avatar_and_question(chromium, hall_party):
    errors = PageErrors(websocket_expected=False)
    with daphne_processes(1) as (port,):
        base = f"http://127.0.0.1:{port}"
        ana_context, ana = open_hall(chromium, base, hall_party["ana"], errors)
        ben_context, ben = open_hall(chromium, base, hall_party["ben"], errors)
        for page in (ana, ben):
            page.wait_for_selector(".live-people li:nth-child(2)", timeout=15000)
        assert sorted(ben.locator(".live-people .person-name").all_inner_texts()) == [
            "Ben Okoro",
            "Dr. Ana Ruiz",
        ]

        ana.evaluate("window.medvenue.venue.walkTo(2, 6)")
        ben.wait_for_function(
            "window.medvenue.venue.visibleLabels().some((l) => l.includes('Dr. Ana Ruiz'))",
            timeout=15000,
        )

        ana.fill("#qa-text", "Which DOAC in <b>CKD</b> stage 4?")
        ana.click("#qa-form button[type=submit]")
        question = ben.locator(".live-questions .question-text")
        question.wait_for(timeout=10000)
        assert question.inner_text() == "Which DOAC in <b>CKD</b> stage 4?"
        ben.click(".live-questions button:has-text('Upvote')")
        ana.wait_for_selector(".live-questions .question-meta:has-text('1 vote')", timeout=10000)

        ben.fill("#chat-text", "Good question!")
        ben.press("#chat-text", "Enter")
        ana.wait_for_selector(".live-chat .chat-text:has-text('Good question!')", timeout=10000)
        ana_context.close()
        ben_context.close()
    assert errors == []
