"""The main pages in headless Chromium under the real Content-Security-Policy and
Permissions-Policy (docs/security.md): no violation anywhere, and the pages still work — the hall
connects and takes a question, the 2D view renders, the recording plays through hls.js, the
studio publishes the (fake) camera to Janus, the admin logs in and its widgets run.

Served by a real ASGI server (daphne) so that the hall's websocket connects too.
"""

import datetime as dt

import pytest
from django.utils import timezone

from conference.models import RegistrationRole
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.claims import claim_credit
from tests.e2e.conftest import ARGS, CHROMIUM, VIEWPORT, PageErrors
from tests.factories import (
    PASSWORD,
    EventFactory,
    MembershipFactory,
    ProfileFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
    UserFactory,
)
from tests.live.conftest import session_cookie
from tests.live.servers import daphne_processes
from tests.support.cme import attend, evaluate, learner, make_event
from tests.support.media import janus_server
from tests.support.recording import needs_ffmpeg
from tests.support.recording_watch import publish_test_recording
from venues.demo import build_demo_venue

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.janus, needs_ffmpeg]

EVENT = "policy-congress"
TIMEOUT = 60_000
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]

# Registered before any page script runs (DevTools injects it, outside the page's policy).
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
    + ` at ${e.sourceFile || document.location.pathname}:${e.lineNumber}`);
});
"""


class PolicyErrors(PageErrors):
    """Console errors (which include every CSP and Permissions-Policy refusal Chromium logs),
    uncaught exceptions, and securitypolicyviolation events of every page."""

    def violations(self, page) -> list[str]:
        return page.evaluate("window.__violations")


@pytest.fixture(scope="module")
def chromium_media(playwright_driver, bundle):
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*ARGS, *FAKE_MEDIA, "--autoplay-policy=no-user-gesture-required"],
    )
    yield browser
    browser.close()


@pytest.fixture
def congress(transactional_db, settings, tmp_path, media_root):
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    venue = build_demo_venue()
    today = timezone.now().date()
    event = EventFactory(
        slug=EVENT,
        title="Policy Congress",
        timezone="Europe/Berlin",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=1),
        venue=venue,
        cme_provider="Society of Test Medicine",
    )
    event.organizer.venues.add(venue)
    track = TrackFactory(event=event, name="Heart failure", color="#c0392b")
    moment = timezone.now()
    plenary = SessionFactory(
        event=event,
        hall=venue.halls.get(slug="auditorium"),
        track=track,
        title="Heart failure: what changed",
        starts_at=moment - dt.timedelta(minutes=10),
        ends_at=moment + dt.timedelta(minutes=50),
        is_cme_eligible=True,
        designated_minutes=60,
    )
    earlier = SessionFactory(
        event=event,
        hall=venue.halls.get(slug="seminar"),
        track=track,
        title="ECG pitfalls",
        starts_at=moment - dt.timedelta(days=1, hours=2),
        ends_at=moment - dt.timedelta(days=1, hours=1),
        is_cme_eligible=True,
        designated_minutes=60,
    )
    recording = publish_test_recording(earlier, seconds=4)

    physician = learner(legal_name="Grace Hopper")
    physician.display_name = "Dr. Grace Hopper"
    physician.save()
    RegistrationFactory(user=physician, event=event)
    speaker = UserFactory(display_name="Dr. Ana Ruiz")
    ProfileFactory(user=speaker, legal_name="Ana Ruiz")
    RegistrationFactory(user=speaker, event=event, role=RegistrationRole.SPEAKER)
    plenary.speakers.add(SpeakerFactory(event=event, user=speaker, name="Dr. Ana Ruiz"))
    owner = MembershipFactory(organizer=event.organizer, role="owner").user
    # The server process checks passwords with the production hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    owner.set_password(PASSWORD)
    owner.save()

    # A certificate of an earlier CME event, for its public verification page.
    past, past_session = make_event()
    RegistrationFactory(user=physician, event=past)
    attend(physician, past_session, minutes=60)
    evaluate(physician, past)
    claim = claim_credit(physician, past, "AMA_PRA_1", amount="1.00", attested=True)
    certificate = issue_certificate(claim.pk)
    return {
        "recording_root": settings.RECORDINGS_ROOT,
        "event": event,
        "plenary": plenary,
        "recording": recording,
        "physician": physician,
        "speaker": speaker,
        "owner": owner,
        "certificate": certificate,
    }


def open_page(browser, base: str, user, errors: PolicyErrors):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(WATCH)
    if user is not None:
        context.add_cookies([{"name": "sessionid", "value": session_cookie(user), "url": base}])
    return context, errors.attach(context.new_page())


def visit(page, url: str, errors: PolicyErrors) -> None:
    response = page.goto(url)
    assert response.status in (200, 404), (url, response.status)
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    assert errors.violations(page) == [], url


def allows(page, feature: str) -> bool:
    return page.evaluate(f"document.featurePolicy.allowsFeature('{feature}')")


def test_attendee_pages_and_the_hall_work_without_a_policy_violation(chromium_media, congress):
    errors = PolicyErrors(websocket_expected=False)
    plenary = congress["plenary"]
    with daphne_processes(1) as (port,):
        base = f"http://127.0.0.1:{port}"
        # The attendee: home, event and programme, session, venue 3D and 2D, the hall panel.
        context, page = open_page(chromium_media, base, congress["physician"], errors)
        for path in (
            "/",
            f"/events/{EVENT}/",
            f"/events/{EVENT}/?group=track",
            plenary.get_absolute_url(),
            "/my/events/",
            "/accounts/profile/",
            "/accounts/my-data/",
            f"/cme/events/{EVENT}/",
            "/cme/transcript/",
        ):
            visit(page, base + path, errors)
        visit(page, base + "/no-such-page/", errors)  # the 404 page has the policy too
        assert errors == [
            "console: Failed to load resource: the server responded with a status of 404 (Not Found)"
        ]
        errors.clear()
        # The programme's track colour is drawn (an SVG fill, not a refused style attribute).
        page.goto(f"{base}/events/{EVENT}/")
        assert page.locator("svg.swatch rect[fill='#c0392b']").count() >= 1

        visit(page, f"{base}/events/{EVENT}/venue/auditorium/", errors)
        page.wait_for_function("() => document.body.dataset.venueReady === '1'", timeout=TIMEOUT)
        # The hall connects: the socket's hello lists the attendee, and a question goes through.
        page.wait_for_selector(
            ".live-people .person-name:has-text('Dr. Grace Hopper')", timeout=TIMEOUT
        )
        page.fill("#qa-text", "Is the policy strict?")
        page.click("#qa-form button[type=submit]")
        page.wait_for_function(
            "() => /question (was posted|waits)/.test(document.querySelector('.live-status')"
            ".textContent)",
            timeout=TIMEOUT,
        )
        assert allows(page, "camera") is False and allows(page, "microphone") is False
        refused = page.evaluate(
            """() => navigator.mediaDevices.getUserMedia({video: true})
                 .then(() => 'granted', (e) => e.name)"""
        )
        assert refused == "NotAllowedError"
        assert errors == [
            "console: Permissions policy violation: camera is not allowed in this document."
        ]
        errors.clear()
        # The 2D view of the same hall (the toggle) and of the lobby.
        page.click("#venue-mode-toggle")
        page.wait_for_selector("#venue-2d:visible", timeout=TIMEOUT)
        visit(page, f"{base}/events/{EVENT}/venue/", errors)
        page.wait_for_selector("#venue-2d:visible", timeout=TIMEOUT)
        assert "Halls and what is on" in page.inner_text("#venue-2d")
        assert errors.violations(page) == []
        context.close()

    assert errors == []


def test_a_recording_plays_under_the_policy(chromium_media, congress):
    errors = PolicyErrors(websocket_expected=False)
    env = {"RECORDINGS_ROOT": str(congress["recording_root"])}
    with daphne_processes(1, env=env) as (port,):
        base = f"http://127.0.0.1:{port}"
        # A recording plays through hls.js (Media Source: blob: media, a blob: worker).
        context, page = open_page(chromium_media, base, congress["physician"], errors)
        visit(page, f"{base}/recordings/{congress['recording'].pk}/", errors)
        page.wait_for_function("() => window.medvenue && window.medvenue.player", timeout=TIMEOUT)
        page.click("#player-toggle")
        page.wait_for_function(
            "() => document.getElementById('player-video').currentTime > 1", timeout=TIMEOUT
        )
        assert errors.violations(page) == []
        page.goto("about:blank")
        context.close()

    assert errors == []


def test_the_studio_publishes_the_camera_under_the_policy(chromium_media, congress):
    errors = PolicyErrors(websocket_expected=False)
    plenary = congress["plenary"]
    with janus_server() as janus, daphne_processes(1, env=janus.environment()) as (port,):
        base = f"http://127.0.0.1:{port}"
        # The speaker's studio: camera and microphone allowed for the site, and they work.
        context, studio = open_page(chromium_media, base, congress["speaker"], errors)
        visit(studio, f"{base}/events/{EVENT}/sessions/{plenary.pk}/studio/", errors)
        assert allows(studio, "camera") and allows(studio, "microphone")
        assert allows(studio, "display-capture")
        studio.click("#studio-start")
        studio.wait_for_function("() => document.body.dataset.publishing === '1'", timeout=TIMEOUT)
        assert studio.inner_text("#studio-cam-state") == "Camera ON"
        assert errors.violations(studio) == []
        context.close()

    assert errors == []


def test_verification_and_admin_pages_work_under_the_policy(chromium_media, congress):
    errors = PolicyErrors(websocket_expected=False)
    event, plenary = congress["event"], congress["plenary"]
    with daphne_processes(1) as (port,):
        base = f"http://127.0.0.1:{port}"
        # The public verification page of a certificate.
        context, anonymous = open_page(chromium_media, base, None, errors)
        code = congress["certificate"].code
        visit(anonymous, f"{base}/verify/{code}/", errors)
        assert "valid" in anonymous.inner_text("body").lower()

        # The API's docs (Swagger UI) render the schema.
        visit(anonymous, f"{base}/api/docs/", errors)
        anonymous.wait_for_selector(".swagger-ui .info .title", timeout=TIMEOUT)
        assert "MedVenue API" in anonymous.inner_text(".swagger-ui .info .title")
        assert errors.violations(anonymous) == []

        # The admin: the login form (a real POST), then change pages with their widgets.
        visit(anonymous, f"{base}/admin/login/", errors)
        anonymous.fill("#id_username", congress["owner"].email)
        anonymous.fill("#id_password", PASSWORD)
        with anonymous.expect_navigation(timeout=TIMEOUT):
            anonymous.click("input[type=submit]")
        assert anonymous.url == f"{base}/admin/", anonymous.inner_text("body")
        event_pk, hall = event.pk, plenary.hall
        for path in (
            "/admin/",
            "/admin/conference/event/",
            f"/admin/conference/event/{event_pk}/change/",
            f"/admin/conference/event/{event_pk}/schedule/",
            f"/admin/conference/session/{plenary.pk}/change/",
            "/admin/conference/session/add/",
            "/admin/conference/recording/",
            "/admin/conference/recording/add/",
            "/admin/conference/registration/",
            f"/admin/venues/hall/{hall.pk}/change/",
        ):
            visit(anonymous, base + path, errors)
        # Admin JavaScript runs: the session form's date shortcuts and the add-another link.
        anonymous.goto(f"{base}/admin/conference/session/add/")
        anonymous.wait_for_selector(".datetimeshortcuts a", timeout=TIMEOUT)
        anonymous.click(".datetimeshortcuts a:has-text('Today')")
        assert anonymous.input_value("#id_starts_at_0") != ""
        # The schedule grid shows the track colour as an SVG swatch.
        anonymous.goto(f"{base}/admin/conference/event/{event_pk}/schedule/")
        assert anonymous.locator("svg.schedule-swatch rect[fill='#c0392b']").count() >= 1
        assert errors.violations(anonymous) == []
        context.close()
    assert errors == []


def test_the_watch_sees_a_violation(chromium_media, congress):
    """The listener does catch what the policy refuses: an injected inline script is reported
    and does not run, and an inline style attribute is reported."""
    errors = PolicyErrors(websocket_expected=False)
    with daphne_processes(1) as (port,):
        base = f"http://127.0.0.1:{port}"
        context, page = open_page(chromium_media, base, congress["physician"], errors)
        visit(page, f"{base}/events/{EVENT}/", errors)
        page.evaluate(
            """() => {
                const s = document.createElement('script');
                s.textContent = 'window.__ran = true';
                document.body.append(s);
                const d = document.createElement('div');
                d.innerHTML = '<b style="color:red">x</b>';
                document.body.append(d);
            }"""
        )
        page.wait_for_function("() => window.__violations.length >= 2")
        assert page.evaluate("window.__ran === undefined")
        found = errors.violations(page)
        assert any(v.startswith("script-src") for v in found), found
        assert any(v.startswith("style-src") for v in found), found
        context.close()
