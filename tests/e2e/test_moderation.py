"""Moderation people can trust, in headless Chromium on a real ASGI server: a moderator removes
an attendee after a confirmation with a duration, a reason and the CME effect; the attendee sees
why and until when, without the forms; the moderator lifts it; chat is hidden with the author
told; the asker follows their question in "My questions" up to a rejection with its reason."""

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


def open_hall(browser, base_url: str, user, errors: PageErrors):
    """The auditorium's page in the 2D view (a browser without WebGL: the panel is the same as
    in 3D, and the page is far lighter on a busy machine), once its live socket is connected."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies([{"name": "sessionid", "value": session_cookie(user), "url": base_url}])
    page = errors.attach(context.new_page())
    page.goto(f"{base_url}/events/live-congress/venue/auditorium/", timeout=60000)
    page.wait_for_function(
        "document.querySelector('.live-status')?.textContent.startsWith('Connected')",
        timeout=30000,
        polling=250,
    )
    return context, page


@pytest.fixture
def moderated_hall(transactional_db):
    venue, event = live_congress()
    moment = timezone.now()
    SessionFactory(
        event=event,
        hall=venue.halls.get(slug="auditorium"),
        title="Anticoagulation in atrial fibrillation",
        starts_at=moment - dt.timedelta(minutes=10),
        ends_at=moment + dt.timedelta(minutes=50),
        is_cme_eligible=True,
        qa_moderation_required=True,
    )
    return {
        "event": event,
        "ana": registered_person(event, "Dr. Ana Ruiz"),
        "mo": registered_person(event, "Mo Derator", role="moderator"),
    }


def test_remove_with_reason_see_why_and_lift(chromium_without_webgl, moderated_hall, screenshots):
    errors = PageErrors(websocket_expected=False)
    with daphne_processes(1) as (port,):
        base = f"http://127.0.0.1:{port}"
        mo_context, mo = open_hall(chromium_without_webgl, base, moderated_hall["mo"], errors)
        ana_context, ana = open_hall(chromium_without_webgl, base, moderated_hall["ana"], errors)
        mo.wait_for_selector(".live-people li:has-text('Dr. Ana Ruiz')", timeout=15000)

        # Nothing happens in one click: a dialog asks for the duration and a reason and shows
        # the CME effect first.
        mo.click("button[aria-label='Remove Dr. Ana Ruiz from this hall…']")
        dialog = mo.locator("dialog.live-dialog")
        dialog.wait_for(state="visible")
        effect = dialog.locator("#removal-effect")
        mo.wait_for_function(
            "document.querySelector('#removal-effect').textContent.includes('CME attendance')"
        )
        assert "up to 15 of the session's remaining" in effect.inner_text()
        mo.select_option("#removal-minutes", "30")
        mo.wait_for_function(
            "document.querySelector('#removal-effect').textContent.includes('up to 30')"
        )
        dialog.locator("button[type=submit]").click()
        assert dialog.is_visible()  # the reason is required
        mo.fill("#removal-reason", "Advertising in the chat")
        mo.screenshot(path=str(screenshots / "moderation-remove-dialog.png"))
        dialog.locator("button[type=submit]").click()
        dialog.wait_for(state="hidden")

        # The removed person sees why and until when, and no forms.
        removed = ana.locator(".live-removed")
        removed.wait_for(state="visible", timeout=10000)
        text = removed.inner_text()
        assert "A moderator removed you from this hall" in text
        assert "Reason: Advertising in the chat" in text
        assert "(in 30 min)" in text
        assert not ana.locator("#qa-form").is_visible()
        assert not ana.locator("#chat-form").is_visible()
        ana.screenshot(path=str(screenshots / "moderation-removed-attendee.png"))

        # The moderator sees the removal and lifts it; the person may come back at once.
        row = mo.locator(".live-removals-list li:has-text('Dr. Ana Ruiz')")
        row.wait_for(timeout=10000)
        assert "active" in row.inner_text()
        assert "Advertising in the chat" in row.inner_text()
        mo.locator("#panel-people").screenshot(path=str(screenshots / "moderation-removals.png"))
        row.locator("button:has-text('Lift')").click()
        mo.fill("#lift-reason", "Talked it through")
        dialog.locator("button[type=submit]").click()
        mo.wait_for_selector(
            ".live-removals-list li.is-lifted:has-text('Dr. Ana Ruiz')", timeout=10000
        )

        ana.click(".live-removed button:has-text('Try again')")
        ana.locator("#chat-form").wait_for(state="visible", timeout=10000)
        assert not removed.is_visible()

        # Chat: the moderator hides a message; it goes for everyone and its author is told.
        ana.fill("#chat-text", "Buy cheap watches at example.test")
        ana.press("#chat-text", "Enter")
        message = mo.locator(".live-chat li:has-text('Buy cheap watches')")
        message.wait_for(timeout=10000)
        message.locator("button.chat-hide").click()
        mo.fill("#hide-reason", "No advertising, please")
        dialog.locator("button[type=submit]").click()
        message.wait_for(state="detached", timeout=10000)
        notice = ana.locator(".live-chat-notice")
        notice.wait_for(state="visible", timeout=10000)
        assert "No advertising, please" in notice.inner_text()
        ana.locator(".live-chat li:has-text('Buy cheap watches')").wait_for(state="detached")

        # My questions: pending, then rejected with the reason.
        ana.fill("#qa-text", "Which DOAC in CKD stage 4?")
        ana.click("#qa-form button[type=submit]")
        mine = ana.locator(".live-mine-list li:has-text('Which DOAC')")
        mine.wait_for(timeout=10000)
        assert "Waiting for the moderator" in mine.text_content()
        pending = mo.locator(".live-pending li:has-text('Which DOAC')")
        pending.wait_for(timeout=10000)
        pending.locator("button:has-text('Reject')").click()
        mo.fill("#reject-reason", "Answered in the talk already")
        dialog.locator("button[type=submit]").click()
        ana.wait_for_selector(
            ".live-mine-list li.is-rejected:has-text('Reason: Answered in the talk already')",
            timeout=10000,
        )
        assert "Not accepted by the moderator" in mine.text_content()
        ana.locator("#panel-qa").screenshot(path=str(screenshots / "my-questions.png"))
        ana.locator("#panel-chat").screenshot(path=str(screenshots / "chat-hidden-notice.png"))
        mo_context.close()
        ana_context.close()
    assert errors == []


def test_keyword_filter_holds_chat_for_review(chromium_without_webgl, moderated_hall, screenshots):
    event = moderated_hall["event"]
    event.moderation_keywords = "casino\nbuy now"
    event.save()
    errors = PageErrors(websocket_expected=False)
    with daphne_processes(1) as (port,):
        base = f"http://127.0.0.1:{port}"
        mo_context, mo = open_hall(chromium_without_webgl, base, moderated_hall["mo"], errors)
        ana_context, ana = open_hall(chromium_without_webgl, base, moderated_hall["ana"], errors)
        ana.locator("#chat-form").wait_for(state="visible", timeout=15000)
        ana.fill("#chat-text", "Join us at the Casino tonight")
        ana.press("#chat-text", "Enter")
        notice = ana.locator(".live-chat-notice")
        notice.wait_for(state="visible", timeout=10000)
        assert "waits for a moderator's review" in notice.inner_text()

        held = mo.locator(".live-held-list li:has-text('Casino tonight')")
        held.wait_for(timeout=10000)
        assert "Contains “casino”" in held.inner_text()
        assert mo.locator(".live-chat li:has-text('Casino tonight')").count() == 0
        mo.locator("#panel-chat").screenshot(path=str(screenshots / "moderation-held-chat.png"))
        held.locator("button:has-text('Show to everyone')").click()
        mo.locator(".live-chat li:has-text('Casino tonight')").wait_for(timeout=10000)
        held.wait_for(state="detached")
        ana.locator(".live-chat li:has-text('Casino tonight')").wait_for(timeout=10000)
        mo_context.close()
        ana_context.close()
    assert errors == []
