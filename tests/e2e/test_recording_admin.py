"""The recording's admin page in headless Chromium: the progress bar follows processing live."""

from pathlib import Path

import pytest

from conference.models import Recording, RecordingStatus
from tests.e2e.conftest import PageErrors, _logged_in_context
from tests.factories import EventFactory, MembershipFactory, SessionFactory
from tests.support.recording import make_test_video, needs_ffmpeg

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
        assert page.locator("#content > h2").inner_text().endswith("(processing)")
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
        assert page.locator("#content > h2").inner_text().endswith("(failed)")
        page.screenshot(path=str(Path(screenshots) / "admin-recording-failed.png"), full_page=True)
        assert page.evaluate("window.__loadedOnce") is True
        # the admin has no favicon; nothing else may fail, and no script error
        assert set(failed) <= {"favicon.ico"}
        assert shot and [e for e in errors if "Failed to load resource" not in e] == []
    finally:
        context.close()


@pytest.fixture
def uploading(transactional_db, settings, tmp_path):
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    session = SessionFactory(title="ECG pitfalls every clinician should know")
    staff = MembershipFactory(organizer=session.event.organizer).user
    return {"session": session, "staff": staff, "root": settings.RECORDINGS_ROOT}


@pytest.fixture
def add_page(chromium, live_server, uploading):
    errors = PageErrors(websocket_expected=False)
    context = _logged_in_context(chromium, live_server, uploading["staff"])
    page = errors.attach(context.new_page())
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.goto(
        f"{live_server.url}/admin/conference/recording/add/?session={uploading['session'].pk}"
    )
    yield page, posts
    context.close()


@needs_ffmpeg
def test_upload_in_the_browser_shows_progress_and_opens_the_recording(
    add_page, uploading, tmp_path, screenshots
):
    page, posts = add_page
    clip = make_test_video(tmp_path / "keynote.mp4", seconds=2, size="320x180")

    page.set_input_files("input[name=video]", str(clip))
    page.click("input[name=_save]")
    page.wait_for_url("**/change/", timeout=TIMEOUT)
    message = page.locator("ul.messagelist li")
    message.wait_for(timeout=TIMEOUT)

    recording = Recording.objects.get()
    assert (recording.session, recording.original_name) == (uploading["session"], "keynote.mp4")
    assert (uploading["root"] / str(recording.pk) / "source" / "video").is_file()
    assert message.inner_text() == "“keynote.mp4” was uploaded and is queued for processing."
    assert page.locator(".recording-progress-status").inner_text() == "Queued for processing"
    assert len(posts) == 1
    page.screenshot(path=str(Path(screenshots) / "admin-recording-uploaded.png"), full_page=True)


def test_upload_in_the_browser_over_the_limit_is_refused_before_sending(
    add_page, uploading, tmp_path, settings, live_server
):
    page, posts = add_page
    settings.RECORDING_MAX_UPLOAD_BYTES = 2048
    page.reload()
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * 10_000)

    page.set_input_files("input[name=video]", str(big))
    page.click("input[name=_save]")

    error = page.locator(".recording-upload-error")
    error.wait_for(timeout=TIMEOUT)
    assert error.inner_text() == "The file is larger than the limit of 2 KB."
    assert (posts, Recording.objects.count()) == ([], 0)


@needs_ffmpeg
def test_upload_in_the_browser_of_an_image_shows_the_servers_reason(add_page, uploading, tmp_path):
    from PIL import Image

    page, posts = add_page
    picture = tmp_path / "slides.mp4"
    Image.new("RGB", (64, 48), "teal").save(picture, format="PNG")

    page.set_input_files("input[name=video]", str(picture))
    page.click("input[name=_save]")

    page.locator(".errorlist").first.wait_for(timeout=TIMEOUT)
    assert page.locator(".errorlist").first.inner_text() == "This is a still image, not a video."
    assert (len(posts), Recording.objects.count()) == (1, 0)
    assert list((uploading["root"] / ".uploads").iterdir()) == []


def test_processing_finished_shows_the_result_by_itself(chromium, live_server, processing):
    recording = processing["recording"]
    Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.QUEUED, progress=0)
    errors = PageErrors(websocket_expected=False)
    context = _logged_in_context(chromium, live_server, processing["staff"])
    page = errors.attach(context.new_page())
    try:
        page.goto(f"{live_server.url}/admin/conference/recording/{recording.pk}/change/")
        assert page.locator("#content > h2").inner_text().endswith("(queued)")
        page.evaluate("window.__loadedOnce = true")

        Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.PROCESSING)
        page.wait_for_function(
            "document.querySelector('#content > h2').textContent.trim().endsWith('(processing)')",
            timeout=TIMEOUT,
        )
        Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.READY)
        page.wait_for_function("window.__loadedOnce === undefined", timeout=TIMEOUT)  # reloaded

        assert page.locator("#content > h2").inner_text().endswith("(ready)")
        assert page.locator(".recording-progress-text").inner_text().startswith("100%")
    finally:
        context.close()
