"""Control messages to open sockets, on every server process (through the hub's subscription)."""

import hashlib
from typing import Any

from asgiref.sync import async_to_sync

from conference.live.frames import encode
from conference.live.hub import get_hub
from conference.services.media.stage import cut_user_media


def session_tag(session_key: str | None) -> str:
    """A socket's login session, as named in control messages (never the key itself)."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()[:32]


async def aclose_session_sockets(session_tag: str) -> None:
    """Close (4009 `revoked`) the sockets opened with one login session, in every process."""
    await get_hub().control("revoke_session", session_tag)


async def aclose_user_sockets(user_id: int) -> None:
    """Close (4009 `revoked`) every socket of one user, in every process."""
    await get_hub().control("revoke_user", user_id)


async def aremove_from_hall(
    user_id: int, hall_id: int, *, until: str = "", reason: str = ""
) -> None:
    """Close (4010 `removed`) the user's sockets in one hall, in every process; their `error`
    push says until when and why."""
    await get_hub().control("remove", user_id, hall_id, encode({"until": until, "reason": reason}))


async def anotify_user(user_id: int, hall_id: int, text: str) -> None:
    """Send one encoded push to the user's sockets in one hall, in every process."""
    await get_hub().control("notify", user_id, hall_id, text)


def on_user_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Logging out closes the sockets of that browser's session only; the user's other
    logged-in browsers keep theirs. (Live media is cut for the user, see docs/media.md.)"""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        async_to_sync(aclose_session_sockets)(session_tag(session_key))
    if user is not None:
        cut_user_media(user.pk)
