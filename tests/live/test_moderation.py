"""Moderation people can trust (docs/protocol.md, "Moderation you can trust"): removals with a
duration, a reason and a CME preview, listed and lifted; hidden chat; the keyword filter; and
"My questions"."""

import json

import pytest
from channels.db import database_sync_to_async

from conference.models import ChatMessage, CmeAuditEntry, HallRemoval, Question
from tests.live.conftest import connect
from tests.live.test_protocol import join
from tests.live.test_qa_polls import make_user

pytestmark = pytest.mark.django_db(transaction=True)


async def push_named(client, event: str, *, timeout: float = 3) -> dict:
    """The next push called `event`, skipping others (placeholders, presence, ...)."""
    while True:
        frame = await client.next_push(timeout=timeout)
        if frame.get("event") == event:
            return frame


@pytest.fixture
def with_moderator(hall_setup):
    hall_setup["moderator"] = make_user(hall_setup["event"], "moderator")
    session = hall_setup["session"]
    session.is_cme_eligible = True
    session.save()
    return hall_setup


async def test_preview_remove_list_and_lift_with_audit(with_moderator):
    world = with_moderator
    hall = world["hall"].pk
    moderator = await join(world["moderator"], hall)
    bob = await join(world["bob"], hall)

    preview = await moderator.request(
        "hall.removal_preview", {"user": world["bob"].pk, "minutes": 15}
    )
    assert preview["ok"], preview
    data = preview["data"]
    assert data["session"]["id"] == world["session"].pk
    assert data["session"]["cme_eligible"] is True
    assert data["lost_minutes"] == 15  # the session has about 50 min left
    assert "CME attendance" in data["effect"] and "15" in data["effect"]
    # The credit engine's figures: Bob joined just now; staying credits the rest of the
    # session, the 15 min removal (after which he comes straight back) costs 15 of them.
    stake = data["credit"]
    assert stake["minutes_so_far"] == 0
    assert 45 <= stake["minutes_if_stays"] <= 51
    assert 14 <= stake["minutes_if_stays"] - stake["minutes_if_removed"] <= 16
    assert f"{stake['minutes_if_removed']} min in all after this removal" in data["effect"]
    refused = await bob.request("hall.removal_preview", {"user": world["alice"].pk})
    assert refused["error"]["code"] == "forbidden"
    bad = await moderator.request("hall.remove", {"user": world["bob"].pk, "minutes": 0})
    assert bad["error"]["code"] == "invalid"

    done = await moderator.request(
        "hall.remove", {"user": world["bob"].pk, "minutes": 15, "reason": "Off-topic adverts"}
    )
    assert done["ok"], done
    assert done["data"]["removal"]["state"] == "active"
    assert done["data"]["removal"]["reason"] == "Off-topic adverts"
    kicked = await push_named(bob, "error")
    assert kicked["data"]["code"] == "removed"
    assert kicked["data"]["reason"] == "Off-topic adverts"
    assert kicked["data"]["until"] == done["data"]["until"]

    listed = await moderator.request("hall.removals")
    assert [r["user"] for r in listed["data"]["removals"]] == [world["bob"].pk]
    removal_id = listed["data"]["removals"][0]["id"]

    lifted = await moderator.request("hall.lift", {"removal": removal_id, "reason": "Apologised"})
    assert lifted["ok"], lifted
    assert lifted["data"]["removal"]["state"] == "lifted"
    again = await moderator.request("hall.lift", {"removal": removal_id})
    assert again["error"]["code"] == "invalid"

    def audit_actions():
        return list(
            CmeAuditEntry.objects.filter(object_type="HallRemoval", object_id=removal_id)
            .order_by("pk")
            .values_list("action", "detail")
        )

    actions = await database_sync_to_async(audit_actions)()
    assert [a for a, _ in actions] == ["hall_removal.created", "hall_removal.lifted"]
    assert actions[0][1]["minutes"] == 15
    assert actions[1][1]["reason"] == "Apologised"
    back = await join(world["bob"], hall)  # lifted: the person may enter at once
    await back.close()
    await moderator.close()


async def test_removed_person_is_told_why_when_coming_back(with_moderator):
    world = with_moderator

    def remove():
        from datetime import timedelta

        from django.utils import timezone

        return HallRemoval.objects.create(
            hall=world["hall"],
            user=world["alice"],
            reason="Repeated insults",
            until=timezone.now() + timedelta(minutes=30),
        )

    removal = await database_sync_to_async(remove)()
    _connected, ws = await connect(world["alice"], world["hall"].pk)
    frame = json.loads(await ws.receive_from())
    assert frame["data"]["code"] == "removed"
    assert frame["data"]["reason"] == "Repeated insults"
    assert frame["data"]["until"] == removal.until.isoformat()
    assert (await ws.receive_output())["code"] == 4010
    await ws.disconnect()


async def test_hidden_chat_is_gone_for_everyone_kept_and_the_author_told(with_moderator):
    world = with_moderator
    hall = world["hall"].pk
    moderator = await join(world["moderator"], hall)
    alice = await join(world["alice"], hall)
    bob = await join(world["bob"], hall)
    sent = await alice.request("chat.send", {"text": "rude words"})
    message_id = sent["data"]["message"]["id"]
    await push_named(bob, "chat.message")

    refused = await bob.request("chat.hide", {"message": message_id})
    assert refused["error"]["code"] == "forbidden"
    hidden = await moderator.request("chat.hide", {"message": message_id, "reason": "Be kind"})
    assert hidden["ok"], hidden
    assert (await push_named(bob, "chat.hidden"))["data"] == {"id": message_id}
    told = await push_named(alice, "chat.yours_hidden")
    assert told["data"] == {"id": message_id, "text": "rude words", "reason": "Be kind"}

    resumed = await bob.request("feed.resume", {"since": 0})
    events = [item["event"] for item in resumed["data"]["items"]]
    assert "chat.message" not in events  # the hidden message is a placeholder now
    assert events[-1] == "chat.hidden"

    def stored():
        message = ChatMessage.objects.get(pk=message_id)
        entry = CmeAuditEntry.objects.get(action="chat.hidden", object_id=message_id)
        return message.is_removed, message.text, message.hide_reason, entry.detail["text"]

    assert await database_sync_to_async(stored)() == (True, "rude words", "Be kind", "rude words")
    for client in (moderator, alice, bob):
        await client.close()


async def test_keyword_filter_holds_chat_and_questions_for_review(with_moderator):
    world = with_moderator

    def set_keywords():
        world["event"].moderation_keywords = "casino\nbuy now, crypto"
        world["event"].save()

    await database_sync_to_async(set_keywords)()
    hall = world["hall"].pk
    moderator = await join(world["moderator"], hall)
    alice = await join(world["alice"], hall)
    bob = await join(world["bob"], hall)

    sent = await alice.request("chat.send", {"text": "BUY   NOW at the casino!"})
    assert sent["data"]["message"]["held_for"] in ("buy now", "casino")
    skip = await bob.next_push()
    assert skip == {"event": "feed.skip", "seq": sent["data"]["seq"], "data": {}}
    seen = await push_named(moderator, "chat.message")
    assert seen["data"]["held_for"] in ("buy now", "casino")
    innocent = await alice.request("chat.send", {"text": "cryptography is fun"})
    assert "held_for" not in innocent["data"]["message"]

    held = await moderator.request("chat.held")
    assert [m["id"] for m in held["data"]["messages"]] == [sent["data"]["message"]["id"]]
    released = await moderator.request("chat.release", {"message": sent["data"]["message"]["id"]})
    assert released["ok"], released
    shown = await push_named(bob, "chat.message")
    while shown["data"]["id"] != sent["data"]["message"]["id"]:
        shown = await push_named(bob, "chat.message")
    assert "held_for" not in shown["data"]

    asked = await alice.request("qa.ask", {"text": "Any crypto sponsors?"})
    assert asked["data"]["question"]["status"] == "pending"  # the session needs no moderation
    question = await push_named(moderator, "qa.question")
    assert question["data"]["held_for"] == "crypto"
    for client in (moderator, alice, bob):
        await client.close()


async def test_my_questions_show_pending_and_a_rejection_with_its_reason(with_moderator):
    world = with_moderator

    def moderate():
        world["session"].qa_moderation_required = True
        world["session"].save()

    await database_sync_to_async(moderate)()
    hall = world["hall"].pk
    moderator = await join(world["moderator"], hall)
    alice = await join(world["alice"], hall)
    first = await alice.request("qa.ask", {"text": "Is the trial blinded?"})
    second = await alice.request("qa.ask", {"text": "What about the dose?"})
    mine = await alice.request("qa.mine")
    assert [(q["text"], q["status"]) for q in mine["data"]["questions"]] == [
        ("What about the dose?", "pending"),
        ("Is the trial blinded?", "pending"),
    ]
    assert mine["data"]["session"] == world["session"].pk

    rejected = await moderator.request(
        "qa.moderate",
        {"question": first["data"]["question"]["id"], "op": "reject", "reason": "Already answered"},
    )
    assert rejected["ok"], rejected
    told = await push_named(alice, "qa.mine")
    assert told["data"]["status"] == "rejected"
    assert told["data"]["reason"] == "Already answered"
    await moderator.request(
        "qa.moderate", {"question": second["data"]["question"]["id"], "op": "approve"}
    )
    approved = await push_named(alice, "qa.mine")
    assert approved["data"]["status"] == "approved" and approved["data"]["reason"] == ""

    mine = await alice.request("qa.mine")
    assert {q["status"]: q["reason"] for q in mine["data"]["questions"]} == {
        "approved": "",
        "rejected": "Already answered",
    }
    stored = await database_sync_to_async(
        lambda: Question.objects.get(pk=first["data"]["question"]["id"]).reject_reason
    )()
    assert stored == "Already answered"
    too_long = await moderator.request(
        "qa.moderate",
        {"question": second["data"]["question"]["id"], "op": "reject", "reason": "x" * 301},
    )
    assert too_long["error"]["code"] == "invalid"
    await moderator.close()
    await alice.close()


async def test_refusals_of_typed_text_are_worded_for_people(hall_setup):
    """The panel shows refusals as they are: no backticks, the text named as the person knows
    it (issue 17, "human error text")."""
    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    long_question = await alice.request("qa.ask", {"text": "x" * 501})
    assert long_question["error"] == {
        "code": "invalid",
        "message": "Your question is too long: at most 500 characters (501 written).",
    }
    empty_chat = await alice.request("chat.send", {"text": "   "})
    assert empty_chat["error"]["message"] == "Your message is empty; write something first."
    await alice.close()


async def test_hall_state_names_the_session_and_breaks_have_no_qa(hall_setup):
    def make_break():
        hall_setup["session"].kind = "break"
        hall_setup["session"].save()

    alice = await join(hall_setup["alice"], hall_setup["hall"].pk)
    state = await alice.request("hall.state")
    assert state["data"]["session"]["id"] == hall_setup["session"].pk
    assert state["data"]["session"]["kind"] == alice.hello["session"]["kind"] == "seminar"
    await database_sync_to_async(make_break)()
    state = await alice.request("hall.state")
    assert state["data"]["session"]["kind"] == "break"
    refused = await alice.request("qa.ask", {"text": "Is there coffee?"})
    assert refused["error"]["code"] == "no_session"
    assert "is a break" in refused["error"]["message"]
    await alice.close()
