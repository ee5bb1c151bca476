"""Resuming the hall feed after a reconnect."""

from typing import Any

from conference.live.db import db
from conference.live.frames import require_int
from conference.live.registry import action
from conference.services import live


@action("feed.resume")
async def resume(consumer: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Every feed position after `since`, in order: the item, or a `feed.skip` placeholder for
    one the user may not see (at most 500 positions; `more` says if the client should ask again
    from the last `seq` it got)."""
    since = require_int(data, "since")
    items, more = await db(live.items_since)(consumer.access, since)
    return {"items": items, "more": more}
