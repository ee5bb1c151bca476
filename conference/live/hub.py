"""Per-process fan-out of hall events.

An event is encoded once per audience, published once (to Redis pub/sub in production, straight
to the local hub in the embedded default), and each process writes the same text to each of its
own sockets in that hall — never one channel-layer message per recipient.

With Redis, each process holds exactly one subscription, started by one listener task however
many sockets join at once. The hub is *subscribed* only between Redis confirming the
subscription and the connection failing; sockets join (and get `hello`) only while it is
subscribed, and when the subscription is lost every local socket is closed with 1013 and a retry
hint (docs/protocol.md), because what was published meanwhile never reached this process. The
listener then subscribes again on its own.
"""

import asyncio
import contextlib
import json
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

from conference.live.batch import per_loop
from conference.live.errors import CLOSE_UNAVAILABLE, LiveError

if TYPE_CHECKING:
    from conference.services.live import HallAccess
from conference.live.groups import hub_channel

logger = logging.getLogger(__name__)

EVERYONE = "everyone"
MODERATORS = "moderators"
_SEPARATOR = "\x1f"
CONTROL = "c"  # first field of a control message (hall events start with a hall id)
# How long a joining socket waits for the process to (re)subscribe before it is refused.
JOIN_WAIT_SECONDS = 10.0
# Pause between attempts to subscribe again after Redis was lost.
RESUBSCRIBE_SECONDS = 0.5
# Retry hint sent to sockets closed or refused because Redis is unavailable: uniformly random in
# this range, so that a hall's sockets do not all come back in the same instant.
RETRY_AFTER_RANGE = (2.0, 10.0)


def retry_after() -> float:
    return round(random.uniform(*RETRY_AFTER_RANGE), 1)  # noqa: S311 (jitter, not a secret)


def unavailable(message: str = "The live service is unavailable; reconnect later.") -> LiveError:
    error = LiveError("unavailable", message, close_code=CLOSE_UNAVAILABLE)
    error.retry_after = retry_after()
    return error


class Member(Protocol):
    hall_id: int
    # Pushes that arrive before the socket's `hello` went out wait here as (seq, message for
    # everyone, message for moderators); None once the socket is live.
    held: list[Any] | None
    hello_seq: int
    # Who the socket is, once its join has read it (None while it is still joining).
    access: "HallAccess | None"
    session_tag: str  # the browser session's tag (logging out closes that session's sockets)

    @property
    def is_moderator(self) -> bool: ...

    # The server's ASGI `send` (a consumer's `base_send`): one `websocket.send` message.
    @property
    def base_send(self) -> Callable[[Any], Awaitable[None]]: ...

    async def refuse(self, error: LiveError) -> None: ...

    async def revoke(self) -> None: ...

    async def removed(self, details: dict[str, Any]) -> None: ...

    async def abused(self, retry_after: float) -> None: ...


class HallHub:
    def __init__(self) -> None:
        self.members: dict[int, set[Member]] = defaultdict(set)
        self._redis: Any = None  # redis.asyncio.Redis once listening
        self._listener: asyncio.Task[None] | None = None
        self._pending: dict[Hashable, asyncio.Task[None]] = {}
        self.subscribed = asyncio.Event()
        # Counts subscriptions: a socket whose join saw another generation missed pushes.
        self.generation = 0
        self.subscriptions_started = 0
        if not settings.REDIS_URL:
            self.subscribed.set()

    # --- membership ---------------------------------------------------------------------
    async def ready(self) -> int:
        """Wait until this process receives the hall events; returns the subscription's
        generation. Raises LiveError("unavailable") when Redis does not answer in time."""
        self._ensure_listening()
        if not self.subscribed.is_set():
            try:
                await asyncio.wait_for(self.subscribed.wait(), JOIN_WAIT_SECONDS)
            except TimeoutError:
                raise unavailable() from None
        return self.generation

    def still_subscribed(self, generation: int) -> bool:
        return self.subscribed.is_set() and self.generation == generation

    async def join(self, member: Member) -> int:
        """Add `member` (its `held` list set) once the process is subscribed; see `ready`."""
        generation = await self.ready()
        self.members[member.hall_id].add(member)
        return generation

    def leave(self, member: Member) -> None:
        hall = self.members.get(member.hall_id)
        if hall is not None:
            hall.discard(member)
            if not hall:
                del self.members[member.hall_id]

    def coalesce(
        self, key: Hashable, delay: float, callback: Callable[[], Awaitable[None]]
    ) -> None:
        """Run `callback()` (a coroutine function) once, `delay` seconds after the first of any
        number of calls with the same key: many votes in a second become one broadcast."""
        if key in self._pending:
            return

        async def later() -> None:
            try:
                await asyncio.sleep(delay)
            finally:
                self._pending.pop(key, None)
            await callback()

        self._pending[key] = asyncio.get_running_loop().create_task(later())

    # --- publishing -----------------------------------------------------------------------
    async def publish_from_server(self, hall_id: int, text: str) -> None:
        """Publish an event that did not come from a socket (an HTTP request changed the hall's
        stage): with Redis, every process receives it even if this one holds no socket."""
        self._ensure_listening()
        await self.publish(hall_id, text)

    async def publish(
        self,
        hall_id: int,
        text: str,
        *,
        audience: str = EVERYONE,
        seq: int | None = None,
        others: str = "",
    ) -> None:
        """Send `text` to the hall. For a moderator-only item, `others` is what everyone else
        gets instead (the feed placeholder); `seq` is the item's feed position, if any."""
        moderators_text = text
        everyone_text = text if audience == EVERYONE else others
        if self._redis is None:
            await self.deliver_local(hall_id, seq, everyone_text, moderators_text)
            return
        message = _SEPARATOR.join(
            (str(hall_id), "" if seq is None else str(seq), everyone_text, moderators_text)
        )
        await self._redis.publish(hub_channel(), message)

    async def deliver_local(
        self, hall_id: int, seq: int | None, everyone_text: str, moderators_text: str
    ) -> None:
        """Write one encoded event to every local socket in the hall.

        The ASGI messages are built once per audience and handed straight to the server for each
        socket, skipping the per-consumer layers: this loop is the hot path of a busy hall.
        Sockets still connecting keep the text until their `hello` is out."""
        members = self.members.get(hall_id)
        if not members:
            return
        everyone = {"type": "websocket.send", "text": everyone_text} if everyone_text else None
        moderators = {"type": "websocket.send", "text": moderators_text}
        for member in tuple(members):
            held = member.held
            if held is not None:  # still connecting: its role may not be known yet
                held.append((seq, everyone, moderators))
                continue
            if seq is not None and seq <= member.hello_seq:
                continue  # stored before its `hello` was built: already in that state
            message = moderators if member.is_moderator else everyone
            if message is None:
                continue
            try:
                await member.base_send(message)
            except Exception as error:  # a socket closing under us must not stop the others
                logger.debug("dropping a member that failed to receive: %r", error)
                self.leave(member)

    # --- control messages ------------------------------------------------------------------
    async def control(self, kind: str, *args: str | int) -> None:
        """Tell every process's sockets about a rare change (`revoke_session`, `revoke_user`,
        `remove`, `notify`, `abuse`); each process scans its own sockets, no per-socket
        subscription exists."""
        fields = (CONTROL, kind, *(str(arg) for arg in args))
        if self._redis is None and not settings.REDIS_URL:
            await self.apply_control(kind, *fields[2:])
            return
        self._ensure_listening()
        await self._redis.publish(hub_channel(), _SEPARATOR.join(fields))

    async def apply_control(self, kind: str, *args: str) -> None:
        for hall in list(self.members.values()):
            for member in tuple(hall):
                access = getattr(member, "access", None)
                if access is None:
                    continue
                try:
                    revoked = (kind == "revoke_session" and member.session_tag == args[0]) or (
                        kind == "revoke_user" and str(access.user_id) == args[0]
                    )
                    if revoked:
                        await member.revoke()
                    elif kind == "abuse" and str(access.user_id) == args[0]:
                        await member.abused(float(args[1]))
                    elif (
                        kind in ("remove", "notify")
                        and str(access.user_id) == args[0]
                        and str(access.hall_id) == args[1]
                    ):
                        if kind == "remove":
                            await member.removed(json.loads(args[2]) if len(args) > 2 else {})
                        elif member.held is None:  # live (after `hello`)
                            await member.base_send({"type": "websocket.send", "text": args[2]})
                except Exception:  # one socket failing to close must not stop the others
                    logger.debug("control %s failed for a socket", kind, exc_info=True)

    # --- Redis ----------------------------------------------------------------------------
    def _ensure_listening(self) -> None:
        """Start the one listener task of this process (synchronously: no join can race)."""
        if not settings.REDIS_URL or self._listener is not None:
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(settings.REDIS_URL)
        self._listener = asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        while True:
            # No silent reconnects inside redis-py: a lost connection must end the subscription
            # here, so that the sockets that missed pushes are told.
            client = aioredis.from_url(settings.REDIS_URL, retry=Retry(NoBackoff(), 0))
            pubsub = client.pubsub()
            try:
                self.subscriptions_started += 1
                await pubsub.subscribe(hub_channel())
                async for message in pubsub.listen():
                    kind = message["type"]
                    if kind == "subscribe":
                        self.generation += 1
                        self.subscribed.set()
                        continue
                    if kind != "message":
                        continue
                    raw = message["data"]
                    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
                    if text.startswith(CONTROL + _SEPARATOR):
                        await self.apply_control(*text.split(_SEPARATOR)[1:])
                        continue
                    hall, seq, everyone_text, moderators_text = text.split(_SEPARATOR, 3)
                    await self.deliver_local(
                        int(hall), int(seq) if seq else None, everyone_text, moderators_text
                    )
                raise ConnectionError("the subscription ended")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("hub subscription lost (%r); subscribing again", error)
            finally:
                was_subscribed = self.subscribed.is_set()
                self.subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
                with contextlib.suppress(Exception):
                    await client.aclose()
            if was_subscribed:
                await self.close_all(unavailable("The live service lost its connection."))
            await asyncio.sleep(RESUBSCRIBE_SECONDS)

    async def close_all(self, error: LiveError) -> None:
        """Close every local socket with `error` (each gets its own retry hint)."""
        for hall in list(self.members.values()):
            for member in tuple(hall):
                if error.code == "unavailable":
                    error = unavailable(error.message)
                with contextlib.suppress(Exception):
                    await member.refuse(error)


# The hub of the running event loop (one per process in production).
get_hub = per_loop(HallHub)
