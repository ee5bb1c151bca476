"""Venues, halls, organizers and speakers in the admin."""

import pytest

from conference.models import Disclosure
from tests.factories import ProfileFactory
from tests.support.admin import inline_management
from venues.models import Venue


def venue_data(**extra) -> dict:
    return {"name": "New Venue", "slug": "new-venue", **inline_management("halls"), **extra}


def test_hall_admin_is_importable_for_layout_inlines():
    from conference.admin.venues import HallAdmin

    assert HallAdmin.inlines == []


def test_staff_adds_venue_owned_by_their_organizer(client, world):
    client.force_login(world.staff_a)

    response = client.post(
        "/admin/venues/venue/add/", venue_data(organizers=[world.organizer_a.pk])
    )

    assert response.status_code == 302
    venue = Venue.objects.get(slug="new-venue")
    assert list(venue.organizers.all()) == [world.organizer_a]


def test_staff_must_name_an_organizer_for_a_new_venue(client, world):
    client.force_login(world.staff_a)

    response = client.post("/admin/venues/venue/add/", venue_data())

    assert response.context["adminform"].form.errors == {"organizers": ["This field is required."]}
    assert not Venue.objects.filter(slug="new-venue").exists()


def test_staff_cannot_give_a_venue_to_another_organizer(client, world):
    client.force_login(world.staff_a)

    response = client.post(
        "/admin/venues/venue/add/", venue_data(organizers=[world.organizer_b.pk])
    )

    assert list(response.context["adminform"].form.errors) == ["organizers"]
    assert not Venue.objects.filter(slug="new-venue").exists()


def test_editing_a_shared_venue_keeps_the_other_organizers_link(client, world):
    world.organizer_b.venues.add(world.venue_a)
    client.force_login(world.staff_a)
    data = venue_data(name="Renamed", slug=world.venue_a.slug, organizers=[world.organizer_a.pk])
    data.update(inline_management("halls", total=1, initial=1))
    hall = world.hall_a
    data.update(
        {
            "halls-0-id": hall.pk,
            "halls-0-venue": world.venue_a.pk,
            "halls-0-name": hall.name,
            "halls-0-slug": hall.slug,
            "halls-0-kind": hall.kind,
            "halls-0-width_m": hall.width_m,
            "halls-0-depth_m": hall.depth_m,
            "halls-0-capacity": hall.capacity,
            "halls-0-order": hall.order,
        }
    )

    response = client.post(f"/admin/venues/venue/{world.venue_a.pk}/change/", data)

    assert response.status_code == 302
    world.venue_a.refresh_from_db()
    assert world.venue_a.name == "Renamed"
    assert sorted(o.name for o in world.venue_a.organizers.all()) == [
        "Alpha Society",
        "Beta Society",
    ]


def test_hall_form_offers_only_own_venues(client, world):
    client.force_login(world.staff_b)

    response = client.get("/admin/venues/hall/add/")

    assert list(response.context["adminform"].form.fields["venue"].queryset) == [world.venue_b]


def test_speaker_with_nothing_to_disclose_cannot_list_relationships(client, world):
    client.force_login(world.staff_a)
    speaker = world.speaker_a
    data = {
        "event": speaker.event_id,
        "name": speaker.name,
        "has_nothing_to_disclose": "on",
        **inline_management("disclosures", total=1),
        "disclosures-0-company": "Acme Pharma",
        "disclosures-0-relationship": "consultant",
        "disclosures-0-speaker": speaker.pk,
    }

    response = client.post(f"/admin/conference/speaker/{speaker.pk}/change/", data)

    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == [
        "The speaker is marked as having nothing to disclose, yet relationships are listed: "
        "untick “has nothing to disclose” or remove the relationships."
    ]
    assert not Disclosure.objects.exists()


ADMIN_PAGES = [
    "conference/organizer",
    "conference/event",
    "conference/track",
    "conference/session",
    "conference/speaker",
    "conference/registration",
    "venues/venue",
    "venues/hall",
    "accounts/user",
    "accounts/professionalprofile",
]


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_superuser_opens_every_list_add_and_change_page(client, world, superuser, page):
    client.force_login(superuser)
    model = page.split("/")[1]
    obj = {
        "organizer": world.organizer_a,
        "event": world.event_a,
        "track": world.track_a,
        "session": world.session_a,
        "speaker": world.speaker_a,
        "registration": world.registration_a,
        "venue": world.venue_a,
        "hall": world.hall_a,
        "user": world.staff_a,
        "professionalprofile": ProfileFactory(user=world.registrant_a),
    }[model]

    changelist = client.get(f"/admin/{page}/")
    add = client.get(f"/admin/{page}/add/")
    change = client.get(f"/admin/{page}/{obj.pk}/change/")

    assert changelist.status_code == 200
    assert add.status_code == (403 if model == "registration" else 200)
    assert change.status_code == 200


def test_staff_opens_their_event_change_page_with_all_inlines(client, world):
    client.force_login(world.staff_a)

    response = client.get(f"/admin/conference/event/{world.event_a.pk}/change/")

    prefixes = [inline.formset.prefix for inline in response.context["inline_admin_formsets"]]
    assert prefixes == ["tracks", "speakers", "sessions"]
    assert response.context["has_change_permission"] is True
