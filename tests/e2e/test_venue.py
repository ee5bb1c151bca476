"""The browser venue end to end: 3D lobby and halls, portals, budgets, the 2D twin, a11y."""

import io
import json

import pytest
from django.urls import reverse
from PIL import Image

pytestmark = pytest.mark.browser

READY = "document.body.dataset.venueReady === '1'"
TIMEOUT = 90_000

SEATED_CROWD = """(count) => {
  const manifest = JSON.parse(document.getElementById('venue-manifest').textContent);
  const hall = manifest.halls.find((h) => h.slug === window.medvenue.venue.currentHall());
  const seats = [];
  for (const p of hall.placements.filter((p) => p.kind === 'seat_block')) {
    const yaw = p.yaw * Math.PI / 180;
    for (let r = 0; r < p.props.rows; r++) for (let c = 0; c < p.props.columns; c++) {
      const lx = (c - (p.props.columns - 1) / 2) * p.props.seat_spacing;
      const lz = (r - (p.props.rows - 1) / 2) * p.props.row_spacing;
      seats.push([p.x + lx * Math.cos(yaw) + lz * Math.sin(yaw),
                  p.z - lx * Math.sin(yaw) + lz * Math.cos(yaw), p.yaw]);
    }
  }
  for (let i = 0; i < count; i++) {
    const [x, z, yaw] = seats[(i * 7) % seats.length];
    window.medvenue.venue.addAvatar(`a${i}`, {name: `Dr. Attendee ${i}`, x, z, yaw, seated: true});
  }
  return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(
    () => resolve(window.medvenue.venue.stats()))));
}"""


LOBBY_CROWD = """() => {
  const names = ['Dr. Amara Okafor', 'Dr. Lukas Brandt', 'Nurse Maya Chen', 'Dr. Ravi Patel',
    'Dr. Sofia Rossi', 'Dr. Kenji Tanaka', 'Dr. Elena García', 'PharmD Tom Müller'];
  for (let i = 0; i < 40; i++) {
    const angle = i * 2.4;
    const radius = 3 + (i % 9) * 1.4;
    window.medvenue.venue.addAvatar(`l${i}`, {name: names[i % names.length],
      x: Math.cos(angle) * radius * 1.3, z: Math.sin(angle) * radius - 3, yaw: (i * 47) % 360});
  }
}"""


def _url(live_server, path):
    return f"{live_server.url}{path}"


def _lobby(congress):
    return reverse("venue:lobby", kwargs={"event_slug": congress["event"].slug})


def _hall(congress, slug):
    return reverse("venue:hall", kwargs={"event_slug": congress["event"].slug, "hall_slug": slug})


def _open(page, url):
    page.goto(url)
    page.wait_for_function(READY, timeout=TIMEOUT)


def _distinct_colours(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB").resize((160, 100))
    return len(image.getcolors(maxcolors=160 * 100))


def _manifest(page) -> dict:
    return json.loads(page.text_content("#venue-manifest"))


def test_lobby_renders_3d_scene(page, live_server, congress, errors, screenshots):
    _open(page, _url(live_server, _lobby(congress)))

    assert page.evaluate("window.medvenue.venue.currentHall()") == "lobby"
    assert page.evaluate("window.medvenue.venue.mode()") == "3d"
    assert page.is_visible("#venue-canvas")
    assert page.is_hidden("#venue-2d")
    assert _distinct_colours(page.locator("#venue-canvas").screenshot()) > 200
    page.evaluate(LOBBY_CROWD)
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshots / "lobby.png"))
    assert errors == []


def test_portal_walk_lands_in_hall_and_back_button_returns(page, live_server, congress, errors):
    # Reduced motion: the walk is a teleport, so the test does not depend on the frame rate.
    page.emulate_media(reduced_motion="reduce")
    _open(page, _url(live_server, _lobby(congress)))
    portal = next(
        p
        for p in _manifest(page)["halls"][0]["placements"]
        if p["kind"] == "portal" and p["props"]["target_hall"] == "auditorium"
    )

    page.evaluate("([x, z]) => window.medvenue.venue.walkTo(x, z)", [portal["x"], portal["z"]])
    page.wait_for_url(_url(live_server, _hall(congress, "auditorium")), timeout=TIMEOUT)
    page.wait_for_function(READY, timeout=TIMEOUT)

    assert page.evaluate("window.medvenue.venue.currentHall()") == "auditorium"
    assert page.text_content("h1") == "Main Auditorium"
    page.go_back()
    page.wait_for_url(_url(live_server, _lobby(congress)), timeout=TIMEOUT)
    assert errors == []


def test_keyboard_walks_through_portal_behind_the_visitor(page, live_server, congress, errors):
    _open(page, _url(live_server, _hall(congress, "auditorium")))
    page.focus("#venue-canvas")

    page.keyboard.down("ArrowDown")
    page.wait_for_url(_url(live_server, _lobby(congress)), timeout=TIMEOUT)
    page.keyboard.up("ArrowDown")
    page.wait_for_function(READY, timeout=TIMEOUT)

    assert page.evaluate("window.medvenue.venue.currentHall()") == "lobby"
    position = page.evaluate("window.medvenue.venue.position()")
    assert position["z"] < -10  # arrived in front of the auditorium portal, not at the spawn
    assert errors == []


def test_auditorium_draw_calls_with_300_avatars(page, live_server, congress, errors, screenshots):
    _open(page, _url(live_server, _hall(congress, "auditorium")))

    stats = page.evaluate(SEATED_CROWD, 300)

    assert stats["avatars"] == 300
    assert page.evaluate("window.medvenue.venue.avatarCount()") == 300
    assert stats["drawCalls"] <= 100, stats
    assert len(page.evaluate("window.medvenue.venue.visibleLabels()")) <= 8
    page.screenshot(path=str(screenshots / "auditorium.png"))
    page.evaluate("window.medvenue.venue.removeAvatar('a0')")
    assert page.evaluate("window.medvenue.venue.avatarCount()") == 299
    assert errors == []


def test_screen_canvas_is_not_one_colour_in_seminar(page, live_server, congress, errors):
    _open(page, _url(live_server, _hall(congress, "seminar")))

    assert _distinct_colours(page.locator("#venue-canvas").screenshot()) > 200
    assert errors == []


def test_toggle_switches_to_2d_and_is_remembered(page, live_server, congress, errors):
    _open(page, _url(live_server, _lobby(congress)))

    page.click("#venue-mode-toggle")
    assert page.is_visible("#venue-2d")
    assert page.is_hidden("#venue-3d")
    assert page.text_content("#venue-mode-toggle") == "3D view"
    page.reload()
    page.wait_for_selector("#venue-mode-toggle:visible")
    assert page.is_visible("#venue-2d")
    assert page.evaluate("window.medvenue.venue.mode()") == "2d"
    page.click("#venue-mode-toggle")
    page.wait_for_function(READY, timeout=TIMEOUT)
    assert page.is_visible("#venue-canvas")
    assert errors == []


def test_without_webgl_the_2d_twin_appears(page_2d, live_server, congress, errors, screenshots):
    page_2d.goto(_url(live_server, _lobby(congress)))
    page_2d.wait_for_selector("#venue-webgl-note:visible")

    assert page_2d.is_visible("#venue-2d")
    assert page_2d.is_hidden("#venue-3d")
    assert page_2d.is_hidden("#venue-mode-toggle")
    assert page_2d.evaluate("window.medvenue.venue.mode()") == "2d"
    page_2d.evaluate("window.medvenue.venue.addAvatar('x', {name: 'A', x: 0, z: 0})")
    assert page_2d.evaluate("window.medvenue.venue.avatarCount()") == 1
    assert "Heart failure in 2026" in page_2d.text_content("#venue-2d")
    page_2d.screenshot(path=str(screenshots / "lobby-2d.png"), full_page=True)
    assert errors == []


def test_keyboard_alone_reaches_every_hall_from_2d_lobby(page_2d, live_server, congress, errors):
    page_2d.goto(_url(live_server, _lobby(congress)))
    page_2d.wait_for_selector("#venue-webgl-note:visible")
    wanted = {_lobby(congress)} | {_hall(congress, s) for s in ("auditorium", "seminar", "posters")}
    reached = set()

    for _ in range(120):
        page_2d.keyboard.press("Tab")
        href = page_2d.evaluate("document.activeElement.getAttribute('href')")
        if href in wanted:
            reached.add(href)
        if href == _hall(congress, "posters") and reached == wanted:
            break

    assert reached == wanted
    page_2d.keyboard.press("Enter")
    page_2d.wait_for_url(_url(live_server, _hall(congress, "posters")))
    assert page_2d.text_content("h1") == "Poster Hall"
    assert errors == []


@pytest.mark.parametrize("hall_slug", [None, "auditorium", "posters"])
def test_2d_views_have_no_serious_axe_violations(page_2d, live_server, congress, axe, hall_slug):
    path = _hall(congress, hall_slug) if hall_slug else _lobby(congress)
    page_2d.goto(_url(live_server, path))
    page_2d.wait_for_selector("#venue-webgl-note:visible")

    assert axe(page_2d) == []


def test_event_and_session_pages_have_no_serious_axe_violations(
    page_2d, live_server, congress, axe
):
    page_2d.goto(_url(live_server, congress["event"].get_absolute_url()))
    assert axe(page_2d) == []
    page_2d.goto(_url(live_server, congress["plenary"].get_absolute_url()))
    assert axe(page_2d) == []
