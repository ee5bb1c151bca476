"""Moderation you can trust (docs/protocol.md): hide or release chat messages, the hall's
removals (list, preview of the CME effect, lift). Removing is `hall.remove` (presence.py)."""

from typing import Any

from conference.live.attendance import hall_now
from conference.live.db import db
from conference.live.errors import LiveError
from conference.live.frames import optional_reason, require_int
from conference.live.registry import Socket, action
from conference.services import hall_moderation, live, moderation


def require_minutes(data: dict[str, Any]) -> int:
    minutes: object = data.get("minutes", 60)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 1440:
        raise LiveError("invalid", "The duration must be a whole number of minutes from 1 to 1440.")
    return minutes


@action("hall.state")
async def state(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    """The hall's session and stage now (as in `hello`): clients follow the programme with it."""
    access = consumer.joined_access
    now = await hall_now(access)
    return {"session": live.session_for(access, now), "stage": now.stage}


@action("chat.hide", moderator_only=True)
async def hide(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return await consumer.apply(
        hall_moderation.hide_chat,
        reply_as="message",
        message_id=require_int(data, "message", minimum=1),
        reason=optional_reason(data),
    )


@action("chat.release", moderator_only=True)
async def release(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return await consumer.apply(
        hall_moderation.release_chat,
        reply_as="message",
        message_id=require_int(data, "message", minimum=1),
    )


@action("chat.held", moderator_only=True)
async def held(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return {"messages": await db(hall_moderation.held_chat)(consumer.joined_access)}


@action("hall.removals", moderator_only=True)
async def removals(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return {"removals": await db(moderation.hall_removals)(consumer.joined_access.hall_id)}


@action("hall.removal_preview", moderator_only=True)
async def preview(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return await db(hall_moderation.removal_preview)(
        consumer.joined_access,
        user_id=require_int(data, "user", minimum=1),
        minutes=require_minutes(data),
    )


@action("hall.lift", moderator_only=True, bucket="write")
async def lift(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return await consumer.apply(
        hall_moderation.lift_in_hall,
        reply_as="removal",
        removal_id=require_int(data, "removal", minimum=1),
        reason=optional_reason(data),
    )
