import json

import pytest
from channels.db import database_sync_to_async

from conference.models import PollVote, Question, QuestionVote
from tests.factories import RegistrationFactory, SpeakerFactory, UserFactory
from tests.live.test_protocol import join

pytestmark = pytest.mark.django_db(transaction=True)


def make_user(event, role="attendee"):
    user = UserFactory()
    RegistrationFactory(user=user, event=event, role=role)
    return user


@pytest.fixture
def moderated(hall_setup):
    session = hall_setup["session"]
    session.qa_moderation_required = True
    session.save()
    hall_setup["moderator"] = make_user(hall_setup["event"], "moderator")
    return hall_setup


async def test_hello_names_the_session_on_now(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    assert alice.hello["session"]["id"] == hall_setup["session"].pk
    assert alice.hello["session"]["you_moderate"] is False
    await alice.close()


async def test_upvote_once_and_not_own_question(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    bob = await join(hall_setup["bob"], hall_setup["hall"].pk)
    asked = await alice.request("qa.ask", {"text": "Dose in CKD?"})
    question_id = asked["data"]["question"]["id"]
    own = await alice.request("qa.vote", {"question": question_id})
    assert own["error"]["code"] == "invalid"
    first = await bob.request("qa.vote", {"question": question_id})
    assert first["data"]["question"]["votes"] == 1
    again = await bob.request("qa.vote", {"question": question_id})
    assert again["error"]["code"] == "already_voted"
    assert await database_sync_to_async(QuestionVote.objects.count)() == 1
    listing = await bob.request("qa.list")
    assert [(q["id"], q["votes"], q["voted"]) for q in listing["data"]["questions"]] == [
        (question_id, 1, True)
    ]
    await alice.close()
    await bob.close()


async def test_moderation_queue_approve_pin_answer(moderated):
    moderator = await join(moderated["moderator"], moderated["hall"].pk)
    alice = await join(moderated["alice"], moderated["hall"].pk)
    bob = await join(moderated["bob"], moderated["hall"].pk)
    assert moderator.hello["session"]["you_moderate"] is True
    asked = await alice.request("qa.ask", {"text": "Is it safe in pregnancy?"})
    qid = asked["data"]["question"]["id"]
    assert (await bob.request("qa.list"))["data"]["questions"] == []
    queue = (await moderator.request("qa.list"))["data"]["questions"]
    assert [(q["id"], q["status"]) for q in queue] == [(qid, "pending")]
    refused = await bob.request("qa.moderate", {"question": qid, "op": "approve"})
    assert refused["error"]["code"] == "forbidden"
    approved = await moderator.request("qa.moderate", {"question": qid, "op": "approve"})
    assert approved["data"]["question"]["status"] == "approved"
    # bob saw the pending question's position only; the approval brings it as `qa.updated`
    assert await bob.next_push() == {"event": "feed.skip", "seq": asked["data"]["seq"], "data": {}}
    pushed = await bob.next_push()
    assert (pushed["event"], pushed["data"]["text"]) == ("qa.updated", "Is it safe in pregnancy?")
    assert pushed["data"]["status"] == "approved"
    pinned = await moderator.request("qa.moderate", {"question": qid, "op": "pin"})
    assert pinned["data"]["question"]["pinned"] is True
    answered = await moderator.request("qa.moderate", {"question": qid, "op": "answered"})
    assert answered["data"]["question"]["status"] == "answered"
    bad = await moderator.request("qa.moderate", {"question": qid, "op": "explode"})
    assert bad["error"]["code"] == "invalid"
    for client in (moderator, alice, bob):
        await client.close()


async def test_rejected_pending_question_text_never_reaches_attendees(moderated):
    moderator = await join(moderated["moderator"], moderated["hall"].pk)
    alice = await join(moderated["alice"], moderated["hall"].pk)
    bob = await join(moderated["bob"], moderated["hall"].pk)
    qid = (await alice.request("qa.ask", {"text": "secret rant"}))["data"]["question"]["id"]
    await moderator.request("qa.moderate", {"question": qid, "op": "reject"})
    resumed = await bob.request("feed.resume", {"since": 0})
    assert resumed["data"]["items"] == [
        {"event": "feed.skip", "seq": 1, "data": {}},
        {"event": "feed.skip", "seq": 2, "data": {}},
    ]
    assert "secret" not in json.dumps(resumed)
    assert await database_sync_to_async(Question.objects.get)(pk=qid) is not None
    for client in (moderator, alice, bob):
        await client.close()


async def test_speaker_moderates_own_session(moderated):
    def make_speaker():
        user = make_user(moderated["event"], "speaker")
        speaker = SpeakerFactory(event=moderated["event"], user=user)
        moderated["session"].speakers.add(speaker)
        return user

    speaker_user = await database_sync_to_async(make_speaker)()
    speaker = await join(speaker_user, moderated["hall"].pk)
    alice = await join(moderated["alice"], moderated["hall"].pk)
    qid = (await alice.request("qa.ask", {"text": "for the speaker"}))["data"]["question"]["id"]
    assert (await speaker.next_push())["data"]["status"] == "pending"
    ok = await speaker.request("qa.moderate", {"question": qid, "op": "approve"})
    assert ok["ok"] is True
    await speaker.close()
    await alice.close()


async def test_withdraw_only_own_question(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    bob = await join(hall_setup["bob"], hall_setup["hall"].pk)
    qid = (await alice.request("qa.ask", {"text": "mine"}))["data"]["question"]["id"]
    assert (await bob.request("qa.withdraw", {"question": qid}))["error"]["code"] == "forbidden"
    done = await alice.request("qa.withdraw", {"question": qid})
    assert done["data"]["question"] == {
        "id": qid,
        "session": hall_setup["session"].pk,
        "status": "withdrawn",
    }
    await alice.close()
    await bob.close()


async def test_poll_lifecycle_one_vote_per_person(moderated):
    moderator = await join(moderated["moderator"], moderated["hall"].pk)
    alice = await join(moderated["alice"], moderated["hall"].pk)
    refused = await alice.request("poll.create", {"question": "Q?", "options": ["a", "b"]})
    assert refused["error"]["code"] == "forbidden"
    too_few = await moderator.request("poll.create", {"question": "Q?", "options": ["only"]})
    assert too_few["error"]["code"] == "invalid"
    created = await moderator.request(
        "poll.create", {"question": "First-line therapy?", "options": ["ACE-i", "ARB", "CCB"]}
    )
    poll = created["data"]["poll"]
    opened = await alice.next_push()
    assert (opened["event"], opened["data"]["question"]) == ("poll.opened", "First-line therapy?")
    option = poll["options"][1]["id"]
    assert (await alice.request("poll.vote", {"poll": poll["id"], "option": option}))["data"] == {
        "poll": poll["id"],
        "duplicate": False,
    }
    repeat = await alice.request("poll.vote", {"poll": poll["id"], "option": option})
    assert repeat["data"]["duplicate"] is True
    other = await alice.request(
        "poll.vote", {"poll": poll["id"], "option": poll["options"][0]["id"]}
    )
    assert other["error"]["code"] == "already_voted"
    assert await database_sync_to_async(PollVote.objects.count)() == 1
    hidden = (await alice.request("poll.list"))["data"]["polls"][0]
    assert "votes" not in hidden["options"][0]
    assert hidden["my_vote"] == option
    shown = await moderator.request("poll.show_results", {"poll": poll["id"], "visible": True})
    assert [o["votes"] for o in shown["data"]["poll"]["options"]] == [0, 1, 0]
    closed = await moderator.request("poll.close", {"poll": poll["id"]})
    assert closed["data"]["poll"]["status"] == "closed"
    late = await alice.request("poll.vote", {"poll": poll["id"], "option": option})
    assert late["error"]["code"] == "poll_closed"
    await moderator.close()
    await alice.close()


async def test_reactions_are_aggregated_into_one_burst(hall_setup):
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    bob = await join(hall_setup["bob"], hall_setup["hall"].pk)
    for _ in range(3):
        assert (await alice.request("reaction.send", {"emoji": "👏"}))["ok"] is True
    assert (await bob.request("reaction.send", {"emoji": "💡"}))["ok"] is True
    assert (await bob.request("reaction.send", {"emoji": "<b>"}))["error"]["code"] == "invalid"
    burst = await bob.next_push(timeout=3)
    assert burst == {"event": "reaction.burst", "data": {"counts": {"👏": 3, "💡": 1}}}
    cooldown = await alice.request("reaction.send", {"emoji": "👏"})
    assert cooldown["error"]["code"] == "rate_limited"
    await alice.close()
    await bob.close()
