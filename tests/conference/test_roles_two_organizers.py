"""The role matrix across two organizers (docs/roles.md): whatever their role, organizer B's
members get nothing of organizer A — admin pages by id, CME exports, certificate PDFs, the event
dashboard and the API. (The hall socket's cells across organizers are in
tests/live/test_member_roles.py.)"""

import pytest

from conference.models import MembershipRole
from tests.conference.test_roles import (
    EXPORTS,
    MATRIX,
    SECRET_LICENSE,
    SECRET_NPI,
    World,
    export_url,
    url,
)
from tests.factories import EventFactory, MembershipFactory, OrganizerFactory

pytestmark = pytest.mark.django_db

B_ROLES = {
    "owner": MembershipRole.OWNER,
    "cme": MembershipRole.CME_COORDINATOR,
    "content": MembershipRole.CONTENT_MANAGER,
    "moderator": MembershipRole.MODERATOR,
}


@pytest.fixture
def two(media_root):
    world = World()  # organizer A, with a learner who has every kind of record
    beta = OrganizerFactory(name="Beta Society", slug="beta-society")
    world.b_event = EventFactory(organizer=beta, title="Beta Congress")
    world.b_members = {
        name: MembershipFactory(organizer=beta, role=role, user__email=f"{name}@b.example").user
        for name, role in B_ROLES.items()
    }
    world.a_draft = EventFactory(
        organizer=world.organizer, title="Alpha Draft", slug="alpha-draft", is_published=False
    )
    return world


def assert_nothing_of_a(response) -> None:
    body = response.content
    assert SECRET_NPI.encode() not in body and SECRET_LICENSE.encode() not in body
    assert b"Grace Secret-Hopper" not in body
    assert b"PK\x03\x04" not in body[:4] and b"%PDF" not in body[:4]


@pytest.mark.parametrize("role", list(B_ROLES))
def test_admin_pages_of_organizer_a_are_not_found_for_every_role_of_b(client, two, role):
    client.force_login(two.b_members[role])
    for model, obj in two.objects.items():
        for action in ("change", "delete", "history"):
            response = client.get(url(model, action, obj.pk))
            # "not found": a 404, or the admin's redirect to its index for a missing object
            assert response.status_code in (302, 403, 404), (model, action, response.status_code)
            if response.status_code == 302:
                assert response["Location"] in (
                    "/admin/",
                    "/admin/login/?next=" + url(model, action, obj.pk),
                ), (model, action)
            assert_nothing_of_a(response)
        listing = client.get(url(model))
        if listing.status_code == 200:
            assert str(obj.pk) not in _change_links(listing, model), model
        assert_nothing_of_a(listing)
    assert sorted(MATRIX) == sorted(two.objects)
    # A's owner opens the same pages: the refusals above are about the organizer.
    client.force_login(two.members["owner"])
    for model, obj in two.objects.items():
        assert client.get(url(model, "change", obj.pk)).status_code == 200, model


def _change_links(response, model: str) -> set[str]:
    import re

    return set(re.findall(rf'href="/admin/{model}/(\d+)/change/', response.content.decode()))


@pytest.mark.parametrize("role", list(B_ROLES))
def test_exports_certificates_and_dashboard_of_a_are_refused_to_every_role_of_b(client, two, role):
    client.force_login(two.b_members[role])
    for export in EXPORTS:
        response = client.get(export_url(two, export))
        assert response.status_code in (302, 403, 404), (export, response.status_code)
        assert_nothing_of_a(response)
    certificate = client.get(f"/cme/certificates/{two.certificate.pk}/download/")
    assert certificate.status_code == 404
    assert_nothing_of_a(certificate)
    for path in (
        f"/admin/conference/event/{two.event.pk}/dashboard/",
        f"/admin/conference/event/{two.event.pk}/dashboard/?download=csv",
        f"/admin/conference/event/{two.event.pk}/schedule/",
    ):
        response = client.get(path)
        assert response.status_code in (302, 403, 404), (path, response.status_code)
        assert_nothing_of_a(response)
    client.force_login(two.members["cme"])
    assert SECRET_NPI in client.get(export_url(two, "pars_csv")).content.decode()
    assert client.get(f"/cme/certificates/{two.certificate.pk}/download/").status_code == 200


@pytest.mark.parametrize("role", list(B_ROLES))
def test_api_shows_a_draft_only_to_members_of_its_organizer(client, two, role):
    client.force_login(two.b_members[role])
    listed = client.get("/api/events/?limit=100").json()["results"]
    assert "alpha-draft" not in {event["slug"] for event in listed}
    assert client.get("/api/events/alpha-draft/").status_code == 404
    assert client.get("/api/me/registrations/").json()["results"] == []
    # A's own member of the same role does see it, so the refusal above is about the organizer.
    client.force_login(two.members[role])
    listed = client.get("/api/events/?limit=100").json()["results"]
    assert "alpha-draft" in {event["slug"] for event in listed}
