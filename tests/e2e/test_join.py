"""Join in the venue seats the visitor (3D) or points them at the session panel (2D); sitting
by keyboard walks to the nearest free seat, or says why not."""

import datetime as dt

import pytest
from django.urls import reverse

pytestmark = pytest.mark.browser

READY = "document.body.dataset.venueReady === '1'"
TIMEOUT = 90_000

FILL_SEATS = """(leaveFree) => {
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
  seats.forEach(([x, z, yaw], i) => {
    if (i !== leaveFree) window.medvenue.venue.addAvatar(`s${i}`, {x, z, yaw, seated: true});
  });
  return seats[leaveFree] || null;
}"""


def test_join_from_session_page_seats_the_visitor_in_3d(
    page, live_server, congress, errors, screenshots
):
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server.url}{congress['plenary'].get_absolute_url()}")
    assert page.locator(".badge-live-now").first.text_content() == "Live now"
    page.screenshot(path=str(screenshots / "session-live-now.png"), full_page=True)

    page.get_by_role("link", name="Join in the venue").first.click()
    page.wait_for_function(READY, timeout=TIMEOUT)
    page.wait_for_function("window.medvenue.venue.position()?.seated === true", timeout=TIMEOUT)

    hall = reverse(
        "venue:hall", kwargs={"event_slug": congress["event"].slug, "hall_slug": "auditorium"}
    )
    assert page.url == f"{live_server.url}{hall}"  # ?join=1 is gone: a reload does not re-seat
    assert page.text_content("#venue-joined").startswith("You have joined Main Auditorium: ")
    assert "row" in page.text_content("#venue-status")
    assert errors == []


def test_join_in_2d_points_at_the_session_panel(page_2d, live_server, congress, errors):
    hall = reverse(
        "venue:hall", kwargs={"event_slug": congress["event"].slug, "hall_slug": "auditorium"}
    )
    page_2d.goto(f"{live_server.url}{hall}?join=1")
    page_2d.wait_for_selector("#venue-joined:not([hidden])", timeout=TIMEOUT)

    assert page_2d.text_content("#venue-joined") == (
        "You have joined Main Auditorium. The session, questions and chat are in the panel."
    )
    assert page_2d.evaluate("document.activeElement.id") == "panel-session-heading"
    assert errors == []


def _open_hall(page, live_server, congress, slug):
    page.emulate_media(reduced_motion="reduce")
    url = reverse("venue:hall", kwargs={"event_slug": congress["event"].slug, "hall_slug": slug})
    page.goto(f"{live_server.url}{url}")
    page.wait_for_function(READY, timeout=TIMEOUT)
    page.focus("#venue-canvas")


def test_keyboard_sits_on_the_nearest_free_seat_far_away(page, live_server, congress, errors):
    _open_hall(page, live_server, congress, "seminar")
    free = page.evaluate(FILL_SEATS, 5)
    start = page.evaluate("window.medvenue.venue.position()")
    assert ((free[0] - start["x"]) ** 2 + (free[1] - start["z"]) ** 2) ** 0.5 > 3

    page.keyboard.press("Enter")
    page.wait_for_function("window.medvenue.venue.position()?.seated === true", timeout=TIMEOUT)

    position = page.evaluate("window.medvenue.venue.position()")
    assert abs(position["x"] - free[0]) < 0.01
    assert abs(position["z"] - free[1]) < 0.01
    assert page.text_content("#venue-status").startswith("You are seated: ")
    assert errors == []


def test_keyboard_sit_says_why_not_when_every_seat_is_taken(page, live_server, congress, errors):
    _open_hall(page, live_server, congress, "seminar")
    page.evaluate(FILL_SEATS, -1)

    page.keyboard.press("Enter")

    assert page.text_content("#venue-status") == "Every seat in Seminar Hall B is taken."
    assert page.evaluate("window.medvenue.venue.position().seated") is False
    assert errors == []


def test_keyboard_sit_in_a_hall_without_seats_says_so(page, live_server, congress, errors):
    _open_hall(page, live_server, congress, "lobby")

    page.keyboard.press("Enter")

    assert page.text_content("#venue-status") == (
        "Grand Lobby has no seats; walk around or go through a portal."
    )
    assert errors == []


def test_venue_notice_for_a_starred_session_starting_soon(
    page, live_server, congress, errors, screenshots
):
    from django.utils import timezone

    from conference.services import agenda
    from tests.factories import SessionFactory

    event = congress["event"]
    soon = SessionFactory(
        event=event,
        hall=congress["venue"].halls.get(slug="posters"),
        title="Poster walk: heart failure",
        starts_at=timezone.now() + dt.timedelta(minutes=5, seconds=30),
        ends_at=timezone.now() + dt.timedelta(minutes=50),
    )
    agenda.add_favourite(congress["user"], soon)
    page.goto(f"{live_server.url}{reverse('venue:lobby', kwargs={'event_slug': event.slug})}")
    notice = page.locator(".agenda-notice")
    notice.wait_for(timeout=TIMEOUT)

    assert notice.locator("p").text_content() == (
        "Starting in 6 min in Poster Hall: Poster walk: heart failure"
    )
    join = notice.get_by_role("link", name="Join Poster walk: heart failure")
    assert join.get_attribute("href") == f"/events/{event.slug}/venue/posters/?join=1"
    page.screenshot(path=str(screenshots / "venue-agenda-notice.png"))
    notice.get_by_role("button", name="Dismiss the reminder for Poster walk: heart failure").click()
    assert page.locator(".agenda-notice").count() == 0
    page.reload()
    page.wait_for_function("document.getElementById('agenda-notices').dataset.polls === '1'")
    assert page.locator(".agenda-notice").count() == 0
    assert errors == []
