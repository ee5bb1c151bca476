"""The studio and the hall's live stage in headless Chromium with fake camera and microphone, on
a real Janus and a real ASGI server: speakers publish, the producer puts them live, the audience
decodes moving video of exactly who is live, and a removed attendee's stage ends."""

import datetime as dt
import subprocess
import time

import pytest
from django.core.cache import cache
from django.utils import timezone

from conference.models import (
    EncoderFeed,
    HallRemoval,
    Recording,
    Registration,
    RegistrationRole,
    Stage,
)
from conference.services.media import stage as media
from conference.services.recordings import paths
from conference.services.recordings.capture import CAPTURE_QUEUE
from tests.e2e.conftest import ARGS, CHROMIUM, VIEWPORT, PageErrors
from tests.factories import (
    EventFactory,
    ProfileFactory,
    SessionFactory,
    SpeakerFactory,
    UserFactory,
)
from tests.live.conftest import session_cookie
from tests.live.servers import daphne_processes
from tests.support.media import free_udp_ports, janus_server
from tests.support.process import celery_worker
from venues.demo import build_demo_venue

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.janus]

FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
EVENT = "stage-congress"

# Frames decoded so far on each stage slot (by mid), from the attendee's Janus PeerConnection.
FRAMES = """async () => {
  const pc = window.medvenueStage?.handle?.webrtcStuff?.pc;
  if (!pc) return null;
  const frames = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") frames[s.mid] = s.framesDecoded || 0;
  });
  return frames;
}"""
# 150 characters: on the stage for 10 s (its reading time), long enough to check under load.
CAPTION = (
    "Statins first, then ezetimibe if the LDL target is not reached after six weeks; "
    "PCSK9 inhibitors after that, for patients at very high cardiovascular risk."
)
# Bright pixels in the caption band at the bottom of the canvas the 3D screen shows.
CAPTION_PIXELS = """() => {
  const c = window.medvenueStage.canvas;
  const d = c.getContext('2d').getImageData(60, c.height - 170, c.width - 120, 140).data;
  let bright = 0, dark = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] > 230 && d[i + 1] > 230 && d[i + 2] > 230) bright++;
    if (d[i] < 70 && d[i + 1] < 70 && d[i + 2] < 70) dark++;
  }
  return { bright, dark, total: d.length / 4 };
}"""
SIZES = """() => [...document.querySelectorAll('#hall-stage video')].map((v) => v.hidden ? -1 : v.videoWidth)"""


@pytest.fixture(scope="module")
def chromium_media(playwright_driver, bundle):
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*ARGS, *FAKE_MEDIA]
    )
    yield browser
    browser.close()


@pytest.fixture
def stage_party(transactional_db):
    venue = build_demo_venue()
    today = timezone.now().date()
    event = EventFactory(
        slug=EVENT,
        timezone="Europe/Berlin",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=1),
        venue=venue,
    )
    moment = timezone.now()
    session = SessionFactory(
        event=event,
        hall=venue.halls.get(slug="auditorium"),
        title="Valve disease: the heart team",
        starts_at=moment - dt.timedelta(minutes=10),
        ends_at=moment + dt.timedelta(minutes=50),
    )
    people = {}
    for key, name, role in (
        ("ana", "Dr. Ana Ruiz", RegistrationRole.SPEAKER),
        ("ben", "Dr. Ben Okoro", RegistrationRole.SPEAKER),
        ("cleo", "Dr. Cleo Park", RegistrationRole.SPEAKER),
        ("mod", "Mo Producer", RegistrationRole.MODERATOR),
        ("viewer", "Vera Viewer", RegistrationRole.ATTENDEE),
        ("cap", "Cai Captioner", RegistrationRole.ATTENDEE),
    ):
        user = UserFactory(display_name=name)
        ProfileFactory(user=user, legal_name=name)
        Registration.objects.create(user=user, event=event, role=role)
        people[key] = user
    for key in ("ana", "ben", "cleo"):
        session.speakers.add(
            SpeakerFactory(event=event, user=people[key], name=people[key].display_name)
        )
    session.captioners.add(people["cap"])
    return {"event": event, "session": session, **people}


def open_page(
    browser, base: str, user, path: str, errors: PageErrors, *, wait_until="load", view="3d"
):
    context = browser.new_context(viewport=VIEWPORT)
    if view == "2d":  # the venue's stored choice (main.js MODE_KEY)
        context.add_init_script("localStorage.setItem('medvenue:venue-mode', '2d')")
    context.add_cookies([{"name": "sessionid", "value": session_cookie(user), "url": base}])
    page = errors.attach(context.new_page())
    # A loaded machine (a publishing speaker, a recorder encoding) serves the venue page slowly.
    page.goto(base + path, wait_until=wait_until, timeout=90000)
    return context, page


def studio_path(session) -> str:
    return f"/events/{EVENT}/sessions/{session.pk}/studio/"


def publish(page) -> None:
    page.click("#studio-start")
    page.wait_for_function("document.body.dataset.publishing === '1'", timeout=60000)
    assert page.inner_text("#studio-cam-state") == "Camera ON"
    assert page.inner_text("#studio-mic-state") == "Microphone ON"


def put_ana_live(ana, producer) -> None:
    """Dr. Ana Ruiz publishes and the producer puts her live alone."""
    publish(ana)
    producer.wait_for_function(
        "document.querySelectorAll('#studio-feed-choices input').length === 1", timeout=60000
    )
    put_live(producer, ["Dr. Ana Ruiz"], "solo")


def open_hall(browser, base: str, user, errors: PageErrors, **options):
    """The auditorium's venue page (where the stage plays) for `user`."""
    return open_page(browser, base, user, f"/events/{EVENT}/venue/auditorium/", errors, **options)


def frames_grow(page, mids: list[str]) -> dict:
    """Wait until frames decoded increase on every mid in `mids`; returns the second reading."""
    page.wait_for_function(
        f"""async () => {{ const f = await ({FRAMES})(); return f && {mids!r}.every((m) => f[m] > 0); }}""",
        timeout=60000,
    )
    first = page.evaluate(FRAMES)
    page.wait_for_function(
        f"""async () => {{ const f = await ({FRAMES})(); const before = {first!r};
            return {mids!r}.every((m) => f[m] > before[m]); }}""",
        timeout=30000,
    )
    return page.evaluate(FRAMES)


def put_live(producer, names: list[str], layout: str, *, update: bool = False) -> None:
    producer.check(f"input[name=layout][value={layout}]")
    for label in producer.locator("#studio-feed-choices label").all():
        box = label.locator("input")
        wanted = any(label.inner_text().strip().startswith(name) for name in names)
        if wanted != box.is_checked():
            box.click()
    if update:
        producer.click("#studio-update")
    else:
        producer.fill("#studio-countdown", "0")
        producer.click("#studio-golive")
    expected = ", ".join(names)
    try:
        producer.wait_for_function(
            f"{names!r}.every((n) => document.getElementById('studio-producer-status')"
            ".textContent.includes(n))",
            timeout=30000,
        )
    except Exception as error:
        said = producer.inner_text("#studio-producer-status")
        raise AssertionError(
            f"the stage did not show {expected}; the studio says {said!r}"
        ) from error


def test_speakers_go_live_and_the_audience_sees_only_who_is_live(
    chromium_media, stage_party, screenshots
):
    errors = PageErrors(websocket_expected=False)
    session = stage_party["session"]
    with janus_server() as janus, daphne_processes(1, env=janus.environment()) as (port,):
        base = f"http://127.0.0.1:{port}"
        contexts = []
        ana_context, ana = open_page(
            chromium_media, base, stage_party["ana"], studio_path(session), errors
        )
        ben_context, ben = open_page(
            chromium_media, base, stage_party["ben"], studio_path(session), errors
        )
        mod_context, producer = open_page(
            chromium_media, base, stage_party["mod"], studio_path(session), errors
        )
        contexts += [ana_context, ben_context, mod_context]
        publish(ana)
        publish(ben)
        producer.wait_for_function(
            "document.querySelectorAll('#studio-feed-choices input').length === 2", timeout=60000
        )
        # Backstage, each speaker sees the other (decoded video), nobody is live yet.
        ana.wait_for_function(
            "[...document.querySelectorAll('#studio-people video')].filter((v) => v.videoWidth > 0).length === 2",
            timeout=60000,
        )
        assert ana.inner_text("#studio-live-state") == "Not live"
        # The producer sees them too without sending anything (camera and microphone stay off).
        producer.wait_for_function(
            "[...document.querySelectorAll('#studio-people video')].filter((v) => v.videoWidth > 0).length === 2",
            timeout=60000,
        )
        assert producer.inner_text("#studio-cam-state") == "Camera off"

        viewer_context, viewer = open_hall(
            chromium_media,
            base,
            stage_party["viewer"],
            errors,
            # The stage plays in the side panel of both views. Building the 3D view holds the
            # page for half a minute on a software renderer shared with three publishing pages,
            # so the viewer starts in 2D and turns 3D on below, for the screen.
            view="2d",
        )
        contexts.append(viewer_context)
        viewer.wait_for_selector("#hall-stage[data-state='idle']", state="attached", timeout=60000)

        put_live(producer, ["Dr. Ana Ruiz"], "solo")
        ana.wait_for_function("document.body.dataset.meLive === '1'", timeout=30000)
        assert ana.inner_text("#studio-live-state") == "You are LIVE"
        assert ben.inner_text("#studio-live-state") == "Not live"
        assert ana.locator("#studio-onair").is_visible()

        viewer.wait_for_selector(
            "#hall-stage[data-state='live'][data-connected='1']", timeout=60000
        )
        viewer.wait_for_function(f"({SIZES})()[0] > 0", timeout=60000)
        frames_grow(viewer, ["v0"])
        # Ben publishes backstage but is not live: nothing of him reaches the audience.
        sizes = viewer.evaluate(SIZES)
        assert sizes[0] > 0 and sizes[1:] == [-1, -1, -1]
        assert (viewer.evaluate(FRAMES) or {}).get("v1", 0) == 0
        # The 3D screen shows the stage too (the 3D view starts after the stage).
        viewer.click("#venue-mode-toggle")
        viewer.wait_for_function(
            "document.body.dataset.venueReady === '1' && window.medvenue.venue.screenSource() === 'stage'",
            timeout=120000,
        )
        viewer.screenshot(path=str(screenshots / "stage-solo-3d.png"))

        # A panel of two: both reach the audience, each in its own slot.
        put_live(producer, ["Dr. Ana Ruiz", "Dr. Ben Okoro"], "panel", update=True)
        ben.wait_for_function("document.body.dataset.meLive === '1'", timeout=30000)
        viewer.wait_for_function(f"(({SIZES})()).filter((w) => w > 0).length === 2", timeout=60000)
        frames_grow(viewer, ["v0", "v1"])
        # Four pages decoding video share two cores here: a full-page capture can take a while.
        producer.screenshot(
            path=str(screenshots / "studio-producer-panel.png"), full_page=True, timeout=120000
        )

        # Ending the broadcast ends what the audience receives.
        producer.click("#studio-end")
        viewer.wait_for_selector("#hall-stage[data-state='idle']", state="attached", timeout=30000)
        ana.wait_for_function("document.body.dataset.meLive === '0'", timeout=30000)
        for context in contexts:
            context.close()
    assert errors == []


def test_an_external_encoder_is_put_live_from_the_studio(
    chromium_media, stage_party, tmp_path, screenshots
):
    """The producer turns the external encoder on in the studio and copies its SRT address into
    an encoder (ffmpeg, sending what OBS sends); "External encoder" appears backstage with its
    picture, the producer puts it live, and the attendee's hall stage decodes its video."""
    errors = PageErrors(websocket_expected=False)
    session = stage_party["session"]
    srt, rtp, _ = free_udp_ports(3)
    cache.delete(f"mv:encoder:{session.pk}")  # the rate limit's counter of another test run
    ports = {"ENCODER_SRT_PORTS": str(srt), "ENCODER_RTP_PORTS": f"{rtp}-{rtp + 1}"}
    with janus_server() as janus:
        environ = {**janus.environment(), **ports}
        with (
            daphne_processes(1, env=environ) as (port,),
            celery_worker("ingest", tmp_path / "ingest.log", **environ),
        ):
            base = f"http://127.0.0.1:{port}"
            mod_context, producer = open_page(
                chromium_media, base, stage_party["mod"], studio_path(session), errors
            )
            producer.on("dialog", lambda dialog: dialog.accept())
            producer.click("#studio-encoder-on")
            producer.wait_for_selector("#studio-encoder-details", state="visible")
            assert producer.inner_text("#studio-encoder-status").startswith(
                "Waiting for the encoder"
            )
            assert producer.get_attribute("#studio-encoder-url", "type") == "password"
            producer.click("#studio-encoder-show")
            address = producer.input_value("#studio-encoder-url")
            assert address.startswith(f"srt://127.0.0.1:{srt}?passphrase=")
            encoder = subprocess.Popen(
                [
                    *("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re"),
                    *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=120"),
                    *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=120"),
                    *("-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"),
                    *("-g", "30", "-c:a", "aac", "-f", "mpegts", address),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                try:
                    producer.wait_for_function(
                        "() => document.getElementById('studio-encoder-status').textContent.startsWith('The encoder is sending')",
                        timeout=60000,
                    )
                    producer.wait_for_function(
                        "[...document.querySelectorAll('#studio-people video')].some((v) => v.videoWidth > 0)",
                        timeout=60000,
                    )
                except Exception as error:
                    row = EncoderFeed.objects.filter(session=session).values().first()
                    said = producer.inner_text("#studio-encoder-status")
                    people = producer.inner_text("#studio-people")
                    raise AssertionError(f"{said!r} {people!r} {row}") from error
                assert "External encoder" in producer.inner_text("#studio-people")
                producer.screenshot(path=str(screenshots / "studio-encoder.png"), full_page=True)

                viewer_context, viewer = open_hall(
                    chromium_media, base, stage_party["viewer"], errors, view="2d"
                )
                viewer.wait_for_selector(
                    "#hall-stage[data-state='idle']", state="attached", timeout=60000
                )
                put_live(producer, ["External encoder"], "solo")
                viewer.wait_for_selector(
                    "#hall-stage[data-state='live'][data-connected='1']", timeout=60000
                )
                viewer.wait_for_function(f"({SIZES})()[0] === 1280", timeout=60000)
                frames_grow(viewer, ["v0"])
                assert "External encoder" in viewer.inner_text("#hall-stage")

                producer.click("#studio-end")
                producer.click("#studio-encoder-off")  # confirmed by the dialog handler
                producer.wait_for_selector("#studio-encoder-details", state="hidden")
                encoder.wait(timeout=30)  # cut off, long before its 120 s
                viewer_context.close()
                mod_context.close()
            finally:
                encoder.kill()
                encoder.wait()
                # The ingest task ends when the encoder is off, so that its worker can stop.
                EncoderFeed.objects.filter(session=session).update(active=False, slot=None)
    assert errors == []


def test_live_captions_reach_the_stage(chromium_media, stage_party):
    """A captioner types in the studio; the attendee's stage shows the cue under the picture
    (a labelled live region, with a keyboard toggle) and draws it into the picture the 3D screen
    shows. The producer broadcasts with nobody live, so no camera runs (CI time)."""
    errors = PageErrors(websocket_expected=False)
    session = stage_party["session"]
    with janus_server() as janus, daphne_processes(1, env=janus.environment()) as (port,):
        base = f"http://127.0.0.1:{port}"
        contexts = []
        mod_context, producer = open_page(
            chromium_media, base, stage_party["mod"], studio_path(session), errors
        )
        viewer_context, viewer = open_page(
            chromium_media,
            base,
            stage_party["viewer"],
            f"/events/{EVENT}/venue/auditorium/",
            errors,
        )
        contexts += [mod_context, viewer_context]
        producer.fill("#studio-countdown", "0")
        producer.click("#studio-golive")
        producer.wait_for_function("document.body.dataset.onAir === '1'", timeout=30000)
        try:
            viewer.wait_for_selector(
                "#hall-stage[data-connected='1']", state="attached", timeout=60000
            )
        except Exception as error:
            said = viewer.evaluate(
                "() => [document.getElementById('hall-stage').outerHTML.slice(0, 600)]"
            )
            raise AssertionError(f"stage not connected: {said} {errors}") from error
        cap_context, captioner = open_page(
            chromium_media, base, stage_party["cap"], studio_path(session), errors
        )
        contexts.append(cap_context)
        assert "captioner" in captioner.inner_text(".studio-role")
        captioner.wait_for_function("document.body.dataset.onAir === '1'", timeout=30000)
        captioner.focus("#studio-caption-text")
        captioner.keyboard.type(CAPTION)
        captioner.keyboard.press("Enter")
        captioner.wait_for_function(
            "document.getElementById('studio-caption-status').textContent.startsWith('Shown')",
            timeout=10000,
        )
        viewer.wait_for_function(
            f"document.getElementById('hall-stage').dataset.caption === {CAPTION!r}",
            timeout=10000,
        )
        assert viewer.is_visible("#hall-stage-captions")
        assert viewer.inner_text("#hall-stage-captions") == CAPTION
        # White caption text on the dark box at the bottom of the 3D screen's picture.
        band = viewer.evaluate(CAPTION_PIXELS)
        assert band["bright"] > 200 and band["dark"] > band["total"] // 3, band
        viewer.click(".hall-stage__cc")
        assert viewer.get_attribute(".hall-stage__cc", "aria-pressed") == "false"
        assert not viewer.is_visible("#hall-stage-captions")
        viewer.click(".hall-stage__cc")
        for context in contexts:
            context.close()
    assert errors == []


def test_a_removed_attendees_stage_ends(chromium_media, stage_party, settings):
    errors = PageErrors(websocket_expected=False)
    session = stage_party["session"]
    with janus_server() as janus, daphne_processes(1, env=janus.environment()) as (port,):
        base = f"http://127.0.0.1:{port}"
        ana_context, ana = open_page(
            chromium_media, base, stage_party["ana"], studio_path(session), errors
        )
        mod_context, producer = open_page(
            chromium_media, base, stage_party["mod"], studio_path(session), errors
        )
        put_ana_live(ana, producer)
        viewer_context, viewer = open_hall(chromium_media, base, stage_party["viewer"], errors)
        viewer.wait_for_selector("#hall-stage[data-connected='1']", timeout=60000)
        frames_grow(viewer, ["v0"])

        HallRemoval.objects.create(
            hall=session.hall,
            user=stage_party["viewer"],
            removed_by=stage_party["mod"],
            until=timezone.now() + dt.timedelta(hours=1),
        )
        for name, value in janus.settings().items():
            setattr(settings, name, value)
        assert media.cut_user_media(stage_party["viewer"].pk) == 1
        viewer.wait_for_selector("#hall-stage[data-state='ended']", state="attached", timeout=30000)
        assert viewer.evaluate("window.medvenueStage.handle") is None
        with pytest.raises(media.MediaRefused, match="removed you"):
            media.stage_grant(stage_party["viewer"], session)
        for context in (ana_context, mod_context, viewer_context):
            context.close()
    # The hall socket closing on removal logs nothing; Janus's closed session is expected.
    assert [e for e in errors if "WebSocket" not in e] == []


def _wait_for(condition, *, seconds: float, step: float = 0.5):
    """Poll `condition` (a database read in this process) until it is truthy or time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(step)
    return condition()


def test_the_broadcast_is_recorded_and_becomes_a_ready_recording(
    chromium_media, stage_party, tmp_path
):
    """Recorded as it goes (RTP forward -> ffmpeg on a capture worker), in two line-ups (one
    speaker, then a panel of two), and processed by the ordinary pipeline when it ends."""
    errors = PageErrors(websocket_expected=False)
    session = stage_party["session"]
    with janus_server() as janus, daphne_processes(1, env=janus.environment()) as (port,):
        environ = janus.environment()
        with (
            celery_worker(CAPTURE_QUEUE, tmp_path / "capture.log", **environ),
            celery_worker("media", tmp_path / "media.log", **environ),
        ):
            base = f"http://127.0.0.1:{port}"
            contexts = []
            for key in ("ana", "ben", "mod"):
                context, page = open_page(
                    chromium_media, base, stage_party[key], studio_path(session), errors
                )
                contexts.append((context, page))
            (_, ana), (_, ben), (_, producer) = contexts
            publish(ana)
            publish(ben)
            producer.wait_for_function(
                "document.querySelectorAll('#studio-feed-choices input').length === 2",
                timeout=60000,
            )
            assert ana.inner_text("#studio-rec-state") == "Not recording"
            put_live(producer, ["Dr. Ana Ruiz"], "solo")
            # The people on the stage see that it records.
            ana.wait_for_function("document.body.dataset.recording === '1'", timeout=30000)
            assert ana.inner_text("#studio-rec-state") == "● Recording the broadcast"
            assert "RECORDING" in ana.inner_text("#studio-onair")
            stage = Stage.objects.get(session=session)
            recording = stage.recording
            assert (recording.source, recording.status) == ("studio", "capturing")
            # The broadcast's own length is what is under test: it runs for a while.
            producer.wait_for_timeout(10000)
            put_live(producer, ["Dr. Ana Ruiz", "Dr. Ben Okoro"], "panel", update=True)
            producer.wait_for_timeout(10000)
            producer.click("#studio-end")
            ana.wait_for_function("document.body.dataset.recording === '0'", timeout=30000)
            stage.refresh_from_db()
            broadcast = (stage.ended_at - stage.started_at).total_seconds()
            rows = Recording.objects.filter(pk=recording.pk)
            status = _wait_for(
                lambda: (
                    rows.filter(status__in=("ready", "failed"))
                    .values_list("status", flat=True)
                    .first()
                ),
                seconds=240,
            )
            for context, _page in contexts:
                context.close()
            recording.refresh_from_db()
            logs = "".join(
                (tmp_path / name).read_text(errors="replace")[-3000:]
                for name in ("capture.log", "media.log")
            )
            assert status == "ready", (
                f"{recording.status}: {recording.error} {stage.forwarders}\n{logs}"
            )
    folder = paths.recording_root(recording) / recording.published_dir
    duration = float(recording.duration_seconds)
    # Each line-up starts at its first packets (the recorder's start, up to the next keyframe):
    # docs/media.md states up to about 2.5 s per line-up; two here.
    assert broadcast - 6 <= duration <= broadcast + 1, (duration, broadcast)
    assert (recording.width, recording.height) == (1280, 720)
    assert (folder / "720p" / "index.m3u8").is_file()
    assert session.title in (folder / "chapters.vtt").read_text()
    assert stage.recording is None and stage.recorder_port is None
    assert errors == []


def test_beyond_webrtc_capacity_the_audience_gets_the_hls_stage(
    chromium_media, stage_party, tmp_path
):
    """JANUS_WEBRTC_CAPACITY=0: every viewer is over the capacity, so the grant sends the stage
    composed once by the broadcast's recorder (RTP forward -> ffmpeg -> HLS) through signed
    URLs, and the hall's stage decodes it (hls.js). A speaker publishing and the recorder
    encoding share the machine with the viewer: the timeouts allow for a loaded 2-core one."""
    errors = PageErrors(websocket_expected=False)
    session = stage_party["session"]
    with janus_server() as janus:
        environ = {**janus.environment(), "JANUS_WEBRTC_CAPACITY": "0"}
        with (
            daphne_processes(1, env=environ) as (port,),
            celery_worker(CAPTURE_QUEUE, tmp_path / "capture.log", **environ),
        ):
            base = f"http://127.0.0.1:{port}"
            contexts = []
            for key in ("ana", "mod"):
                context, page = open_page(
                    chromium_media, base, stage_party[key], studio_path(session), errors
                )
                contexts.append(context)
                if key == "ana":
                    ana = page
                else:
                    producer = page
            put_ana_live(ana, producer)
            context, viewer = open_hall(
                chromium_media,
                base,
                stage_party["viewer"],
                errors,
                view="2d",  # the side panel's stage; the 3D view is the other test's
            )
            contexts.append(context)
            viewer.wait_for_selector(
                "#hall-stage[data-mode='hls']", state="attached", timeout=60000
            )
            # The composed 1280x720 picture plays, and its decoded frames keep increasing.
            viewer.wait_for_function(
                "document.querySelector('#hall-stage video').videoWidth === 1280", timeout=90000
            )
            frames = "document.querySelector('#hall-stage video').getVideoPlaybackQuality().totalVideoFrames"
            first = viewer.evaluate(frames)
            viewer.wait_for_function(f"{frames} > {first} + 30", timeout=30000)
            assert viewer.evaluate("window.medvenueStage.handle") is None  # no WebRTC at all
            # Segment URLs are signed for this viewer: another user's browser is refused.
            playlist = viewer.evaluate("window.medvenueStage.hls.url")
            other_context, other = open_page(chromium_media, base, stage_party["ben"], "/", errors)
            contexts.append(other_context)
            status = other.evaluate(f"fetch({playlist!r}).then((r) => r.status)")
            assert status == 403
            producer.click("#studio-end")
            viewer.wait_for_selector(
                "#hall-stage[data-state='idle']", state="attached", timeout=30000
            )
            for context in contexts:
                context.close()
    # The browser logs the 403 above, and a 503 when it asked for the playlist before the
    # recorder wrote it (the answer that makes hls.js retry: docs/media.md).
    assert [e for e in errors if "status of 403" not in e and "status of 503" not in e] == []
