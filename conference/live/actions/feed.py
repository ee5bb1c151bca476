"""Resuming the hall feed after a reconnect."""

from conference.live.db import db
from conference.live.frames import require_int
from conference.live.registry import action
from conference.services import live


def item_frame(item) -> dict:
    return {"event": item.event, "seq": item.seq, "data": item.data}


@action("feed.resume")
async def resume(consumer, data: dict) -> dict:
    """Everything after `since` that the user may see, in order (at most 500; `more` says if
    the client should ask again from the last `seq` it got)."""
    since = require_int(data, "since")
    items = await db(live.items_since)(consumer.access, since)
    return {
        "items": [item_frame(item) for item in items],
        "more": len(items) == live.RESUME_LIMIT,
    }
