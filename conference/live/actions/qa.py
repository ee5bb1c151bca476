"""Q&A for the session on in the hall."""

from typing import Any

from conference.live.db import db
from conference.live.errors import LiveError
from conference.live.frames import optional_key, optional_reason, require_int, require_text
from conference.live.registry import Socket, action
from conference.services import hall_moderation, live, qa


@action("qa.ask", bucket="write")
async def ask(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    text = require_text(data, "text", max_length=live.QUESTION_MAX_LENGTH, label="Your question")
    return await consumer.apply_once(
        live.ask_question, reply_as="question", text=text, client_key=optional_key(data)
    )


@action("qa.vote")
async def vote(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return await consumer.apply(
        qa.vote_question, reply_as="question", question_id=require_int(data, "question", minimum=1)
    )


@action("qa.withdraw")
async def withdraw(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return await consumer.apply(
        qa.withdraw_question,
        reply_as="question",
        question_id=require_int(data, "question", minimum=1),
    )


@action("qa.moderate")
async def moderate(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
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
async def mine(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return await db(hall_moderation.my_questions)(consumer.joined_access)


@action("qa.list")
async def list_questions(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    access = consumer.joined_access
    session = await db(live.current_session)(access)
    if session is None:
        return {"session": None, "questions": []}
    questions = await db(qa.list_questions)(
        access, session_id=session.pk, moderator=access.sees_pending
    )
    return {"session": session.pk, "questions": questions}
