"""Events pushed to a hall from outside its sockets (the studio's HTTP requests)."""

import logging

from asgiref.sync import async_to_sync

from conference.live.frames import push
from conference.live.hub import get_hub

logger = logging.getLogger(__name__)


async def abroadcast_stage(hall_id: int, data: dict) -> None:
    await get_hub().publish_from_server(hall_id, push("stage.update", data))


def broadcast_stage(hall_id: int, session_id: int, data: dict) -> None:
    """Tell everyone in the hall what its stage shows now (not part of the resumable feed: a
    socket that connects later gets the stage in `hello`)."""
    try:
        async_to_sync(abroadcast_stage)(hall_id, data)
    except Exception:  # the stage is stored; sockets learn it on their next hello
        logger.exception("could not announce the stage of session %s", session_id)
