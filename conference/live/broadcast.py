"""Events pushed to a hall from outside its sockets (the studio's HTTP requests)."""

import logging
from typing import Any

from asgiref.sync import async_to_sync

from conference.live.frames import push
from conference.live.hub import get_hub

logger = logging.getLogger(__name__)


async def abroadcast_stage(hall_id: int, data: dict[str, Any]) -> None:
    await get_hub().publish_from_server(hall_id, push("stage.update", data))


def broadcast_stage(hall_id: int, session_id: int, data: dict[str, Any]) -> None:
    """Tell everyone in the hall what its stage shows now (not part of the resumable feed: a
    socket that connects later gets the stage in `hello`)."""
    try:
        async_to_sync(abroadcast_stage)(hall_id, data)
    except Exception:  # the stage is stored; sockets learn it on their next hello
        logger.exception("could not announce the stage of session %s", session_id)


async def abroadcast_caption(hall_id: int, data: dict[str, Any]) -> None:
    await get_hub().publish_from_server(hall_id, push("stage.caption", data))


def broadcast_caption(hall_id: int, session_id: int, data: dict[str, Any]) -> None:
    """A live caption cue for everyone in the hall (not part of the resumable feed: a cue is
    only worth showing while it is up)."""
    try:
        async_to_sync(abroadcast_caption)(hall_id, data)
    except Exception:  # the cue is stored (and kept with the recording); the push is lost
        logger.exception("could not push a caption of session %s", session_id)
