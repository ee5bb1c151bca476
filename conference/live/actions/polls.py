"""Polls run by moderators and speakers."""

from typing import Any

from conference.live.db import db
from conference.live.errors import LiveError
from conference.live.frames import push, require_int, require_text
from conference.live.hub import get_hub
from conference.live.registry import Socket, action
from conference.services import live, polls

RESULTS_COALESCE_SECONDS = 0.5


def _options(data: dict[str, Any]) -> list[str]:
    options = data.get("options")
    if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
        raise LiveError("invalid", "`options` must be a list of non-empty strings.")
    if any(len(o.strip()) > polls.OPTION_MAX_LENGTH for o in options):
        raise LiveError("invalid", f"Options are limited to {polls.OPTION_MAX_LENGTH} characters.")
    return [o.strip() for o in options]


@action("poll.create", bucket="write")
async def create(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    question = require_text(
        data, "question", max_length=polls.QUESTION_MAX_LENGTH, label="The poll question"
    )
    return await consumer.apply(
        polls.create_poll, reply_as="poll", question=question, options=_options(data)
    )


@action("poll.vote")
async def vote(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    access = consumer.joined_access
    poll, created = await db(polls.vote_poll)(
        access,
        poll_id=require_int(data, "poll", minimum=1),
        option_id=require_int(data, "option", minimum=1),
    )
    if created and poll.results_visible:

        async def send_results() -> None:
            results = await db(polls.results_if_visible)(access, poll.pk)
            if results:
                await get_hub().publish(access.hall_id, push("poll.results", results))

        get_hub().coalesce(("poll", poll.pk), RESULTS_COALESCE_SECONDS, send_results)
    return {"poll": poll.pk, "duplicate": not created}


@action("poll.close")
async def close(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return await consumer.apply(
        polls.close_poll, reply_as="poll", poll_id=require_int(data, "poll", minimum=1)
    )


@action("poll.show_results")
async def show_results(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    visible = data.get("visible", True)
    if not isinstance(visible, bool):
        raise LiveError("invalid", "`visible` must be true or false.")
    return await consumer.apply(
        polls.show_results,
        reply_as="poll",
        poll_id=require_int(data, "poll", minimum=1),
        visible=visible,
    )


@action("poll.list")
async def list_polls(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    access = consumer.joined_access
    session = await db(live.current_session)(access)
    if session is None:
        return {"session": None, "polls": []}
    found = await db(polls.list_polls)(access, session_id=session.pk)
    return {"session": session.pk, "polls": found}
