"""The recording's admin page in headless Chromium: the progress bar follows processing live."""

from pathlib import Path

import pytest

from conference.models import Recording, RecordingStatus
from tests.e2e.conftest import PageErrors, _logged_in_context
from tests.factories import EventFactory, MembershipFactory, SessionFactory

pytestmark = pytest.mark.browser

TIMEOUT = 15_000


@pytest.fixture
def processing(transactional_db, settings, tmp_path):
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    event = EventFactory(title="Cardiology Congress 2026")
    session = SessionFactory(event=event, title="Heart failure in 2026: what changed")
    staff = MembershipFactory(organizer=event.organizer).user
    recording = Recording.objects.create(
        session=session,
        status=RecordingStatus.PROCESSING,
        progress=20,
        stage="transcoding 360p",
        original_name="heart-failure-keynote.mp4",
        size_bytes=734_003_200,
        source_path="source/video",
        width=1920,
        height=1080,
        duration_seconds=3125,
        created_by=staff,
    )
    return {"recording": recording, "staff": staff}


def test_progress_bar_follows_processing_without_reload(
    chromium, live_server, processing, screenshots
):
    recording = processing["recording"]
    errors = PageErrors(websocket_expected=False)
    context = _logged_in_context(chromium, live_server, processing["staff"])
    page = errors.attach(context.new_page())
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(r.url.split("/", 3)[-1]))
    try:
        page.goto(f"{live_server.url}/admin/conference/recording/{recording.pk}/change/")
        bar = page.locator(".recording-progress progress")
        assert bar.evaluate("bar => bar.value") == 20
        page.evaluate("window.__loadedOnce = true")  # gone if the page reloads

        Recording.objects.filter(pk=recording.pk).update(progress=64, stage="transcoding 720p")
        page.wait_for_function(
            "document.querySelector('.recording-progress progress').value === 64",
            timeout=TIMEOUT,
        )
        text = page.locator(".recording-progress-text").inner_text()
        shot = page.screenshot(path=str(Path(screenshots) / "admin-recording-progress.png"))

        Recording.objects.filter(pk=recording.pk).update(
            status=RecordingStatus.FAILED, error="ffmpeg stopped: the source ends early."
        )
        page.locator(".recording-progress-error").wait_for(state="visible", timeout=TIMEOUT)

        assert text == "64% — transcoding 720p"
        assert page.locator(".recording-progress-status").inner_text() == "Failed"
        assert page.locator(".recording-progress-error").inner_text() == (
            "ffmpeg stopped: the source ends early."
        )
        assert page.locator(".recording-progress-done").is_visible()
        page.screenshot(path=str(Path(screenshots) / "admin-recording-failed.png"), full_page=True)
        assert page.evaluate("window.__loadedOnce") is True
        # the admin has no favicon; nothing else may fail, and no script error
        assert set(failed) <= {"favicon.ico"}
        assert shot and [e for e in errors if "Failed to load resource" not in e] == []
    finally:
        context.close()
