"""Organizer members in the hall socket: every member enters the organizer's halls as staff;
only owners and moderators moderate (docs/roles.md). Driven through the real ASGI app."""

import pytest
from channels.db import database_sync_to_async

from conference.models import MembershipRole, Question, QuestionStatus
from tests.factories import MembershipFactory
from tests.live.test_protocol import join

pytestmark = pytest.mark.django_db(transaction=True)

MODERATES = {
    MembershipRole.OWNER: True,
    MembershipRole.MODERATOR: True,
    MembershipRole.CME_COORDINATOR: False,
    MembershipRole.CONTENT_MANAGER: False,
}


@pytest.mark.parametrize("role", list(MODERATES))
async def test_only_owners_and_moderators_moderate(hall_setup, role):
    session = hall_setup["session"]
    session.qa_moderation_required = True
    await database_sync_to_async(session.save)()
    member = await database_sync_to_async(
        lambda: MembershipFactory(organizer=hall_setup["event"].organizer, role=role).user
    )()
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    staff = await join(member, hall_setup["hall"].pk)
    asked = await alice.request("qa.ask", {"text": "Is it safe in pregnancy?"})
    question_id = asked["data"]["question"]["id"]

    queue = await staff.request("qa.list")
    answer = await staff.request("qa.moderate", {"question": question_id, "op": "approve"})

    status = await database_sync_to_async(
        lambda: Question.objects.values_list("status", flat=True).get(pk=question_id)
    )()
    assert staff.hello["session"]["you_moderate"] is MODERATES[role]
    if MODERATES[role]:
        assert [q["id"] for q in queue["data"]["questions"]] == [question_id]
        assert answer["data"]["question"]["status"] == "approved"
        assert status == QuestionStatus.APPROVED
    else:
        assert queue["data"]["questions"] == []
        assert answer["error"]["code"] == "forbidden"
        assert status == QuestionStatus.PENDING
    await alice.close()
    await staff.close()


@pytest.mark.parametrize("role", list(MODERATES))
async def test_members_of_another_organizer_neither_enter_as_staff_nor_moderate(hall_setup, role):
    """Organizer B's member, whatever their role, is nobody in organizer A's hall: refused
    unless registered, and then an attendee who cannot moderate or remove anyone."""
    from conference.models import Registration
    from tests.factories import OrganizerFactory
    from tests.live.conftest import connect

    session = hall_setup["session"]
    session.qa_moderation_required = True
    await database_sync_to_async(session.save)()
    other = await database_sync_to_async(
        lambda: MembershipFactory(organizer=OrganizerFactory(), role=role).user
    )()
    _connected, ws = await connect(other, hall_setup["hall"].pk)
    assert (await ws.receive_json_from())["data"]["code"] == "forbidden"
    assert (await ws.receive_output())["code"] == 4003
    await ws.disconnect()

    await database_sync_to_async(
        lambda: Registration.objects.create(user=other, event=hall_setup["event"])
    )()
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    stranger = await join(other, hall_setup["hall"].pk)
    asked = await alice.request("qa.ask", {"text": "Dose in renal failure?"})
    question_id = asked["data"]["question"]["id"]
    assert stranger.hello["session"]["you_moderate"] is False
    assert (await stranger.request("qa.list"))["data"]["questions"] == []
    moderate = await stranger.request("qa.moderate", {"question": question_id, "op": "approve"})
    remove = await stranger.request("hall.remove", {"user": hall_setup["alice"].pk})
    assert moderate["error"]["code"] == "forbidden"
    assert remove["error"]["code"] == "forbidden"
    status = await database_sync_to_async(
        lambda: Question.objects.values_list("status", flat=True).get(pk=question_id)
    )()
    assert status == QuestionStatus.PENDING
    await alice.close()
    await stranger.close()
