"""Meeting room placements: their properties, the board they belong to, the floor plan."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import HallFactory
from venues.floorplan import render_floor_plan_svg
from venues.manifest import serialize_placement
from venues.models import Placement, PlacementKind
from venues.validation import validate_hall_layout
from venues.validators import clean_placement_props


def test_meeting_room_props_get_defaults_per_kind():
    assert clean_placement_props("meeting_room", {"room": "workshop"}) == {
        "room": "workshop",
        "capacity": 8,
        "topic": "",
    }
    assert clean_placement_props("meeting_room", {"room": "expert"}) == {
        "room": "expert",
        "capacity": 4,
        "topic": "",
        "slot_minutes": 10,
    }


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"room": "party"},
            "Room must be one of workshop, breakout, expert, poster, booth, lounge",
        ),
        ({"room": "workshop", "capacity": 17}, "Capacity is 17; it must be between 2 and 16."),
        ({"room": "workshop", "capacity": 1}, "Capacity is 1; it must be between 2 and 16."),
        ({"room": "poster"}, "The label of its poster board is required."),
        ({"room": "lounge", "board": "P-01"}, "Only a poster spot or a booth meeting spot"),
        ({"room": "lounge", "slot_minutes": 5}, "Only a meet-the-expert room has a slot length."),
        ({"room": "lounge", "colour": "red"}, "Unknown properties for a meeting room: colour"),
    ],
)
def test_meeting_room_props_refuse_bad_values(props, message):
    with pytest.raises(ValidationError) as refused:
        clean_placement_props("meeting_room", props)
    assert message in refused.value.messages[0]


@pytest.mark.django_db
def test_a_poster_spot_must_name_a_poster_board_of_its_hall():
    hall = HallFactory()
    Placement.objects.create(
        hall=hall, kind=PlacementKind.POSTER_BOARD, label="P-01", props={"title": "Echo"}
    )
    spot = Placement.objects.create(
        hall=hall,
        kind=PlacementKind.MEETING_ROOM,
        label="At P-02",
        props={"room": "poster", "board": "P-02"},
    )
    errors = validate_hall_layout(hall).errors
    assert (
        f'{hall.name}: meeting room "At P-02" (#{spot.pk}): no poster board labelled "P-02" in {hall.name}.'
        in errors
    )
    spot.props = {"room": "poster", "board": "P-01"}
    spot.save()
    assert not any("At P-02" in e for e in validate_hall_layout(hall).errors)
    assert serialize_placement(spot)["props"] == {
        "room": "poster",
        "capacity": 6,
        "topic": "",
        "board": "P-01",
    }
    svg = render_floor_plan_svg(hall)
    assert "At P-02: poster spot, up to 6 people" in svg
    assert "1 meeting room" in svg
