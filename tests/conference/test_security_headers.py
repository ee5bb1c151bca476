"""Content-Security-Policy, Permissions-Policy and `no-store` on the pages that need them
(docs/security.md); the 429 of both login forms."""

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from conference.models import RegistrationRole
from conference.services import agenda
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.claims import claim_credit
from conference.unavailable import unavailable_response
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    RegistrationFactory,
    SpeakerFactory,
    UserFactory,
)
from tests.support.cme import attend, evaluate, learner, make_event
from venues.demo import build_demo_venue

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    found = {}
    for part in header.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


class PageScan(HTMLParser):
    """Everything in a page that a strict policy cares about."""

    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []  # inline scripts: their attributes and text
        self.styles: list[dict] = []
        self.problems: list[str] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> (inline event handler)")
            if name == "style":
                self.problems.append(f"<{tag} style=...> (inline style attribute)")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:...>")
        if tag in ("script", "style"):
            self._open = {"tag": tag, "attrs": attributes, "text": ""}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if self._open is not None and tag == self._open["tag"]:
            block, self._open = self._open, None
            if tag == "script" and "src" not in block["attrs"]:
                self.scripts.append(block)
            elif tag == "style":
                self.styles.append(block)


def sha256(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def assert_strict(response, *, capture: bool = False) -> None:
    """The page carries a strict policy and nothing in it needs more than the policy allows."""
    directives = policy(response)
    script_src = directives["script-src"]
    nonce = next(v for v in script_src if v.startswith("'nonce-"))[len("'nonce-") : -1]
    assert len(nonce) >= 22
    for name, values in directives.items():
        assert "'unsafe-inline'" not in values, name
        assert "'unsafe-eval'" not in values, name
        assert "'unsafe-hashes'" not in values, name
        assert "*" not in values and "http:" not in values and "https:" not in values, name
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]
    if response["Content-Type"].startswith("text/html"):
        scan = PageScan()
        scan.feed(response.content.decode())
        assert scan.problems == []
        for block in scan.scripts:
            # Data blocks (json_script) never run; anything that runs carries the nonce.
            assert (
                block["attrs"].get("type") == "application/json"
                or block["attrs"].get("nonce") == nonce
            ), block
        for block in scan.styles:
            assert (
                block["attrs"].get("nonce") == nonce
                or sha256(block["text"]) in directives["style-src"]
            ), block
    features = dict(
        part.strip().split("=", 1) for part in response["Permissions-Policy"].split(",")
    )
    expected = "(self)" if capture else "()"
    for feature in ("camera", "microphone", "display-capture"):
        assert features[feature] == expected, (feature, response.request["PATH_INFO"])
    assert features["geolocation"] == "()"


@pytest.fixture
def world(db, settings, media_root, django_capture_on_commit_callbacks):
    settings.JANUS_WS_URLS = []
    settings.JANUS_ADMIN_URLS = []
    event, session = make_event()
    venue = build_demo_venue()
    hall = venue.halls.get(slug="auditorium")
    session.hall = hall
    session.save()
    event.venue = venue
    event.save()
    event.organizer.venues.add(venue)
    person = learner(legal_name="Grace Hopper")
    person.display_name = "Dr Grace"
    person.save()
    RegistrationFactory(event=event, user=person)
    attend(person, session, minutes=60)
    evaluate(person, event)
    claim = claim_credit(person, event, "AMA_PRA_1", amount="1.00", attested=True)
    with django_capture_on_commit_callbacks(execute=True):
        certificate = issue_certificate(claim.pk)
    speaker = UserFactory(display_name="Dr Speaker")
    RegistrationFactory(event=event, user=speaker, role=RegistrationRole.SPEAKER)
    session.speakers.add(SpeakerFactory(event=event, user=speaker))
    owner = MembershipFactory(organizer=event.organizer, role="owner").user
    return {
        "event": event,
        "session": session,
        "hall": hall,
        "person": person,
        "speaker": speaker,
        "owner": owner,
        "certificate": certificate,
    }


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_pages_have_a_strict_policy(client, world):
    event, session = world["event"], world["session"]
    code = world["certificate"].code
    for url in (
        "/",
        event.get_absolute_url(),
        session.get_absolute_url(),
        reverse("accounts:login"),
        reverse("accounts:signup"),
        reverse("accounts:password_reset"),
        "/admin/login/",
        "/api/docs/",
        reverse("cme-verify", kwargs={"code": code}),
        "/no-such-page/",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_strict(response)


def test_api_docs_start_script_is_a_file(client, world):
    page = client.get("/api/docs/")
    assert b"/api/docs/?script=" in page.content
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_each_response_has_its_own_nonce(client, world):
    first = policy(client.get("/"))["script-src"]
    second = policy(client.get("/"))["script-src"]
    assert first != second


def test_attendee_pages_have_a_strict_policy_and_deny_the_camera(world):
    event, session, hall = world["event"], world["session"], world["hall"]
    client = signed_in(world["person"])
    urls = [
        "/",
        event.get_absolute_url(),
        session.get_absolute_url(),
        reverse("conference:my-events"),
        reverse("accounts:profile"),
        reverse("accounts:my-data"),
        reverse("accounts:erase"),
        reverse("cme:event", kwargs={"event_slug": event.slug}),
        reverse("cme:transcript"),
        reverse("venue:lobby", kwargs={"event_slug": event.slug}),
        reverse("venue:hall", kwargs={"event_slug": event.slug, "hall_slug": hall.slug}),
        reverse("venue:hall", kwargs={"event_slug": event.slug, "hall_slug": hall.slug})
        + "?view=2d",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)


def test_the_studio_alone_allows_camera_microphone_and_screen_for_the_site(world):
    session = world["session"]
    url = reverse(
        "media:studio", kwargs={"event_slug": session.event.slug, "session_id": session.pk}
    )
    response = signed_in(world["speaker"]).get(url)
    assert response.status_code == 200
    assert_strict(response, capture=True)
    # The studio's JSON endpoints and the session page around it get no camera.
    assert_strict(signed_in(world["speaker"]).get(session.get_absolute_url()))


def test_admin_pages_have_a_strict_policy(world):
    event, session = world["event"], world["session"]
    client = signed_in(world["owner"])
    for url in (
        "/admin/",
        "/admin/conference/event/",
        f"/admin/conference/event/{event.pk}/change/",
        f"/admin/conference/session/{session.pk}/change/",
        "/admin/conference/registration/",
        "/admin/conference/recording/",
        "/admin/conference/recording/add/",
        reverse("admin:conference_event_schedule", args=[event.pk]),
        f"/admin/venues/hall/{world['hall'].pk}/change/",
        f"/admin/venues/venue/{world['hall'].venue_id}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict(response)


def test_error_pages_styles_are_allowed_by_hash(client, rf, world):
    allowed = policy(client.get("/"))["style-src"]
    for template in ("500.html", "503.html"):
        html = render_to_string(template)
        style = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
        assert sha256(style) in allowed, template
    assert unavailable_response(rf.get("/")).status_code == 503


@pytest.mark.urls("tests.conference.failing_urls")
def test_a_server_error_page_has_the_policy(world):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_strict(response)


# --- no-store on personal data ---------------------------------------------------------------


def test_personal_data_is_never_stored(world):
    event = world["event"]
    person = world["person"]
    client = signed_in(person)
    feed = agenda.agenda_feed(person, create=True)
    urls = [
        reverse("accounts:export"),
        reverse("accounts:export-zip"),
        reverse("accounts:my-data"),
        reverse("accounts:erase"),
        reverse("accounts:profile"),
        reverse("conference:my-events"),
        reverse("conference:agenda-upcoming"),
        reverse("conference:my-schedule-ics"),
        reverse("cme:event", kwargs={"event_slug": event.slug}),
        reverse("cme:transcript"),
        reverse("cme:transcript-csv"),
        reverse("cme:transcript-pdf"),
        reverse("cme:certificate-download", args=[world["certificate"].pk]),
        event.get_absolute_url(),  # shows the person's registration
        "/",
        "/api/events/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert "no-store" in response["Cache-Control"], url
        assert "public" not in response["Cache-Control"], url
    # The agenda feed is read by calendar programs without a session, through its secret address.
    ics = Client().get(reverse("conference:agenda-ics", args=[feed.token]))
    assert ics.status_code == 200
    assert "no-store" in ics["Cache-Control"]
    # Staff pages show other people's data.
    owner = signed_in(world["owner"])
    for url in ("/admin/conference/registration/", "/admin/accounts/user/"):
        response = owner.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


def test_signed_recording_segments_keep_their_own_caching(world):
    # A view that chose its caching keeps it (the favicon is public and the same for everyone).
    response = signed_in(world["person"]).get("/favicon.ico")
    assert "public" in response["Cache-Control"]
    assert "no-store" not in response["Cache-Control"]


# --- 429 on both login forms -----------------------------------------------------------------


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_both_login_forms_answer_429_while_throttled(client, settings, url):
    cache.clear()
    user = UserFactory(is_staff=True, is_superuser=True)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = client.post(url, {"username": user.email, "password": "wrong"})
        assert response.status_code == 200
    response = client.post(url, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert_strict(response)
    # A good password from another address for another account still works.
    other = UserFactory(is_staff=True, is_superuser=True)
    fresh = Client(REMOTE_ADDR="198.51.100.7")
    assert fresh.post(url, {"username": other.email, "password": PASSWORD}).status_code == 302
    cache.clear()
