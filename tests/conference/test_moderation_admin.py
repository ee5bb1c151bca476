"""Removals from halls in admin: listed per organizer, lifted with an audit entry."""

import datetime as dt

import pytest
from django.utils import timezone

from conference.models import (
    ChatMessage,
    CmeAuditEntry,
    HallRemoval,
    MeetingRoom,
    MembershipRole,
    RoomReport,
)
from conference.services import live
from conference.services.moderation import ModerationError, lift_removal
from tests.factories import MembershipFactory, UserFactory
from tests.venues.conftest import PlacementFactory
from venues.models import PlacementKind


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


def chat(hall, text, **state):
    return ChatMessage.objects.create(hall=hall, author_name="Dr. Chatty", text=text, **state)


def test_staff_see_their_hidden_and_held_chat_with_who_and_why(client, world):
    hider = world.staff_a
    chat(world.hall_a, "Visible hello")
    chat(
        world.hall_a,
        "Buy <b>pills</b> now",
        is_removed=True,
        hidden_by=hider,
        hidden_at=timezone.now(),
        hide_reason="Advertising",
    )
    chat(world.hall_a, "Held casino tip", is_held=True, held_keyword="casino")
    chat(world.hall_b, "Beta hidden secret", is_removed=True, hide_reason="Beta reason")
    client.force_login(hider)

    response = client.get("/admin/conference/chatmessage/")
    assert response.status_code == 200
    listing = response.content.decode()
    assert "Chat hidden by moderators or held by the keyword filter" in listing
    assert "Buy &lt;b&gt;pills&lt;/b&gt; now" in listing  # escaped, never markup
    assert "Advertising" in listing
    assert "Held casino tip" in listing and "matched “casino”" in listing
    assert "Visible hello" not in listing  # shown to everyone: nothing to audit here
    assert "Beta hidden secret" not in listing and "Beta reason" not in listing

    held = client.get("/admin/conference/chatmessage/?state=held").content.decode()
    assert "Held casino tip" in held and "pills" not in held


def test_moderated_chat_is_read_only_and_not_for_moderators(client, world):
    hidden = chat(world.hall_a, "Rude words", is_removed=True, hide_reason="Rude")
    theirs = chat(world.hall_b, "Beta rude", is_removed=True)
    client.force_login(world.staff_a)
    assert client.get(f"/admin/conference/chatmessage/{hidden.pk}/change/").status_code == 200
    assert client.get(f"/admin/conference/chatmessage/{theirs.pk}/change/").status_code == 302
    assert client.get("/admin/conference/chatmessage/add/").status_code == 403
    assert client.post(f"/admin/conference/chatmessage/{hidden.pk}/delete/").status_code == 403
    client.post(f"/admin/conference/chatmessage/{hidden.pk}/change/", {"text": "rewritten"})
    hidden.refresh_from_db()
    assert hidden.text == "Rude words"

    moderator = MembershipFactory(organizer=world.organizer_a, role=MembershipRole.MODERATOR).user
    client.force_login(moderator)
    assert client.get("/admin/conference/chatmessage/").status_code == 403


def report_in(hall, reason):
    placement = PlacementFactory(
        hall=hall, kind=PlacementKind.MEETING_ROOM, label=f"Room of {hall.name}", props={}
    )
    room = MeetingRoom.objects.create(placement=placement)
    return RoomReport.objects.create(
        room=room, reporter_name="Dr. Report", reason=reason, people=[{"id": 1, "name": "Ana"}]
    )


def test_room_reports_are_for_the_organizers_staff_only(client, world):
    mine = report_in(world.hall_a, "Someone shared an offensive screen")
    report_in(world.hall_b, "Beta report")
    client.force_login(world.staff_a)
    listing = client.get("/admin/conference/roomreport/").content.decode()
    assert "Someone shared an offensive screen" in listing and "Beta report" not in listing
    assert client.post(f"/admin/conference/roomreport/{mine.pk}/delete/").status_code == 403
    assert client.get("/admin/conference/roomreport/add/").status_code == 403
    assert RoomReport.objects.count() == 2

    moderator = MembershipFactory(organizer=world.organizer_a, role=MembershipRole.MODERATOR).user
    client.force_login(moderator)
    assert client.get("/admin/conference/roomreport/").status_code == 403
