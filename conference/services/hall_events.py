"""What services tell the open sockets of the halls, without importing the live layer.

The live layer sits above the services (it calls them); the services still have two things to
say to its sockets: the stage of a hall changed (the studio's HTTP requests), and a person's
sockets must close (their account was erased). The live layer hands in how it says them when
the app is ready (`conference.apps`), in every process that loads Django; a process that never
connected them (none does) says nothing.
"""

from collections.abc import Callable
from typing import Any

StageUpdate = Callable[[int, int, dict[str, Any]], None]
CloseUserSockets = Callable[[int], None]

_stage_update: StageUpdate | None = None
_stage_caption: StageUpdate | None = None
_close_user_sockets: CloseUserSockets | None = None


def connect(
    *,
    stage_update: StageUpdate,
    close_user_sockets: CloseUserSockets,
    stage_caption: StageUpdate | None = None,
) -> None:
    global _stage_update, _close_user_sockets, _stage_caption  # set once, when the app is ready
    _stage_update, _close_user_sockets = stage_update, close_user_sockets
    _stage_caption = stage_caption


def stage_update(hall_id: int, session_id: int, data: dict[str, Any]) -> None:
    """Tell everyone in hall `hall_id` what its stage (of session `session_id`) shows now."""
    if _stage_update is not None:
        _stage_update(hall_id, session_id, data)


def stage_caption(hall_id: int, session_id: int, data: dict[str, Any]) -> None:
    """Push a live caption cue of session `session_id` to everyone in hall `hall_id`."""
    if _stage_caption is not None:
        _stage_caption(hall_id, session_id, data)


def close_user_sockets(user_id: int) -> None:
    """Close every socket of user `user_id`, in every server process."""
    if _close_user_sockets is not None:
        _close_user_sockets(user_id)
