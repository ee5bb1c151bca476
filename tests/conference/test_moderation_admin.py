"""Removals from halls in admin: listed per organizer, lifted with an audit entry."""

import datetime as dt

import pytest
from django.utils import timezone

from conference.models import CmeAuditEntry, HallRemoval, MembershipRole
from conference.services import live
from conference.services.moderation import ModerationError, lift_removal
from tests.conference.test_admin_scoping import World
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def world(db):
    return World()


def remove(hall, user, by, minutes=30, reason="Spam links in chat"):
    return HallRemoval.objects.create(
        hall=hall,
        user=user,
        removed_by=by,
        reason=reason,
        until=timezone.now() + dt.timedelta(minutes=minutes),
    )


def test_owner_lists_own_removals_and_lifts_one(client, world):
    moderator = world.staff_a  # the organizer's owner
    person = UserFactory(display_name="Dr. Noisy")
    mine = remove(world.hall_a, person, moderator)
    remove(world.hall_b, UserFactory(display_name="Beta Person"), None)
    client.force_login(moderator)

    listing = client.get("/admin/conference/hallremoval/").content.decode()
    assert "Dr. Noisy" in listing
    assert "Spam links in chat" in listing
    assert "Beta Person" not in listing
    assert live.is_removed(world.hall_a.pk, person.pk)

    page = client.get(f"/admin/conference/hallremoval/{mine.pk}/lift/").content.decode()
    assert "because: “Spam links in chat”" in page
    response = client.post(
        f"/admin/conference/hallremoval/{mine.pk}/lift/", {"reason": "Apologised"}
    )
    assert response.status_code == 302

    mine.refresh_from_db()
    assert (mine.lifted_by, mine.lift_reason) == (moderator, "Apologised")
    assert not live.is_removed(world.hall_a.pk, person.pk)
    entry = CmeAuditEntry.objects.get(action="hall_removal.lifted")
    assert (entry.actor, entry.object_id, entry.detail["reason"]) == (
        moderator,
        mine.pk,
        "Apologised",
    )
    with pytest.raises(ModerationError, match="already lifted"):
        lift_removal(mine, actor=moderator)


def test_other_organizers_removal_cannot_be_lifted(client, world):
    theirs = remove(world.hall_b, UserFactory(), None)
    client.force_login(world.staff_a)
    response = client.post(f"/admin/conference/hallremoval/{theirs.pk}/lift/", {})
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.lifted_at is None
    assert not CmeAuditEntry.objects.exists()


def test_removals_cannot_be_added_or_deleted_in_admin(client, world):
    mine = remove(world.hall_a, UserFactory(), None)
    client.force_login(world.staff_a)
    assert client.get("/admin/conference/hallremoval/add/").status_code == 403
    assert client.post(f"/admin/conference/hallremoval/{mine.pk}/delete/").status_code == 403
    assert HallRemoval.objects.count() == 1


def test_moderators_have_no_admin_list(client, world):
    moderator = MembershipFactory(organizer=world.organizer_a, role=MembershipRole.MODERATOR).user
    remove(world.hall_a, UserFactory(), moderator)
    client.force_login(moderator)
    assert client.get("/admin/conference/hallremoval/").status_code == 403
