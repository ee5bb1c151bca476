"""Q&A: votes, withdrawal and moderation. Asking lives in conference.services.live."""

from typing import Any

from django.db import transaction
from django.db.models import F

from conference.models import Audience, LiveItem, Question, QuestionStatus, QuestionVote
from conference.services.hall_moderation import mine_data
from conference.services.live import (
    HallAccess,
    append_item,
    moderates_session,
    question_data,
)
from conference.services.refusals import Refused

VISIBLE = {QuestionStatus.APPROVED, QuestionStatus.ANSWERED}
MODERATION_OPS = {"approve", "reject", "pin", "unpin", "answered"}


def _question_for_update(access: HallAccess, question_id: int) -> Question:
    question = (
        Question.objects.select_for_update()
        .select_related("session")
        .filter(pk=question_id, session__hall_id=access.hall_id, session__event_id=access.event_id)
        .first()
    )
    if question is None:
        raise Refused("not_found", "There is no such question in this hall.")
    return question


def _announce(access: HallAccess, question: Question, *, was_visible: bool) -> LiveItem:
    """Tell the hall about a changed question; hidden questions' text reaches moderators only."""
    if question.status in VISIBLE or question.status == QuestionStatus.PENDING:
        audience = Audience.EVERYONE if question.status in VISIBLE else Audience.MODERATORS
        data = question_data(question)
    else:
        audience = Audience.EVERYONE if was_visible else Audience.MODERATORS
        data = {"id": question.pk, "session": question.session_id, "status": question.status}
    return append_item(
        access, event="qa.updated", data=data, audience=audience, session_id=question.session_id
    )


def vote_question(access: HallAccess, *, question_id: int) -> LiveItem:
    with transaction.atomic():
        question = _question_for_update(access, question_id)
        if question.status not in VISIBLE:
            raise Refused("invalid", "Only visible questions can be upvoted.")
        if question.author_id == access.user_id:
            raise Refused("invalid", "You cannot upvote your own question.")
        _vote, created = QuestionVote.objects.get_or_create(
            question=question, user_id=access.user_id
        )
        if not created:
            raise Refused("already_voted", "You have already upvoted this question.")
        Question.objects.filter(pk=question.pk).update(vote_count=F("vote_count") + 1)
        question.refresh_from_db()
        return _announce(access, question, was_visible=True)


def withdraw_question(access: HallAccess, *, question_id: int) -> LiveItem:
    with transaction.atomic():
        question = _question_for_update(access, question_id)
        if question.author_id != access.user_id:
            raise Refused("forbidden", "You can only withdraw your own questions.")
        if question.status not in VISIBLE | {QuestionStatus.PENDING}:
            raise Refused("invalid", "This question can no longer be withdrawn.")
        was_visible = question.status in VISIBLE
        question.status = QuestionStatus.WITHDRAWN
        question.save(update_fields=["status", "updated_at"])
        return _announce(access, question, was_visible=was_visible)


def _apply(question: Question, op: str, reason: str) -> None:
    if op == "approve":
        question.status = QuestionStatus.APPROVED
    elif op == "reject":
        question.status = QuestionStatus.REJECTED
        question.is_pinned = False
        question.reject_reason = reason
    elif op == "answered":
        question.status = QuestionStatus.ANSWERED
        question.is_pinned = False
    elif op in ("pin", "unpin"):
        if question.status not in VISIBLE:
            raise Refused("invalid", "Only visible questions can be pinned.")
        question.is_pinned = op == "pin"


def moderate_question(
    access: HallAccess, *, question_id: int, op: str, reason: str = ""
) -> LiveItem:
    """Apply a moderator's `op`; the author (when someone else) also gets their question as
    "My questions" shows it (`item.private`, a `qa.mine` push), with a rejection's reason."""
    if op not in MODERATION_OPS:
        raise Refused("invalid", f"`op` must be one of {', '.join(sorted(MODERATION_OPS))}.")
    with transaction.atomic():
        question = _question_for_update(access, question_id)
        if not moderates_session(access, question.session):
            raise Refused("forbidden", "Only moderators and this session's speakers may moderate.")
        if question.status == QuestionStatus.WITHDRAWN:
            raise Refused("invalid", "This question was withdrawn by its author.")
        was_visible = question.status in VISIBLE
        _apply(question, op, reason.strip())
        question.save(update_fields=["status", "is_pinned", "reject_reason", "updated_at"])
        item = _announce(access, question, was_visible=was_visible)
    if question.author_id and question.author_id != access.user_id:
        item.private = [(question.author_id, "qa.mine", mine_data(question))]
    return item


def list_questions(access: HallAccess, *, session_id: int, moderator: bool) -> list[dict[str, Any]]:
    """The questions of a session in this hall: visible ones, plus pending for moderators."""
    statuses = VISIBLE | ({QuestionStatus.PENDING} if moderator else set())
    questions = Question.objects.filter(
        session_id=session_id,
        session__hall_id=access.hall_id,
        session__event_id=access.event_id,
        status__in=statuses,
    ).order_by("-is_pinned", "-vote_count", "created_at")
    voted = set(
        QuestionVote.objects.filter(
            user_id=access.user_id, question__session_id=session_id
        ).values_list("question_id", flat=True)
    )
    return [{**question_data(q), "voted": q.pk in voted} for q in questions]
