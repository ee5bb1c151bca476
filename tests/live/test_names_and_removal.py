"""Names in the hall never come from an e-mail address; `hall.remove` reaches only people of the
hall's event and answers one way for everybody else (docs/protocol.md)."""

import json

import pytest
from channels.db import database_sync_to_async

from conference.models import HallRemoval, Registration
from conference.services.live import ANONYMOUS_NAME, NOT_IN_EVENT
from tests.factories import (
    EventFactory,
    MembershipFactory,
    RegistrationFactory,
    SpeakerFactory,
    UserFactory,
)
from tests.live.test_protocol import join

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_person_without_a_display_name_is_shown_neutrally(hall_setup):
    def nameless():
        user = UserFactory(email="jane.doe.cardiology@hospital.example", display_name="")
        Registration.objects.create(user=user, event=hall_setup["event"])
        return user

    jane = await database_sync_to_async(nameless)()
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    client = await join(jane, hall_setup["hall"].pk)
    seen = {p["id"]: p["name"] for p in client.snapshot}
    assert seen[jane.pk] == ANONYMOUS_NAME
    # Alice hears of Jane through presence deltas: the name is neutral there too, and no frame
    # she receives carries any part of Jane's address.
    frames = []
    while True:
        frame = await alice.next_push(presence=True)
        frames.append(frame)
        joined = frame["data"].get("joined", []) if frame["event"] == "presence.delta" else []
        if any(p["id"] == jane.pk for p in joined):
            break
    assert {p["name"] for p in joined if p["id"] == jane.pk} == {ANONYMOUS_NAME}
    snapshot = await alice.request("presence.snapshot")
    frames.append(snapshot)
    text = json.dumps(frames)
    assert "jane" not in text.lower() and "hospital.example" not in text
    await client.close()
    await alice.close()


async def test_hall_remove_reaches_only_people_of_the_event_with_one_answer(hall_setup):
    def people():
        moderators = UserFactory.create_batch(2)
        for moderator in moderators:
            RegistrationFactory(user=moderator, event=hall_setup["event"], role="moderator")
        elsewhere = RegistrationFactory(event=EventFactory()).user  # another organizer's
        cancelled = UserFactory()
        Registration.objects.create(user=cancelled, event=hall_setup["event"], status="cancelled")
        nowhere = UserFactory()  # registered to nothing
        speaker = UserFactory()  # a speaker of this event, not registered
        SpeakerFactory(event=hall_setup["event"], user=speaker)
        owner = MembershipFactory(organizer=hall_setup["event"].organizer, role="owner").user
        operator = UserFactory(is_superuser=True)  # of no event
        return moderators, elsewhere, cancelled, nowhere, speaker, owner, operator

    (
        moderators,
        elsewhere,
        cancelled,
        nowhere,
        speaker,
        owner,
        operator,
    ) = await database_sync_to_async(people)()
    # Two moderators: each stays within the socket's write rate limit (5 at once).
    moderator = await join(moderators[0], hall_setup["hall"].pk)
    second = await join(moderators[1], hall_setup["hall"].pk)
    missing_id = nowhere.pk + 10_000
    answers = []
    for user_id in (missing_id, elsewhere.pk, cancelled.pk, nowhere.pk, operator.pk):
        reply = await moderator.request("hall.remove", {"user": user_id})
        assert reply["ok"] is False
        answers.append(reply["error"])
    assert answers == [{"code": "not_found", "message": NOT_IN_EVENT}] * 5
    assert await database_sync_to_async(HallRemoval.objects.count)() == 0

    # The organizer's own members are refused as staff, registered or not.
    refused = await second.request("hall.remove", {"user": owner.pk})
    assert refused["error"]["code"] == "forbidden"
    for user in (hall_setup["bob"], speaker):
        reply = await second.request("hall.remove", {"user": user.pk, "minutes": 5})
        assert reply["ok"] is True, reply
        assert reply["data"]["user"] == user.pk
    removed = await database_sync_to_async(
        lambda: set(HallRemoval.objects.values_list("user_id", flat=True))
    )()
    assert removed == {hall_setup["bob"].pk, speaker.pk}
    await moderator.close()
    await second.close()
