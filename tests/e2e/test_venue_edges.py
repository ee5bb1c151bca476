"""Rough edges of the venue: visitors stay off the stage; on a phone the 2D view starts with the
session panel (questions and chat) before the long 2D twin."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.browser

READY = "document.body.dataset.venueReady === '1'"
TIMEOUT = 90_000

INSIDE_STAGE = """() => {
  const manifest = JSON.parse(document.getElementById('venue-manifest').textContent);
  const hall = manifest.halls.find((h) => h.slug === window.medvenue.venue.currentHall());
  const me = window.medvenue.venue.position();
  return hall.placements.filter((p) => p.kind === 'stage').some((p) => {
    const yaw = (p.yaw || 0) * Math.PI / 180;
    const dx = me.x - p.x, dz = me.z - p.z;
    const lx = dx * Math.cos(yaw) - dz * Math.sin(yaw);
    const lz = dx * Math.sin(yaw) + dz * Math.cos(yaw);
    return Math.abs(lx) < p.width / 2 && Math.abs(lz) < p.depth / 2;
  });
}"""


def _hall_url(live_server, congress, slug):
    path = reverse("venue:hall", kwargs={"event_slug": congress["event"].slug, "hall_slug": slug})
    return f"{live_server.url}{path}"


def test_walking_onto_the_stage_stops_at_its_edge(page, live_server, congress, errors):
    page.emulate_media(reduced_motion="reduce")  # the walk is a teleport: no frame-rate race
    page.goto(_hall_url(live_server, congress, "auditorium"))
    page.wait_for_function(READY, timeout=TIMEOUT)
    stage = page.evaluate(
        """() => JSON.parse(document.getElementById('venue-manifest').textContent).halls
             .find((h) => h.slug === 'auditorium').placements.find((p) => p.kind === 'stage')"""
    )

    page.evaluate("([x, z]) => window.medvenue.venue.walkTo(x, z)", [stage["x"], stage["z"]])

    assert page.evaluate(INSIDE_STAGE) is False
    assert errors == []


def test_phone_2d_view_shows_the_session_panel_before_the_twin(
    chromium_without_webgl, live_server, congress, errors, screenshots
):
    from tests.e2e.conftest import _logged_in_context

    context = _logged_in_context(
        chromium_without_webgl,
        live_server,
        congress["user"],
    )
    page = errors.attach(context.new_page())
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(_hall_url(live_server, congress, "auditorium"))
    page.wait_for_selector("#venue[data-mode='2d']")

    panel = page.locator("#panel-session").bounding_box()
    twin = page.locator("#venue-2d").bounding_box()
    assert panel["y"] < twin["y"]
    assert panel["y"] < 844  # on the first screen
    page.screenshot(path=str(screenshots / "venue-phone-2d.png"))
    context.close()
    assert errors == []
