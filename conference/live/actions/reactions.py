"""Emoji reactions on the stage, aggregated per tick and per process."""

from collections import Counter
from typing import Any

from conference.live.errors import LiveError
from conference.live.frames import push
from conference.live.hub import get_hub
from conference.live.registry import action

EMOJI = ("👏", "❤️", "💡", "😂", "👍", "❓")
TICK_SECONDS = 1.0
_counts: dict[int, Counter[str]] = {}


@action("reaction.send", bucket="reaction")
async def react(consumer: Any, data: dict[str, Any]) -> dict[str, Any]:
    emoji = data.get("emoji")
    if emoji not in EMOJI:
        raise LiveError("invalid", f"`emoji` must be one of {' '.join(EMOJI)}.")
    hall_id = consumer.access.hall_id
    _counts.setdefault(hall_id, Counter())[emoji] += 1

    async def flush() -> None:
        counts = _counts.pop(hall_id, Counter())
        if counts:
            await get_hub().publish(hall_id, push("reaction.burst", {"counts": dict(counts)}))

    get_hub().coalesce(("reactions", hall_id), TICK_SECONDS, flush)
    return {}
