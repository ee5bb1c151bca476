"""Re-check, every few seconds, that each socket's user may still be in its hall.

Logout closes sockets at once (conference.live.control); this loop catches everything else:
a deactivated account, a cancelled registration, a removal by a moderator — one query per hall
with members per round, not one per socket.
"""

import asyncio
import logging
import weakref

from conference.live.db import db
from conference.live.hub import get_hub
from conference.services import live
from conference.services.media.stage import cut_user_media

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 5.0
_running: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]]" = (
    weakref.WeakKeyDictionary()
)


def ensure_guard() -> None:
    loop = asyncio.get_running_loop()
    if loop not in _running:
        _running[loop] = loop.create_task(_guard_loop())


async def check_once() -> int:
    """Close the sockets of users no longer allowed; returns how many were closed."""
    closed = 0
    hub = get_hub()
    for hall_id, members in list(hub.members.items()):
        # sockets still joining (no access yet) are checked by their own join
        joined = [(m, m.access.user_id) for m in members if m.access is not None]
        if not joined:
            continue
        allowed = await db(live.still_allowed)(hall_id, sorted({user_id for _, user_id in joined}))
        for member, user_id in joined:
            if user_id not in allowed:
                await member.revoke()
                await db(cut_user_media)(user_id)
                closed += 1
    return closed


async def _guard_loop() -> None:
    loop = asyncio.get_running_loop()
    try:
        while get_hub().members:
            await asyncio.sleep(INTERVAL_SECONDS)
            try:
                await check_once()
            except Exception:
                logger.exception("hall access re-check failed; trying again next round")
    finally:
        _running.pop(loop, None)
