import pytest

from tests.factories import EventFactory, OrganizerFactory
from tests.venues.conftest import PlacementFactory, make_venue_with_lobby
from venues.models import Placement, PlacementKind, Venue

pytestmark = pytest.mark.django_db


def _change_url(hall) -> str:
    return f"/admin/venues/hall/{hall.pk}/change/"


def _hall_form(hall, placements: list[dict]) -> dict:
    data = {
        "venue": hall.venue_id,
        "name": hall.name,
        "slug": hall.slug,
        "kind": hall.kind,
        "width_m": hall.width_m,
        "depth_m": hall.depth_m,
        "capacity": hall.capacity,
        "description": hall.description,
        "boundary": "[]",
        "order": hall.order,
        "placements-TOTAL_FORMS": len(placements),
        "placements-INITIAL_FORMS": 0,
        "zones-TOTAL_FORMS": 0,
        "zones-INITIAL_FORMS": 0,
    }
    for index, placement in enumerate(placements):
        for key, value in placement.items():
            data[f"placements-{index}-{key}"] = value
    return data


def _existing_placements(hall) -> dict:
    """Keep the hall's current placements untouched in the formset."""
    rows = list(hall.placements.all())
    data = {"placements-INITIAL_FORMS": len(rows)}
    for index, row in enumerate(rows):
        data.update(
            {
                f"placements-{index}-id": row.pk,
                f"placements-{index}-hall": hall.pk,
                f"placements-{index}-kind": row.kind,
                f"placements-{index}-label": row.label,
                f"placements-{index}-x": row.x,
                f"placements-{index}-z": row.z,
                f"placements-{index}-yaw": row.yaw,
                f"placements-{index}-width": row.width,
                f"placements-{index}-depth": row.depth,
                f"placements-{index}-height": row.height,
                f"placements-{index}-target_hall": row.target_hall_id or "",
                f"placements-{index}-props": "{}",
                f"placements-{index}-order": row.order,
            }
        )
    return data


def test_hall_admin_shows_floor_plan_and_preview_link(client, superuser):
    venue, lobby, (hall,) = make_venue_with_lobby()
    event = EventFactory(venue=venue, slug="derm-days")
    PlacementFactory(
        hall=lobby, kind=PlacementKind.KIOSK, label="<b>Help</b>", x=5, props={"text": "Hi"}
    )
    client.force_login(superuser)

    html = client.get(_change_url(lobby)).content.decode()

    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert "&lt;b&gt;Help&lt;/b&gt;" in html
    assert "<b>Help</b>" not in html
    assert f'href="/events/{event.slug}/venue/lobby/"' in html  # the admin's 3D preview link
    assert f'href="/admin/venues/hall/{hall.pk}/change/"' in html  # the portal, linked
    assert "placements-TOTAL_FORMS" in html
    assert "zones-TOTAL_FORMS" in html
    assert "Warning: Lobby: no spawn point" in html


def test_hall_admin_refuses_invalid_placement_and_saves_nothing(client, superuser):
    _, lobby, _ = make_venue_with_lobby()
    other_venue_hall = make_venue_with_lobby()[2][0]
    client.force_login(superuser)
    data = _hall_form(lobby, [])
    data.update(_existing_placements(lobby))
    new = {
        "kind": "portal",
        "label": "Sneaky",
        "x": 0,
        "z": 0,
        "yaw": 0,
        "width": 3,
        "depth": "0.5",
        "height": 3,
        "target_hall": other_venue_hall.pk,
        "props": "{}",
        "order": 1,
    }
    index = data["placements-INITIAL_FORMS"]
    data.update({f"placements-{index}-{key}": value for key, value in new.items()})
    data["placements-TOTAL_FORMS"] = index + 1
    before = list(Placement.objects.order_by("pk").values())

    response = client.post(_change_url(lobby), data)

    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert response.status_code == 200
    assert errors == [
        {},
        {
            "target_hall": [
                "Select a valid choice. That choice is not one of the available choices.",
                "Choose the hall this portal leads to.",
            ]
        },
    ]
    assert list(Placement.objects.order_by("pk").values()) == before


def test_hall_admin_refuses_bad_props_with_message(client, superuser):
    _, lobby, _ = make_venue_with_lobby()
    client.force_login(superuser)
    data = _hall_form(lobby, [])
    data.update(_existing_placements(lobby))
    new = {
        "kind": "seat_block",
        "label": "Stalls",
        "x": 0,
        "z": 0,
        "yaw": 0,
        "width": 6,
        "depth": 4,
        "height": 1,
        "props": '{"rows": 4}',
        "order": 1,
    }
    index = data["placements-INITIAL_FORMS"]
    data.update({f"placements-{index}-{key}": value for key, value in new.items()})
    data["placements-TOTAL_FORMS"] = index + 1

    response = client.post(_change_url(lobby), data)

    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors[1] == {"props": ["Columns must be a whole number between 1 and 100."]}
    assert not Placement.objects.filter(label="Stalls").exists()


def test_hall_admin_publish_action_publishes_venue(client, superuser):
    venue, lobby, (hall,) = make_venue_with_lobby()
    client.force_login(superuser)

    response = client.post(
        "/admin/venues/hall/",
        {"action": "publish_venue_layouts", "_selected_action": [lobby.pk, hall.pk]},
        follow=True,
    )

    venue.refresh_from_db()
    assert venue.layout_version == 1
    assert f"{venue.name}: layout version 1 is now live." in response.content.decode()


def test_hall_admin_publish_action_reports_errors(client, superuser):
    venue, lobby, _ = make_venue_with_lobby()
    PlacementFactory(hall=lobby, label="Far away", x=40)
    client.force_login(superuser)

    response = client.post(
        "/admin/venues/hall/",
        {"action": "publish_venue_layouts", "_selected_action": [lobby.pk]},
        follow=True,
    )

    assert Venue.objects.get(pk=venue.pk).layout_version == 0
    assert f"{venue.name} was not published: Lobby: stage" in response.content.decode()


def test_hall_admin_other_organizer_staff_cannot_publish(client):
    from tests.factories import MembershipFactory

    venue, lobby, _ = make_venue_with_lobby()
    outsider = MembershipFactory(organizer=OrganizerFactory()).user
    client.force_login(outsider)

    client.post(
        "/admin/venues/hall/",
        {"action": "publish_venue_layouts", "_selected_action": [lobby.pk]},
    )

    assert Venue.objects.get(pk=venue.pk).layout_version == 0


def test_hall_save_out_of_bounds_says_the_layout_breaks_a_rule(client, superuser):
    from venues.services import publish_layout

    venue, lobby, _ = make_venue_with_lobby()
    publish_layout(venue, force=True)
    client.force_login(superuser)
    data = _hall_form(lobby, [])
    data.update(_existing_placements(lobby))
    index = data["placements-INITIAL_FORMS"]
    block = {
        "kind": "seat_block",
        "label": "Far seats",
        "x": 500,
        "z": 0,
        "yaw": 0,
        "width": 3,
        "depth": 2,
        "height": 1,
        "target_hall": "",
        "props": '{"rows": 2, "columns": 4, "row_spacing": 0.9, "seat_spacing": 0.6}',
        "order": 9,
    }
    data.update({f"placements-{index}-{key}": value for key, value in block.items()})
    data["placements-TOTAL_FORMS"] = index + 1

    response = client.post(_change_url(lobby), data, follow=True)

    texts = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert len(texts) == 1
    level, text = texts[0]
    assert level == "error"
    assert "was changed successfully" in text
    assert "The layout is saved but breaks" in text
    assert "Far seats" in text
    html = response.content.decode()
    assert "Attendees do not see your saved layout changes yet." in html
    assert "They see version 1 of" in html


def test_banner_publish_button_publishes_and_disappears(client, superuser):
    from venues.services import publish_layout

    venue, lobby, _ = make_venue_with_lobby()
    publish_layout(venue, force=True)
    client.force_login(superuser)
    assert "Attendees do not see" not in client.get(_change_url(lobby)).content.decode()
    PlacementFactory(
        hall=lobby, kind=PlacementKind.KIOSK, label="Help desk", x=3, props={"text": "Hi"}
    )
    html = client.get(_change_url(lobby)).content.decode()
    assert "Attendees do not see your saved layout changes yet." in html
    assert f'action="/admin/venues/hall/{lobby.pk}/publish/"' in html

    response = client.post(f"/admin/venues/hall/{lobby.pk}/publish/", follow=True)

    venue.refresh_from_db()
    assert venue.layout_version == 2
    assert "Attendees do not see" not in response.content.decode()
    assert client.get(f"/admin/venues/hall/{lobby.pk}/publish/").status_code == 405
