import pytest

from tests.venues.conftest import PlacementFactory, ZoneFactory, make_venue_with_lobby, parse_svg
from venues.floorplan import render_floor_plan_svg
from venues.models import PlacementKind, ZoneKind

pytestmark = pytest.mark.django_db
NS = {"svg": "http://www.w3.org/2000/svg"}


def _texts(root, path: str) -> list[str]:
    return ["".join(node.itertext()) for node in root.iterfind(path, NS)]


def test_render_floor_plan_svg_escapes_labels_and_parses():
    _, lobby, _ = make_venue_with_lobby()
    lobby.name = "Lobby <main> & co"
    lobby.save()
    PlacementFactory(
        hall=lobby,
        kind=PlacementKind.KIOSK,
        label='<script>alert("x")</script> & more',
        x=5,
        props={"text": "Q&A <today>"},
    )
    ZoneFactory(hall=lobby, kind=ZoneKind.QUIET, label="Calm & <quiet>")

    svg = render_floor_plan_svg(lobby)
    root = parse_svg(svg)

    assert "<script>" not in svg
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert _texts(root, "svg:title") == ["Floor plan of Lobby <main> & co"]
    assert _texts(root, "svg:g[@class='fp-labels']/svg:text") == [
        lobby.placements.get(kind=PlacementKind.PORTAL).label,
        '<script>alert("x")</script> & more',
    ]
    assert _texts(root, ".//svg:g[@class='fp-zone-group']/svg:text") == ["Calm & <quiet>"]
    assert '<script>alert("x")</script> & more (kiosk): Q&A <today>' in _texts(
        root, ".//svg:g[@class='fp-placement fp-placement-kiosk']/svg:title"
    )


def test_render_floor_plan_svg_describes_hall_for_screen_readers():
    _, lobby, (hall,) = make_venue_with_lobby()
    PlacementFactory(
        hall=lobby,
        kind=PlacementKind.SEAT_BLOCK,
        label="Stalls",
        z=4,
        width=7,
        depth=4,
        props={"rows": 4, "columns": 10},
    )

    root = parse_svg(render_floor_plan_svg(lobby, title="Map"))

    assert _texts(root, "svg:title") == ["Map"]
    assert _texts(root, "svg:desc") == [
        f"Lobby, 30 by 20 metres, front at the top. Contains 1 portal, 1 seat block. "
        f"40 seats. Portals lead to {hall.name}."
    ]
    assert root.get("aria-labelledby") == f"floorplan-{lobby.pk}-title floorplan-{lobby.pk}-desc"
    patterns = root.findall(".//svg:pattern", NS)
    assert [p.get("width") for p in patterns] == ["0.6"]


def test_render_floor_plan_svg_links_portals_given_links():
    _, lobby, (hall,) = make_venue_with_lobby()

    linked = parse_svg(render_floor_plan_svg(lobby, links={hall.slug: "/to/hall?a=1&b=2"}))
    plain = parse_svg(render_floor_plan_svg(lobby))

    anchors = linked.findall(".//svg:a", NS)
    assert [(a.get("href"), a.get("aria-label")) for a in anchors] == [
        ("/to/hall?a=1&b=2", f"To {hall.name}: portal to {hall.name}")
    ]
    assert plain.findall(".//svg:a", NS) == []


def test_render_floor_plan_svg_tolerates_unvalidated_draft_data():
    _, lobby, _ = make_venue_with_lobby()
    PlacementFactory(hall=lobby, kind=PlacementKind.SEAT_BLOCK, label="S", props={"rows": "x"})
    PlacementFactory(hall=lobby, kind=PlacementKind.SCREEN, label="T", x=6, props=["odd"])
    ZoneFactory(hall=lobby, label="Bad", polygon="nope")

    root = parse_svg(render_floor_plan_svg(lobby))

    assert root.findall(".//svg:pattern", NS) == []
    assert _texts(root, ".//svg:g[@class='fp-zone-group']/svg:text") == []
