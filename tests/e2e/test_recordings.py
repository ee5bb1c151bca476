"""Watching a recording in headless Chromium: hls.js plays it, chapters seek, captions listed."""

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse

from conference.models import WatchProgress, WatchSpan
from tests.e2e.conftest import PageErrors, _launch, _logged_in_context
from tests.factories import EventFactory, RegistrationFactory, SessionFactory
from tests.support.recording import needs_ffmpeg
from tests.support.recording_watch import event_in_demo_venue, publish_test_recording

pytestmark = [pytest.mark.browser, needs_ffmpeg]

TIMEOUT = 60_000
CHAPTERS = ((0.0, "Welcome and objectives"), (5.0, "Case discussion"), (10.0, "Take-home points"))
SECONDS = 20


def _settled_time(page, selector: str) -> float:
    """currentTime of a paused video once it has stopped moving (the media pipeline can report
    a few hundred ms more right after pause() before it settles on the frame shown)."""
    read = f"document.querySelector('{selector}').currentTime"
    previous = page.evaluate(read)
    for _ in range(20):
        page.wait_for_timeout(100)
        current = page.evaluate(read)
        if current == previous:
            return current
        previous = current
    return previous


@pytest.fixture(scope="module")
def chromium_autoplay(playwright_driver, bundle):
    browser = _launch(playwright_driver, ["--autoplay-policy=no-user-gesture-required"])
    yield browser
    browser.close()


def _leave(page):
    """Leave the page while the test database is still there for its last (beacon) heartbeat."""
    page.goto("about:blank")
    page.wait_for_timeout(1000)


@pytest.fixture
def watching(transactional_db, settings, tmp_path):
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    event = EventFactory(slug="cardiology-2026", title="Cardiology Congress 2026")
    session = SessionFactory(event=event, title="Heart failure in 2026: what changed")
    recording = publish_test_recording(session, seconds=SECONDS, chapters=CHAPTERS)
    user = RegistrationFactory(event=event).user
    return {"event": event, "recording": recording, "user": user}


@pytest.fixture
def player_page(chromium_autoplay, live_server, watching):
    errors = PageErrors(websocket_expected=False)
    context = _logged_in_context(chromium_autoplay, live_server, watching["user"])
    page = errors.attach(context.new_page())
    yield page, errors
    context.close()


def test_recording_plays_seeks_by_chapter_and_lists_captions(
    player_page, live_server, watching, screenshots, axe
):
    page, errors = player_page
    recording, user = watching["recording"], watching["user"]
    url = reverse("recordings:detail", kwargs={"recording_id": recording.pk})
    page.goto(f"{live_server.url}{url}")
    page.wait_for_function("window.medvenue && window.medvenue.player", timeout=TIMEOUT)

    page.click("#player-toggle")
    page.wait_for_function(
        "document.getElementById('player-video').currentTime > 2", timeout=TIMEOUT
    )
    assert page.evaluate("document.getElementById('player-video').paused") is False

    page.click("button.chapter >> text=Take-home points")
    page.wait_for_function(
        "document.getElementById('player-video').currentTime >= 10", timeout=TIMEOUT
    )
    page.wait_for_selector(
        "button.chapter[aria-current='true'][data-start='10.000']", timeout=TIMEOUT
    )
    assert page.locator("button.chapter[aria-current='true']").count() == 1

    tracks = page.evaluate(
        "[...document.getElementById('player-video').textTracks]"
        ".map((t) => [t.kind, t.language, t.label])"
    )
    assert ["captions", "en", "English"] in tracks
    assert ["captions", "es", "Español"] in tracks
    page.select_option("#player-captions", "en")
    modes = page.evaluate(
        "Object.fromEntries([...document.getElementById('player-video').textTracks]"
        ".map((t) => [t.language, t.mode]))"
    )
    assert modes == {"en": "showing", "es": "disabled"}

    # Keyboard: focus the video, K pauses, ArrowLeft goes back 5 s.
    page.focus("#player-video")
    page.keyboard.press("k")
    page.wait_for_function("document.getElementById('player-video').paused")
    before = _settled_time(page, "#player-video")
    page.keyboard.press("ArrowLeft")
    after = page.evaluate("document.getElementById('player-video').currentTime")
    assert after == pytest.approx(max(before - 5, 0), abs=0.3)
    page.keyboard.press("c")
    assert page.evaluate(
        "[...document.getElementById('player-video').textTracks].every((t) => t.mode !== 'showing')"
    )
    assert page.input_value("#player-captions") == ""

    # Pausing sent the played spans: the server kept them as evidence.
    page.wait_for_function("window.medvenue.player.heartbeats.sent > 0", timeout=TIMEOUT)
    page.wait_for_timeout(500)
    assert WatchSpan.objects.filter(recording=recording, user=user).exists()
    progress = WatchProgress.objects.get(recording=recording, user=user)
    assert float(progress.watched_seconds) > 1

    page.screenshot(path=str(Path(screenshots) / "recording-on-demand.png"), full_page=True)
    assert axe(page) == []
    _leave(page)
    assert errors == []


@pytest.fixture
def hall_after_session(transactional_db, settings, tmp_path):
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    venue, event, moment = event_in_demo_venue(
        slug="cardiology-2026", title="Cardiology Congress 2026"
    )
    session = SessionFactory(
        event=event,
        hall=venue.halls.get(slug="auditorium"),
        title="Heart failure in 2026: what changed",
        starts_at=moment - dt.timedelta(hours=2),
        ends_at=moment - dt.timedelta(hours=1),
    )
    recording = publish_test_recording(session, seconds=SECONDS, chapters=CHAPTERS)
    user = RegistrationFactory(event=event).user
    url = reverse("venue:hall", kwargs={"event_slug": event.slug, "hall_slug": "auditorium"})
    return {"recording": recording, "user": user, "url": url}


def test_hall_screen_plays_the_recording_after_the_session(
    chromium_autoplay, live_server, hall_after_session, screenshots, axe
):
    errors = PageErrors()
    context = _logged_in_context(chromium_autoplay, live_server, hall_after_session["user"])
    page = errors.attach(context.new_page())
    try:
        page.goto(f"{live_server.url}{hall_after_session['url']}")
        page.wait_for_function("document.body.dataset.venueReady === '1'", timeout=90_000)
        page.wait_for_function(
            "document.getElementById('hall-recording').currentTime > 1", timeout=TIMEOUT
        )
        page.wait_for_function(
            "window.medvenue.venue.screenSource() === 'recording'", timeout=TIMEOUT
        )
        assert page.is_visible("#hall-recording")
        link = page.get_attribute("#hall-recording-slot a", "href")
        assert link == reverse(
            "recordings:detail", kwargs={"recording_id": hall_after_session["recording"].pk}
        )
        # The autoplaying recording has its chapters and captions in the panel too.
        assert page.locator("#hall-recording-chapters .chapter").count() == len(CHAPTERS)
        assert page.evaluate("document.querySelectorAll('#hall-recording track').length") == 2
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(screenshots) / "recording-in-hall.png"))
        assert axe(page) == []
        _leave(page)
        assert errors == []
    finally:
        context.close()


# --- "Recordings from this hall" while a session is live ---------------------------------------


@pytest.fixture
def hall_with_live_session(transactional_db, settings, tmp_path):
    """The seminar hall: a session is live now, and the earlier "ECG pitfalls" was recorded."""
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    venue, event, moment = event_in_demo_venue(
        slug="cardiology-2026", title="Cardiology Congress 2026"
    )
    hall = venue.halls.get(slug="seminar")
    earlier = SessionFactory(
        event=event,
        hall=hall,
        title="ECG pitfalls",
        starts_at=moment - dt.timedelta(hours=3),
        ends_at=moment - dt.timedelta(hours=2),
    )
    SessionFactory(
        event=event,
        hall=hall,
        title="Workshop: point-of-care echocardiography",
        starts_at=moment - dt.timedelta(minutes=10),
        ends_at=moment + dt.timedelta(minutes=50),
    )
    recording = publish_test_recording(earlier, seconds=SECONDS, chapters=CHAPTERS)
    user = RegistrationFactory(event=event).user
    url = reverse("venue:hall", kwargs={"event_slug": event.slug, "hall_slug": "seminar"})
    return {"recording": recording, "user": user, "url": url}


PLAY_HERE = "#hall-recordings .hall-recordings__play"
VIDEO_TIME = "document.getElementById('hall-recording').currentTime"


def test_hall_plays_an_earlier_recording_while_a_session_is_live(
    chromium_autoplay, live_server, hall_with_live_session, screenshots, axe
):
    world = hall_with_live_session
    errors = PageErrors()
    context = _logged_in_context(chromium_autoplay, live_server, world["user"])
    page = errors.attach(context.new_page())
    try:
        page.goto(f"{live_server.url}{world['url']}")
        page.wait_for_function("document.body.dataset.venueReady === '1'", timeout=90_000)
        assert page.evaluate("window.medvenue.venue.screenSource()") == "slide"
        assert page.is_hidden("#hall-recording-slot")
        items = page.locator("#hall-recordings li")
        assert items.count() == 1
        assert "ECG pitfalls" in items.first.inner_text()
        assert items.first.locator("a").get_attribute("href") == reverse(
            "recordings:detail", kwargs={"recording_id": world["recording"].pk}
        )
        page.wait_for_selector(f"{PLAY_HERE}:visible")
        page.screenshot(path=str(Path(screenshots) / "hall-recordings-list.png"))

        page.click(PLAY_HERE)
        page.wait_for_function(f"{VIDEO_TIME} > 1", timeout=TIMEOUT)
        page.wait_for_function(
            "window.medvenue.venue.screenSource() === 'recording'", timeout=TIMEOUT
        )
        assert page.is_visible("#hall-recording")
        assert "ECG pitfalls" in page.inner_text("#hall-recordings-status")
        assert page.get_attribute(PLAY_HERE, "aria-current") == "true"
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(screenshots) / "hall-recordings-playing.png"))
        assert axe(page) == []

        # Chapters, like the recording page: listed, a click seeks, aria-current follows.
        chapters = page.locator("#hall-recording-chapters .chapter")
        assert page.is_visible("#hall-recording-chapters-box")
        assert chapters.all_text_contents() == [
            "0:00 Welcome and objectives",
            "0:05 Case discussion",
            "0:10 Take-home points",
        ]
        page.click("#hall-recording-chapters .chapter >> text=Take-home points")
        page.wait_for_function(f"{VIDEO_TIME} >= 10", timeout=TIMEOUT)
        page.wait_for_function(
            "document.querySelector('#hall-recording-chapters [aria-current=true]')"
            "?.textContent.includes('Take-home points')",
            timeout=TIMEOUT,
        )
        assert "Take-home points" in page.inner_text("#hall-recording-status")
        # Captions: a <track> per language, chosen from the labelled menu.
        tracks = page.evaluate(
            "[...document.querySelectorAll('#hall-recording track')]"
            ".map((t) => [t.kind, t.srclang, t.label, t.getAttribute('src')])"
        )
        assert [track[:3] for track in tracks] == [
            ["captions", "en", "English"],
            ["captions", "es", "Español"],
        ]
        assert all(f"/recordings/{world['recording'].pk}/captions/" in t[3] for t in tracks)
        assert page.get_by_label("Captions", exact=True).count() == 1
        assert page.locator("#hall-recording-captions option").all_text_contents() == [
            "Off",
            "English",
            "Español",
        ]
        page.select_option("#hall-recording-captions", "es")
        modes = page.evaluate(
            "[...document.getElementById('hall-recording').textTracks].map((t) => t.mode)"
        )
        assert modes == ["disabled", "showing"]
        assert page.inner_text("#hall-recording-status") == "Captions on: Español."
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(screenshots) / "hall-recordings-chapters.png"))
        assert axe(page) == []

        page.click("#hall-back-to-live")
        page.wait_for_function("window.medvenue.venue.screenSource() === 'slide'")
        assert page.is_hidden("#hall-recording-slot")
        assert page.evaluate("document.getElementById('hall-recording').paused")
        assert page.inner_text("#hall-recordings-status") == "Back to the live session."
        assert page.evaluate("document.activeElement.textContent") == "Play here"
        _leave(page)
        assert errors == []
    finally:
        context.close()


def test_hall_recording_list_works_by_keyboard_in_the_2d_twin(
    chromium_without_webgl, live_server, hall_with_live_session, screenshots
):
    world = hall_with_live_session
    errors = PageErrors()
    context = _logged_in_context(chromium_without_webgl, live_server, world["user"])
    page = errors.attach(context.new_page())
    try:
        page.goto(f"{live_server.url}{world['url']}")
        page.wait_for_selector(f"{PLAY_HERE}:visible")
        assert page.evaluate("document.getElementById('venue').dataset.mode") == "2d"
        page.focus(PLAY_HERE)
        page.keyboard.press("Enter")
        page.wait_for_function(f"{VIDEO_TIME} > 1", timeout=TIMEOUT)
        assert page.is_visible("#hall-recording")
        page.screenshot(path=str(Path(screenshots) / "hall-recordings-2d.png"))
        # A chapter by keyboard: Tab reaches it, Enter seeks.
        page.focus("#hall-recording-captions")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert "Take-home points" in page.evaluate("document.activeElement.textContent")
        page.keyboard.press("Enter")
        page.wait_for_function(f"{VIDEO_TIME} >= 10", timeout=TIMEOUT)
        page.focus("#hall-back-to-live")
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('hall-recording').paused")
        assert page.is_hidden("#hall-recording-slot")
        _leave(page)
        assert errors == []
    finally:
        context.close()
