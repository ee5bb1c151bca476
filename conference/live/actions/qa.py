"""Q&A for the session on in the hall."""

from typing import Any

from conference.live.db import db
from conference.live.errors import LiveError
from conference.live.frames import optional_key, optional_reason, require_int, require_text
from conference.live.registry import action
from conference.services import hall_moderation, live, qa


@action("qa.ask", bucket="write")
async def ask(consumer, data: dict[str, Any]) -> dict:
    text = require_text(data, "text", max_length=live.QUESTION_MAX_LENGTH, label="Your question")
    return await consumer.apply_once(
        live.ask_question, reply_as="question", text=text, client_key=optional_key(data)
    )


@action("qa.vote")
async def vote(consumer, data: dict[str, Any]) -> dict:
    return await consumer.apply(
        qa.vote_question, reply_as="question", question_id=require_int(data, "question", minimum=1)
    )


@action("qa.withdraw")
async def withdraw(consumer, data: dict[str, Any]) -> dict:
    return await consumer.apply(
        qa.withdraw_question,
        reply_as="question",
        question_id=require_int(data, "question", minimum=1),
    )


@action("qa.moderate")
async def moderate(consumer, data: dict[str, Any]) -> dict:
    op = data.get("op")
    if not isinstance(op, str):
        raise LiveError("invalid", "`op` must be a string.")
    return await consumer.apply(
        qa.moderate_question,
        reply_as="question",
        question_id=require_int(data, "question", minimum=1),
        op=op,
        reason=optional_reason(data),
    )


@action("qa.mine")
async def mine(consumer, data: dict[str, Any]) -> dict:
    return await db(hall_moderation.my_questions)(consumer.access)


@action("qa.list")
async def list_questions(consumer, data: dict[str, Any]) -> dict:
    session = await db(live.current_session)(consumer.access)
    if session is None:
        return {"session": None, "questions": []}
    questions = await db(qa.list_questions)(
        consumer.access, session_id=session.pk, moderator=consumer.access.sees_pending
    )
    return {"session": session.pk, "questions": questions}
