"""Per-process fan-out of hall events.

An event is encoded once, published once (to Redis pub/sub in production, straight to the local
hub in the embedded default), and each process writes the same text to each of its own sockets
in that hall — never one channel-layer message per recipient.
"""

import asyncio
import contextlib
import logging
import weakref
from collections import defaultdict
from typing import Protocol

from django.conf import settings

from conference.live.groups import hub_channel

logger = logging.getLogger(__name__)

EVERYONE = "everyone"
MODERATORS = "moderators"
_SEPARATOR = "\x1f"


class Member(Protocol):
    hall_id: int
    is_moderator: bool

    async def base_send(self, message: dict) -> None: ...


class HallHub:
    def __init__(self) -> None:
        self.members: dict[int, set[Member]] = defaultdict(set)
        self._redis = None
        self._listener: asyncio.Task | None = None
        self._pending: dict = {}

    # --- membership ---------------------------------------------------------------------
    async def join(self, member: Member) -> None:
        await self._ensure_listening()
        self.members[member.hall_id].add(member)

    def leave(self, member: Member) -> None:
        hall = self.members.get(member.hall_id)
        if hall is not None:
            hall.discard(member)
            if not hall:
                del self.members[member.hall_id]

    def coalesce(self, key, delay: float, callback) -> None:
        """Run `callback()` (a coroutine function) once, `delay` seconds after the first of any
        number of calls with the same key: many votes in a second become one broadcast."""
        if key in self._pending:
            return

        async def later():
            try:
                await asyncio.sleep(delay)
            finally:
                self._pending.pop(key, None)
            await callback()

        self._pending[key] = asyncio.get_running_loop().create_task(later())

    def local_count(self, hall_id: int) -> int:
        return len(self.members.get(hall_id, ()))

    # --- publishing -----------------------------------------------------------------------
    async def publish_from_server(self, hall_id: int, text: str) -> None:
        """Publish an event that did not come from a socket (an HTTP request changed the hall's
        stage): with Redis, every process receives it even if this one holds no socket."""
        await self._ensure_listening()
        await self.publish(hall_id, text)

    async def publish(self, hall_id: int, text: str, *, audience: str = EVERYONE) -> None:
        if self._redis is None:
            await self.deliver_local(hall_id, text, audience=audience)
            return
        message = f"{hall_id}{_SEPARATOR}{audience}{_SEPARATOR}{text}"
        await self._redis.publish(hub_channel(), message)

    async def deliver_local(self, hall_id: int, text: str, *, audience: str = EVERYONE) -> None:
        """Write one encoded event to every local socket in the hall.

        The ASGI message is built once and handed straight to the server for each socket,
        skipping the per-consumer layers: this loop is the hot path of a busy hall."""
        message = {"type": "websocket.send", "text": text}
        for member in tuple(self.members.get(hall_id, ())):
            if audience == MODERATORS and not member.is_moderator:
                continue
            try:
                await member.base_send(message)
            except Exception as error:  # a socket closing under us must not stop the others
                logger.debug("dropping a member that failed to receive: %r", error)
                self.leave(member)

    # --- Redis ----------------------------------------------------------------------------
    async def _ensure_listening(self) -> None:
        if not settings.REDIS_URL or self._listener is not None:
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(settings.REDIS_URL)
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(hub_channel())
        self._listener = asyncio.get_running_loop().create_task(self._listen(pubsub))

    async def _listen(self, pubsub) -> None:
        while True:
            try:
                async for message in pubsub.listen():
                    raw = message["data"]
                    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                    hall, audience, payload = text.split(_SEPARATOR, 2)
                    await self.deliver_local(int(hall), payload, audience=audience)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("hub listener failed; resubscribing in 1 s")
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):
                    await pubsub.subscribe(hub_channel())


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, HallHub]" = weakref.WeakKeyDictionary()


def get_hub() -> HallHub:
    """The hub of the running event loop (one per process in production)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = HallHub()
    return hub
