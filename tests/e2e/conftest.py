"""Browser fixtures: headless Debian Chromium driven by Playwright against `live_server`.

The front-end bundle must be built first (`npm ci && npm run build`); a missing bundle fails
the tests with that instruction rather than with a blank page.
"""

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright._impl.frame import Frame

from tests.factories import (
    EventFactory,
    ProfileFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    UserFactory,
)
from tests.live.conftest import _clean_redis_presence  # noqa: F401 (autouse: presence, limits)
from venues.demo import build_demo_venue

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "static" / "dist" / "venue.js"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-gpu-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 900}


# A polled `wait_for_function("expression")` makes Playwright evaluate the expression with
# eval() inside the page on every poll after the first, which the pages' Content-Security-Policy
# refuses ('unsafe-eval' is never allowed, docs/security.md). A function is passed as a
# function instead; so every expression is turned into one (`() => (expression)`).
_FUNCTION = re.compile(r"^\s*(async\s*)?(function\b|\([^()]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>)")
_wait_for_function = Frame.wait_for_function


async def _wait_for_function_as_function(self, expression, *args, **kwargs):
    if isinstance(expression, str) and not _FUNCTION.match(expression):
        expression = f"() => ({expression})"
    return await _wait_for_function(self, expression, *args, **kwargs)


Frame.wait_for_function = _wait_for_function_as_function


@pytest.fixture(scope="session")
def bundle():
    if not BUNDLE.exists():
        pytest.fail(
            f"{BUNDLE.relative_to(ROOT)} is missing: build the front end first with "
            "`npm ci && npm run build`.",
            pytrace=False,
        )
    return BUNDLE


@pytest.fixture(scope="module")
def playwright_driver():
    """Playwright for one test module at a time.

    Its sync API runs an event loop in this thread while it is open, which the ORM calls of the
    fixtures must be allowed to ignore; both the loop and that allowance end with the module, so
    the async tests that run later in the same process get a thread without a running loop.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as driver:
            yield driver
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launch(driver, extra=()):
    return driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*ARGS, *extra])


@pytest.fixture(scope="module")
def chromium(playwright_driver, bundle):
    browser = _launch(playwright_driver)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def chromium_without_webgl(playwright_driver, bundle):
    browser = _launch(playwright_driver, ["--disable-3d-apis"])
    yield browser
    browser.close()


@pytest.fixture
def congress(transactional_db):
    """The demo venue, a published event in it with a plenary on now, and a registered user."""
    venue = build_demo_venue()
    today = timezone.now().date()
    event = EventFactory(
        slug="cardiology-2026",
        title="Cardiology Congress 2026",
        timezone="America/Chicago",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=1),
        venue=venue,
    )
    event.organizer.venues.add(venue)
    moment = timezone.now().replace(second=0, microsecond=0)
    plenary = SessionFactory(
        event=event,
        hall=venue.halls.get(slug="auditorium"),
        title="Heart failure in 2026: what changed the guidelines",
        starts_at=moment - dt.timedelta(minutes=15),
        ends_at=moment + dt.timedelta(minutes=75),
    )
    plenary.speakers.set(
        [
            SpeakerFactory(event=event, name="Dr. Amara Okafor", credentials="MD, FACC"),
            SpeakerFactory(event=event, name="Dr. Lukas Brandt", credentials="MD, PhD"),
        ]
    )
    SessionFactory(
        event=event,
        hall=venue.halls.get(slug="seminar"),
        title="Workshop: point-of-care echocardiography",
        starts_at=moment + dt.timedelta(minutes=30),
        ends_at=moment + dt.timedelta(minutes=120),
    )
    registration = RegistrationFactory(event=event)
    return {"event": event, "venue": venue, "plenary": plenary, "user": registration.user}


def live_congress():
    """The demo venue and a published event in it ("live-congress", Europe/Berlin) that runs
    from yesterday to tomorrow, for the live-panel tests to add their sessions to."""
    venue = build_demo_venue()
    today = timezone.now().date()
    event = EventFactory(
        slug="live-congress",
        timezone="Europe/Berlin",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=1),
        venue=venue,
    )
    return venue, event


def registered_person(event, name: str, role: str = "attendee"):
    """A user called `name` (display and legal name) registered for `event` in `role`."""
    user = UserFactory(display_name=name)
    ProfileFactory(user=user, legal_name=name)
    RegistrationFactory(user=user, event=event, role=role)
    return user


class PageErrors(list):
    """Console errors and uncaught exceptions seen by one page.

    Django's `live_server` speaks HTTP only, so the hall socket cannot connect there; that one
    browser message is expected and ignored. The live layer's own browser test runs on a real
    ASGI server and allows no console error at all (tests/e2e/test_live.py).
    """

    def __init__(self, *, websocket_expected: bool = True):
        super().__init__()
        self.websocket_expected = websocket_expected

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if self.websocket_expected and "WebSocket connection to" in message.text:
            return
        self.append(f"console: {message.text}")

    def attach(self, page):
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.append(f"pageerror: {e}"))
        return page


def _logged_in_context(browser, live_server, user, **options):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=VIEWPORT, **options)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


@pytest.fixture
def errors():
    return PageErrors()


@pytest.fixture
def page(chromium, live_server, congress, errors):
    context = _logged_in_context(chromium, live_server, congress["user"])
    yield errors.attach(context.new_page())
    context.close()


@pytest.fixture
def page_2d(chromium_without_webgl, live_server, congress, errors):
    context = _logged_in_context(chromium_without_webgl, live_server, congress["user"])
    yield errors.attach(context.new_page())
    context.close()


@pytest.fixture
def screenshots(tmp_path):
    """Where tests save their screenshots: a temporary folder, or docs/screenshots/ when
    MEDVENUE_SCREENSHOTS=1 (to refresh the pictures in the docs on purpose)."""
    if os.environ.get("MEDVENUE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


@pytest.fixture
def axe():
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci` first.", pytrace=False)

    def run(page) -> list[dict]:
        # Not add_script_tag: an inline <script> is refused by the pages' Content-Security-
        # Policy. DevTools' evaluation is outside the policy.
        page.evaluate(AXE.read_text() + "\n;0")
        result = page.evaluate(
            """() => axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"""
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return run
