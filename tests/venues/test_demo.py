import pytest

from tests.venues.conftest import parse_svg
from venues.demo import build_demo_venue
from venues.floorplan import render_floor_plan_svg
from venues.models import Hall, Placement, PlacementKind, Zone
from venues.validation import validate_venue_layout

pytestmark = pytest.mark.django_db


def _rows():
    return (
        list(Hall.objects.order_by("pk").values()),
        list(Placement.objects.order_by("pk").values()),
        list(Zone.objects.order_by("pk").values()),
    )


def test_build_demo_venue_twice_gives_same_rows():
    first = build_demo_venue()
    rows = _rows()

    second = build_demo_venue()

    assert second.pk == first.pk
    assert _rows() == rows
    assert (first.layout_version, second.layout_version) == (1, 1)


def test_build_demo_venue_is_valid_and_published():
    venue = build_demo_venue()

    report = validate_venue_layout(venue)

    assert (report.errors, report.warnings) == ([], [])
    assert [h.slug for h in venue.halls.order_by("order")] == [
        "lobby",
        "auditorium",
        "seminar",
        "posters",
    ]
    assert venue.published_layout["lobby"] == "lobby"
    assert venue.published_at is not None


def test_build_demo_venue_has_the_promised_furniture():
    venue = build_demo_venue()
    halls = {h.slug: h for h in venue.halls.all()}

    lobby_portals = halls["lobby"].placements.filter(kind=PlacementKind.PORTAL)
    seats = {slug: sum(p.seat_count for p in hall.placements.all()) for slug, hall in halls.items()}

    assert sorted(p.target_hall.slug for p in lobby_portals) == ["auditorium", "posters", "seminar"]
    assert halls["posters"].placements.filter(kind=PlacementKind.POSTER_BOARD).count() == 12
    assert seats == {"lobby": 0, "auditorium": 400, "seminar": 120, "posters": 0}
    for hall in halls.values():
        parse_svg(render_floor_plan_svg(hall))
