"""What a hall's moderators do on the socket besides Q&A: hide or release chat messages, see and
lift removals, preview a removal's CME effect; and what askers see of their own questions.

Every change is stored, audited where it concerns a person (`CmeAuditEntry`), and appended to
the hall's feed in one transaction (docs/protocol.md, "Moderation you can trust").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from conference.models import (
    Audience,
    ChatMessage,
    Event,
    HallRemoval,
    LiveItem,
    Question,
    QuestionStatus,
)
from conference.services.cme.records import audit
from conference.services.live import (
    HallAccess,
    append_item,
    chat_data,
    current_session,
    question_data,
    removable_user,
)
from conference.services.moderation import (
    ModerationError,
    lift_removal,
    person_name,
    removal_data,
)
from conference.services.refusals import Refused
from conference.services.removal_credit import CreditAtStake, credit_at_stake

REASON_MAX_LENGTH = 300


def _actor(access: HallAccess) -> User | None:
    return User.objects.filter(pk=access.user_id).first()


def _event(access: HallAccess) -> Event | None:
    return Event.objects.filter(pk=access.event_id).first()


def _message_for_update(access: HallAccess, message_id: int) -> ChatMessage:
    message = (
        ChatMessage.objects.select_for_update()
        .filter(pk=message_id, hall_id=access.hall_id)
        .first()
    )
    if message is None:
        raise Refused("not_found", "There is no such chat message in this hall.")
    return message


def hide_chat(access: HallAccess, *, message_id: int, reason: str = "") -> LiveItem:
    """Hide a chat message for everyone: a `chat.hidden` feed item (to everyone if the message
    had been shown, else to moderators), the row kept with who, when and why, an audit entry,
    and a private notice to its author (`item.private`)."""
    with transaction.atomic():
        message = _message_for_update(access, message_id)
        if message.is_removed:
            raise Refused("invalid", "This message is already hidden.")
        was_visible = not message.is_held
        message.is_removed = True
        message.is_held = False
        message.hidden_at = timezone.now()
        message.hidden_by_id = access.user_id
        message.hide_reason = reason.strip()
        message.save(
            update_fields=["is_removed", "is_held", "hidden_at", "hidden_by", "hide_reason"]
        )
        audit(
            _actor(access),
            _event(access),
            "chat.hidden",
            message,
            hall=access.hall_id,
            author=message.author_id,
            text=message.text,
            reason=message.hide_reason,
        )
        item = append_item(
            access,
            event="chat.hidden",
            data={"id": message.pk},
            audience=Audience.EVERYONE if was_visible else Audience.MODERATORS,
        )
    if message.author_id and message.author_id != access.user_id:
        item.private = [
            (
                message.author_id,
                "chat.yours_hidden",
                {"id": message.pk, "text": message.text, "reason": message.hide_reason},
            )
        ]
    return item


def release_chat(access: HallAccess, *, message_id: int) -> LiveItem:
    """Show a message the keyword filter held: a `chat.message` item to everyone."""
    with transaction.atomic():
        message = _message_for_update(access, message_id)
        if message.is_removed or not message.is_held:
            raise Refused("invalid", "This message is not waiting for review.")
        message.is_held = False
        message.save(update_fields=["is_held"])
        return append_item(access, event="chat.message", data=chat_data(message))


def held_chat(access: HallAccess) -> list[dict[str, Any]]:
    """Chat messages of the hall that wait for review, oldest first (moderators)."""
    messages = ChatMessage.objects.filter(
        hall_id=access.hall_id, is_held=True, is_removed=False
    ).order_by("created_at")[:200]
    return [chat_data(message) for message in messages]


def lift_in_hall(access: HallAccess, *, removal_id: int, reason: str = "") -> LiveItem:
    """A moderator lifts a removal from this hall: audited (`hall_removal.lifted`) and told to
    the hall's moderators with a `hall.removal` feed item; the person may enter at once."""
    removal = HallRemoval.objects.filter(pk=removal_id, hall_id=access.hall_id).first()
    if removal is None:
        raise Refused("not_found", "There is no such removal in this hall.")
    with transaction.atomic():
        try:
            lifted = lift_removal(removal, actor=_actor(access), reason=reason)
        except ModerationError as error:
            raise Refused("invalid", str(error)) from None
        lifted = HallRemoval.objects.select_related(
            "user__profile", "removed_by__profile", "lifted_by__profile"
        ).get(pk=lifted.pk)
        return append_item(
            access, event="hall.removal", data=removal_data(lifted), audience=Audience.MODERATORS
        )


def removal_preview(access: HallAccess, *, user_id: int, minutes: int) -> dict[str, Any]:
    """What removing `user_id` for `minutes` would do, before the moderator confirms: the
    session whose CME attendance stops, how many of its remaining minutes cannot count, and
    (for a CME-eligible session) what the credit engine credits with and without the removal."""
    target = removable_user(access, user_id)
    now = timezone.now()
    until = now + timedelta(minutes=minutes)
    session = current_session(access, now=now)
    name = person_name(target)
    found = {
        "user": target.pk,
        "name": name,
        "minutes": minutes,
        "until": until.isoformat(),
        "session": None,
        "lost_minutes": 0,
        "credit": None,
    }
    if session is None or session.starts_at > now:
        found["effect"] = (
            f"No session is on in this hall now: {name}'s CME attendance is not affected "
            "unless the removal lasts into a session."
        )
        return found
    remaining = max(0, int((session.ends_at - now).total_seconds() // 60))
    lost = min(minutes, remaining)
    found["session"] = {
        "id": session.pk,
        "title": session.title,
        "ends_at": session.ends_at.isoformat(),
        "cme_eligible": session.is_cme_eligible,
        "remaining_minutes": remaining,
    }
    found["lost_minutes"] = lost
    if session.is_cme_eligible:
        stake = credit_at_stake(target, session, now=now, until=until)
        found["credit"] = stake.as_data()
        back = "until the session ends" if lost >= remaining else f"for {lost} min"
        found["effect"] = (
            f"{name}'s CME attendance of “{session.title}” stops now and cannot be recorded "
            f"{back}: up to {lost} of the session's remaining {remaining} min will not count "
            "for credit. Time already attended still counts. " + _stake_words(stake)
        )
    else:
        found["effect"] = (
            f"“{session.title}” is not CME eligible: no credit is at stake; {name} misses up "
            f"to {lost} of its remaining {remaining} min."
        )
    return found


def _stake_words(stake: CreditAtStake) -> str:
    """The credit engine's figures in one sentence."""
    minutes = (
        f"The credit engine counts {stake.minutes_so_far} min of this session so far; "
        f"{stake.minutes_if_removed} min in all after this removal, "
        f"{stake.minutes_if_stays} min if they stay to the end"
    )
    changed = [
        f"{name}: {removed} instead of {stays}"
        for _, name, stays, removed in stake.credit
        if stays != removed
    ]
    if not changed:
        return f"{minutes}. Their credit for the event does not change."
    return f"{minutes}. Their credit for the event: {'; '.join(changed)}."


def mine_data(question: Question) -> dict[str, Any]:
    """A question as its author sees it in "My questions": with the reason of a rejection."""
    data = question_data(question)
    data.pop("held_for", None)
    data["reason"] = question.reject_reason if question.status == QuestionStatus.REJECTED else ""
    return data


def my_questions(access: HallAccess) -> dict[str, Any]:
    """The user's own questions in the session on in the hall, newest first (not withdrawn)."""
    session = current_session(access)
    if session is None:
        return {"session": None, "questions": []}
    questions = (
        Question.objects.filter(session=session, author_id=access.user_id)
        .exclude(status=QuestionStatus.WITHDRAWN)
        .order_by("-created_at")
    )
    return {"session": session.pk, "questions": [mine_data(q) for q in questions]}
