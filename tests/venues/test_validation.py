from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.factories import HallFactory
from tests.venues.conftest import (
    PlacementFactory,
    ZoneFactory,
    make_venue_with_lobby,
    portal_there,
)
from venues.models import HallKind, PlacementKind, ZoneKind
from venues.validation import validate_venue_layout

pytestmark = pytest.mark.django_db


def test_validate_venue_layout_connected_venue_is_valid():
    venue, lobby, _ = make_venue_with_lobby(halls=2)
    PlacementFactory(hall=lobby, kind=PlacementKind.SPAWN, label="Entrance", width=1, depth=1)

    report = validate_venue_layout(venue)

    assert report.errors == []


def test_validate_venue_layout_placement_outside_floor_is_error():
    venue, lobby, _ = make_venue_with_lobby()
    booth = PlacementFactory(
        hall=lobby,
        kind=PlacementKind.BOOTH,
        label="Booth 9",
        x=Decimal("14"),
        width=Decimal("4"),
        props={"exhibitor": "Acme"},
    )

    report = validate_venue_layout(venue)

    assert report.errors == [
        f'Lobby: booth "Booth 9" (#{booth.pk}) at (14, 0) reaches outside the hall floor; '
        "move it inwards or make it smaller."
    ]


def test_validate_venue_layout_rotation_pushes_corner_outside():
    venue, lobby, _ = make_venue_with_lobby()
    # 8 x 1 m at z=7 fits unturned (7.5 < 10); turned 45 degrees its corners reach z=10.18.
    PlacementFactory(hall=lobby, z=Decimal("7"), width=Decimal("8"), depth=Decimal("1"))
    assert validate_venue_layout(venue).errors == []

    lobby.placements.filter(kind=PlacementKind.STAGE).update(yaw=Decimal("45"))
    errors = validate_venue_layout(venue).errors

    assert len(errors) == 1
    assert "reaches outside the hall floor" in errors[0]


def test_validate_venue_layout_boundary_polygon_limits_placements():
    venue, lobby, _ = make_venue_with_lobby()
    # An L-shaped floor: the north-east quarter is missing.
    lobby.boundary = [[-15, -10], [0, -10], [0, 0], [15, 0], [15, 10], [-15, 10]]
    lobby.save()
    lobby.placements.all().update(x=Decimal("-8"))
    kiosk = PlacementFactory(
        hall=lobby, kind=PlacementKind.KIOSK, label="Info", x=5, z=-5, props={"text": "Hi"}
    )

    errors = validate_venue_layout(venue).errors

    assert errors == [
        f'Lobby: kiosk "Info" (#{kiosk.pk}) at (5, -5) reaches outside the hall floor; '
        "move it inwards or make it smaller."
    ]


def test_validate_venue_layout_overlapping_solids_is_error():
    venue, lobby, _ = make_venue_with_lobby()
    stage = PlacementFactory(hall=lobby, label="Stage", width=6, depth=4)
    seats = PlacementFactory(
        hall=lobby,
        kind=PlacementKind.SEAT_BLOCK,
        label="Stalls",
        z=Decimal("3.5"),
        width=6,
        depth=4,
        props={"rows": 4, "columns": 10},
    )

    errors = validate_venue_layout(venue).errors

    assert errors == [
        f'Lobby: stage "Stage" (#{stage.pk}) overlaps seat block "Stalls" (#{seats.pk}); '
        "move one of them apart."
    ]


def test_validate_venue_layout_turned_rectangles_apart_are_fine():
    venue, lobby, _ = make_venue_with_lobby()
    # Bounding boxes overlap but the turned rectangles do not (separating axis).
    PlacementFactory(hall=lobby, label="A", x=-2, z=0, yaw=45, width=4, depth=0.5)
    PlacementFactory(hall=lobby, label="B", x=0, z=2, yaw=45, width=4, depth=0.5)
    PlacementFactory(hall=lobby, label="C", x=0, z=-5, width=2, depth=2)
    PlacementFactory(hall=lobby, label="D", x=2, z=-5, width=2, depth=2)  # touching C

    assert validate_venue_layout(venue).errors == []


def test_validate_venue_layout_elevated_screen_may_hang_over_stage():
    venue, lobby, _ = make_venue_with_lobby()
    PlacementFactory(hall=lobby, label="Stage", width=10, depth=4)
    PlacementFactory(
        hall=lobby,
        kind=PlacementKind.SCREEN,
        label="Screen",
        width=8,
        depth=Decimal("0.2"),
        props={"elevation": 2.5},
    )
    assert validate_venue_layout(venue).errors == []

    lobby.placements.filter(kind=PlacementKind.SCREEN).update(props={"elevation": 0})
    assert len(validate_venue_layout(venue).errors) == 1


def test_validate_venue_layout_portal_to_another_venue_is_error():
    venue, lobby, _ = make_venue_with_lobby()
    elsewhere = HallFactory(name="Elsewhere Hall")
    portal = portal_there(lobby, elsewhere, x=8, label="Wrong way")

    errors = validate_venue_layout(venue).errors

    assert errors == [
        f'Lobby: portal "Wrong way" (#{portal.pk}) leads to Elsewhere Hall, '
        "a hall of another venue."
    ]


def test_validate_venue_layout_portal_to_own_hall_is_error():
    venue, lobby, _ = make_venue_with_lobby()
    portal = portal_there(lobby, lobby, x=8, label="Loop")

    errors = validate_venue_layout(venue).errors

    assert errors == [
        f'Lobby: portal "Loop" (#{portal.pk}) leads to its own hall; choose another hall.'
    ]


def test_validate_venue_layout_unreachable_hall_is_error():
    venue, lobby, _ = make_venue_with_lobby()
    island = HallFactory(venue=venue, name="Island", width_m=20, depth_m=20)
    portal_there(island, lobby)  # a way out, but no way in

    errors = validate_venue_layout(venue).errors

    assert errors == [
        "Island cannot be reached from Lobby: no chain of portals leads there. Add a portal to it."
    ]


def test_validate_venue_layout_reachable_through_another_hall():
    venue, _lobby, (hall,) = make_venue_with_lobby()
    inner = HallFactory(venue=venue, name="Inner", width_m=20, depth_m=20)
    portal_there(hall, inner, x=6)

    assert validate_venue_layout(venue).errors == []


@pytest.mark.parametrize("lobbies", [0, 2])
def test_validate_venue_layout_needs_exactly_one_lobby(lobbies):
    venue, lobby, (hall,) = make_venue_with_lobby()
    if lobbies == 0:
        lobby.kind = HallKind.AUDITORIUM
        lobby.save()
    else:
        hall.kind = HallKind.LOBBY
        hall.save()
    names = "none" if lobbies == 0 else ", ".join(sorted(["Lobby", hall.name]))

    errors = validate_venue_layout(venue).errors

    assert errors == [f"A venue needs exactly one lobby; it has {lobbies} ({names})."]


def test_validate_venue_layout_bad_props_name_the_placement():
    venue, lobby, _ = make_venue_with_lobby()
    booth = PlacementFactory(
        hall=lobby, kind=PlacementKind.BOOTH, label="Booth 1", x=8, props={"colour": "red"}
    )

    errors = validate_venue_layout(venue).errors

    assert errors == [
        f'Lobby: booth "Booth 1" (#{booth.pk}): Unknown properties for a booth: colour '
        "(allowed: exhibitor)."
    ]


def test_validate_venue_layout_seats_must_fit_their_block():
    venue, lobby, _ = make_venue_with_lobby()
    block = PlacementFactory(
        hall=lobby,
        kind=PlacementKind.SEAT_BLOCK,
        label="Stalls",
        width=5,
        depth=5,
        props={"rows": 4, "columns": 10, "seat_spacing": 0.6},
    )

    errors = validate_venue_layout(venue).errors

    assert errors == [
        f'Lobby: seat block "Stalls" (#{block.pk}): 10 seats a row need 6.00 m but the '
        "block is 5 m wide."
    ]


def test_validate_venue_layout_seat_budgets():
    venue, lobby, (hall,) = make_venue_with_lobby()
    lobby.capacity = 100
    lobby.save()
    PlacementFactory(
        hall=lobby,
        kind=PlacementKind.SEAT_BLOCK,
        label="Stalls",
        width=14,
        depth=10,
        props={"rows": 10, "columns": 20, "row_spacing": 0.9, "seat_spacing": 0.6},
    )

    report = validate_venue_layout(venue)

    assert report.errors == []
    assert report.warnings == [
        f"{hall.name}: no spawn point; visitors will appear in the middle of the floor.",
        "Lobby: 200 seats but an avatar capacity of 100; some seats will stay empty.",
        "Lobby: no spawn point; visitors will appear in the middle of the floor.",
    ]


def test_validate_venue_layout_too_many_seats_is_error():
    venue, lobby, _ = make_venue_with_lobby()
    lobby.width_m = 100
    lobby.depth_m = 100
    lobby.save()
    PlacementFactory(
        hall=lobby,
        kind=PlacementKind.SEAT_BLOCK,
        label="Arena",
        width=25,
        depth=46,
        props={"rows": 50, "columns": 41, "row_spacing": 0.9, "seat_spacing": 0.6},
    )

    errors = validate_venue_layout(venue).errors

    assert errors == ["Lobby: 2050 seats; at most 2000 per hall."]


def test_validate_venue_layout_too_many_placements_is_error():
    venue, lobby, _ = make_venue_with_lobby()
    PlacementFactory.create_batch(400, hall=lobby, kind=PlacementKind.SPAWN, width=1, depth=1)

    errors = validate_venue_layout(venue).errors

    assert errors == ["Lobby: 401 placements; at most 400 per hall keep the 3D view smooth."]


def test_validate_venue_layout_zone_outside_floor_is_error():
    venue, lobby, _ = make_venue_with_lobby()
    ZoneFactory(hall=lobby, label="Garden", polygon=[[10, 5], [20, 5], [20, 9]])

    errors = validate_venue_layout(venue).errors

    assert errors == ['Lobby: quiet zone "Garden" reaches outside the hall floor.']


def test_validate_venue_layout_capacity_zone_needs_max_people():
    venue, lobby, _ = make_venue_with_lobby()
    ZoneFactory(hall=lobby, kind=ZoneKind.CAPACITY, label="Limit", props={})

    errors = validate_venue_layout(venue).errors

    assert errors == [
        'Lobby: capacity limit zone "Limit": Most people must be a whole number between 1 '
        "and 10000."
    ]


def test_placement_clean_portal_to_other_venue_is_refused():
    _venue, lobby, _ = make_venue_with_lobby()
    portal = portal_there(lobby, HallFactory())

    with pytest.raises(ValidationError) as caught:
        portal.full_clean()

    assert caught.value.message_dict == {
        "target_hall": ["A portal can only lead to a hall of the same venue."]
    }


def test_placement_clean_fills_seat_block_defaults():
    _, lobby, _ = make_venue_with_lobby()
    block = PlacementFactory.build(
        hall=lobby, kind=PlacementKind.SEAT_BLOCK, label="S", props={"rows": 2, "columns": 3}
    )

    block.full_clean()

    assert block.props == {"rows": 2, "columns": 3, "row_spacing": 0.9, "seat_spacing": 0.6}


def test_hall_clean_boundary_beyond_size_is_refused():
    hall = HallFactory.build(width_m=10, depth_m=10, boundary=[[-6, -5], [5, -5], [5, 5]])

    with pytest.raises(ValidationError) as caught:
        hall.clean()

    assert caught.value.message_dict == {
        "boundary": [
            "The floor outline reaches beyond the hall's 10 × 10 m; widen the hall or move the "
            "points."
        ]
    }
