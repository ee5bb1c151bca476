"""The one websocket consumer of a hall: `/ws/halls/<hall_id>/`."""

import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

import conference.live.actions  # noqa: F401  (registers the handlers)
from conference.live.attendance import AttendanceTracker
from conference.live.batch import Batcher, per_loop
from conference.live.control import anotify_user, session_tag
from conference.live.db import db, session_user
from conference.live.errors import (
    CLOSE_POLICY,
    CLOSE_REMOVED,
    CLOSE_REVOKED,
    CLOSE_UNAUTHENTICATED,
    LiveError,
    is_outage,
    live_error,
)
from conference.live.frames import Request, encode, parse_request, push, reply_error, reply_ok
from conference.live.guard import ensure_guard
from conference.live.hub import get_hub, unavailable
from conference.live.presence import get_presence
from conference.live.ratelimit import (
    ABUSE_BACKOFF_SECONDS,
    ABUSE_REFUSALS,
    LocalLimits,
    RedisLimits,
    get_limits,
)
from conference.live.registry import ACTIONS
from conference.models import LiveItem
from conference.services import live
from conference.services.refusals import Refused

if TYPE_CHECKING:
    from channels.consumer import _ChannelScope

logger = logging.getLogger(__name__)


def enter_with_session(
    session_key: str | None, hall_id: int, *, present: int, limits: LocalLimits | RedisLimits
) -> live.HallAccess:
    """The database call of a join that is the user's own (on a `db` thread): the session's
    user, the back-off after a close for abuse (docs/protocol.md, "Back-off after 4008"), then
    access (`services.live.enter_hall`). The hall's state and the attendance `join` follow,
    shared with the sockets joining together (`AttendanceTracker.admit`)."""
    user = session_user(session_key)
    if not user.is_authenticated:
        raise LiveError("unauthenticated", "Log in first.", close_code=CLOSE_UNAUTHENTICATED)
    wait = limits.backing_off_now(user.pk)
    if wait:
        error = LiveError(
            "abuse",
            "This account was closed for abuse; wait before reconnecting.",
            close_code=CLOSE_POLICY,
        )
        error.retry_after = wait
        raise error
    return live.enter_hall(user, hall_id, present=present)


def _enter_many(
    hall_id: int, sockets: list[tuple[str | None, int, LocalLimits | RedisLimits]]
) -> list[live.HallAccess | Exception]:
    """(On a database thread.) `enter_with_session` for each socket joining hall `hall_id`
    together (`conference.live.batch`): one thread hop and one pooled connection for all of
    them, each socket's checks its own; a refusal or an error goes to its socket alone."""
    results: list[live.HallAccess | Exception] = []
    for session_key, present, limits in sockets:
        try:
            results.append(enter_with_session(session_key, hall_id, present=present, limits=limits))
        except Exception as error:  # raised to its own socket by the Batcher
            results.append(error)
    return results


# The joins of the running event loop, batched per hall.
entries = per_loop(lambda: Batcher(db(_enter_many)))


class HallConsumer(AsyncWebsocketConsumer):
    # Control messages (logout, removal) travel on the hub's one subscription per process, so a
    # socket needs no channel-layer channel of its own.
    channel_layer_alias = None  # type: ignore[assignment]  # stub says str; None: no layer
    access: live.HallAccess | None = None
    # Pushes that arrive while connecting wait here until `hello` is out (see HallHub).
    held: list[Any] | None = None
    # The feed position `hello` describes: a push at or below it is already in that state (it
    # was stored before the state was read but published after `hello` went out).
    hello_seq = 0
    attendance: AttendanceTracker | None = None
    in_hub = False
    in_presence = False
    closing = False

    async def __call__(
        self, scope: "_ChannelScope", receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """Run the socket; whatever ends it, undo its join (hub, presence, attendance `leave`).

        Normally the `websocket.disconnect` handler does that. But uvicorn raises
        ClientDisconnected when a reply is sent to a connection already lost (a client gone while
        its request was being answered, or while Redis went down) and then ends this task
        without a word: the disconnect was never handled, and the `join` stayed without its
        `leave` (fault suite, docs/operations.md)."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.teardown()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every handler, a thread hop per
        # frame. Handlers here reach the database only through `conference.live.db.db`, which
        # does that itself, so frames that never touch the ORM skip the hop.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- lifecycle ------------------------------------------------------------------------
    async def connect(self) -> None:
        await self.accept()
        if not self.session_key():
            await self.refuse(
                LiveError("unauthenticated", "Log in first.", close_code=CLOSE_UNAUTHENTICATED)
            )
            return
        try:
            await self.join()
        except Refused as refusal:
            await self.teardown()
            await self.refuse(live_error(refusal))
        except Exception as error:
            await self.teardown()
            if is_outage(error):
                logger.warning("socket refused, a service is unavailable: %r", error)
                await self.refuse(unavailable())
            else:
                logger.exception("socket failed while connecting")
                with contextlib.suppress(Exception):
                    await self.close(code=1011)

    async def join(self) -> None:
        """Join the hall: every step that can fail comes before `hello`, and pushes that arrive
        meanwhile are held and sent after it (docs/protocol.md, "On connect")."""
        self.hall_id = int(self.scope["url_route"]["kwargs"]["hall_id"])
        session_key = self.session_key()
        self.session_tag = session_tag(session_key)
        store, ticker = get_presence()
        present = await store.count(self.hall_id)
        # Join the hub before reading the feed position: every item after it reaches `held`.
        self.held = []
        hub = get_hub()
        generation = await hub.join(self)
        self.in_hub = True
        self.connection_id = secrets.token_hex(8)
        self.access = await entries().add(self.hall_id, (session_key, present, get_limits()))
        self.attendance = AttendanceTracker(self)
        now = await self.attendance.admit()
        state: dict[str, Any] = {
            "seq": now.seq,
            "session": self.attendance.session,
            "stage": now.stage,
        }
        self.person = self.spawn_person()
        self.moved_at = time.monotonic()
        ensure_guard()
        await store.join(self.hall_id, self.person)
        self.in_presence = True
        ticker.note_join(self.hall_id, self.person)
        snapshot = await store.snapshot_json(self.hall_id)
        if not hub.still_subscribed(generation):
            raise unavailable("The live service lost its connection; reconnect.")
        self.hello_seq = now.seq
        held, self.held = self.held, None
        await self.send(text_data=push("hello", self.hello_data(state)))
        await self.send(text_data=f'{{"event":"presence.snapshot","data":{{"people":{snapshot}}}}}')
        moderator = self.is_moderator
        for seq, everyone, moderators in held:
            if seq is not None and seq <= self.hello_seq:
                continue  # already part of the state `hello` describes
            message = moderators if moderator else everyone
            if message is not None:
                await self.base_send(message)
        if self.attendance is not None:
            self.attendance.run()

    def session_key(self) -> str | None:
        """The login session's key, from the cookie (`conference.live.db.LiveAuthMiddleware`)."""
        key = self.scope.get("session_key")
        return key if isinstance(key, str) else None

    @property
    def joined_access(self) -> live.HallAccess:
        """`access`, once the join has read it: requests are handled, and the socket is in
        presence and receives pushes, only from then on."""
        if self.access is None:
            raise RuntimeError("the socket has not joined its hall")
        return self.access

    def spawn_person(self) -> dict[str, Any]:
        """Attendees appear at the back of the hall, facing the stage."""
        access = self.joined_access
        return {
            "id": access.user_id,
            "name": access.user_name,
            "degree": access.degree,
            "x": 0.0,
            "z": round(max(access.hall_depth / 2 - 1.5, 0.0), 2),
            "yaw": 0.0,
        }

    def hello_data(self, state: dict[str, Any]) -> dict[str, Any]:
        access = self.joined_access
        return {
            "hall": {"id": access.hall_id, "name": access.hall_name},
            "event": access.event_slug,
            "user": {"id": access.user_id, "name": access.user_name, "degree": access.degree},
            "role": access.role,
            "moderator": access.is_moderator,
            "connection": self.connection_id,
            **state,
        }

    async def disconnect(self, code: int) -> None:
        await self.teardown()

    async def teardown(self) -> None:
        """Undo whatever joining did (idempotent): hub, presence, then attendance `leave`."""
        if self.in_hub:
            self.in_hub = False
            get_hub().leave(self)
        if self.in_presence:
            self.in_presence = False
            store, ticker = get_presence()
            try:
                access = self.joined_access
                if await store.leave(access.hall_id, access.user_id):
                    ticker.note_leave(access.hall_id, access.user_id)
            except Exception as error:  # Redis is down: its presence data is rebuilt on rejoin
                logger.warning("presence leave not stored: %r", error)
        if self.attendance is not None:
            attendance, self.attendance = self.attendance, None
            try:
                await attendance.stop()
            except Exception:
                logger.exception("attendance leave not stored (closed at its last proof)")

    async def revoke(self) -> None:
        await self.refuse(
            LiveError("revoked", "You were logged out or lost access.", close_code=CLOSE_REVOKED)
        )

    async def removed(self, details: dict[str, Any]) -> None:
        error = LiveError(
            "removed", "A moderator removed you from this hall.", close_code=CLOSE_REMOVED
        )
        error.extra = {
            "until": str(details.get("until", "")),
            "reason": str(details.get("reason", "")),
        }
        await self.refuse(error)

    async def refuse(self, error: LiveError) -> None:
        """Send one `error` push and close with the error's code (once per socket)."""
        if self.closing:
            return
        self.closing = True
        self.held = None
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.send(text_data=encode({"event": "error", "data": error.as_dict()}))
            await self.close(code=error.close_code or CLOSE_POLICY)

    # --- requests -------------------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.access is None or self.held is not None or self.closing:
            return
        request_id = None
        try:
            if text_data is None:
                raise LiveError("bad_frame", "Only text frames carrying JSON are accepted.")
            request = parse_request(text_data)
            request_id = request.id
            data = await self.handle(request)
        except Refused as refusal:
            error = live_error(refusal)
            await self.send(text_data=reply_error(request_id or error.request_id, error))
            await self.note_refusal()
            return
        except Exception as error:
            if is_outage(error):
                logger.warning("live action refused, a service is unavailable: %r", error)
                failure = unavailable("A service is unavailable; nothing was changed. Retry.")
            else:
                logger.exception("live action failed")
                failure = LiveError("internal", "Something went wrong; nothing was changed.")
            await self.send(text_data=reply_error(request_id, failure))
            return
        await self.send(text_data=reply_ok(request.id, data))

    async def handle(self, request: Request) -> dict[str, Any] | None:
        registered = ACTIONS.get(request.action)
        if registered is None:
            raise LiveError("unknown_action", f"There is no action {request.action!r}.")
        access = self.joined_access
        if registered.moderator_only and not access.is_moderator:
            raise LiveError("forbidden", "Only moderators may do this.")
        if not await get_limits().take(access.user_id, registered.bucket):
            raise LiveError("rate_limited", "Too many requests; slow down and try again.")
        return await registered.handler(self, request.data)

    async def note_refusal(self) -> None:
        """Count a refused request against the user (every socket, every process); at
        ABUSE_REFUSALS within the window every socket of the user is closed with 4008 and the
        user backs off (docs/protocol.md)."""
        limits = get_limits()
        user_id = self.joined_access.user_id
        try:
            refused = await limits.refused(user_id)
        except Exception as error:  # Redis is down: the hub closes the sockets anyway
            logger.warning("refusal not counted: %r", error)
            return
        if refused < ABUSE_REFUSALS:
            return
        with contextlib.suppress(Exception):
            await limits.back_off(user_id)
        wait: float = ABUSE_BACKOFF_SECONDS
        with contextlib.suppress(Exception):
            wait = await limits.backing_off(user_id) or wait
        await self.abused(wait)
        with contextlib.suppress(Exception):  # the user's other sockets, in every process
            await get_hub().control("abuse", user_id, str(wait))

    async def abused(self, retry_after: float) -> None:
        error = LiveError("abuse", "Too many refused requests.", close_code=CLOSE_POLICY)
        error.retry_after = float(retry_after)
        await self.refuse(error)

    # --- delivery -------------------------------------------------------------------------
    @property
    def is_moderator(self) -> bool:
        """Whether moderator-only feed items reach this socket."""
        return self.joined_access.sees_pending

    async def apply(
        self, service: Callable[..., LiveItem], *, reply_as: str, **options: Any
    ) -> dict[str, Any]:
        """Run a service that stores a change and appends it to the hall's feed, broadcast the
        feed item (its transaction has committed), and reply with it."""
        item = await db(service)(self.joined_access, **options)
        published = await self.broadcast_item(item)
        await self.tell_privately(item)
        return {"seq": item.seq, reply_as: item.data, **published}

    async def tell_privately(self, item: LiveItem) -> None:
        """Pushes a service addressed to one person about the item (`item.private`: the author
        of a moderated question or a hidden chat message), to their sockets in this hall."""
        for user_id, event, data in getattr(item, "private", ()):
            try:
                await anotify_user(user_id, item.hall_id, push(event, data))
            except Exception as error:  # stored anyway; "My questions" shows it on request
                logger.warning("private push to %s not sent: %r", user_id, error)

    async def apply_once(
        self, service: Callable[..., tuple[LiveItem, bool]], *, reply_as: str, **options: Any
    ) -> dict[str, Any]:
        """Like `apply`, for a service that honours the client's idempotency key and returns
        (item, created): a resubmission is answered with the first item and not broadcast again."""
        item, created = await db(service)(self.joined_access, **options)
        published = await self.broadcast_item(item) if created else {}
        return {"seq": item.seq, reply_as: item.data, "duplicate": not created, **published}

    async def broadcast_item(self, item: LiveItem) -> dict[str, Any]:
        """Send a stored feed item to everyone in the hall who may see it (after commit), and a
        placeholder to everyone else. The item is stored whatever happens here: if publishing
        fails, the reply still succeeds (with `"published": false`) and clients get the item by
        `feed.resume`."""
        try:
            await get_hub().publish(
                item.hall_id,
                push(item.event, item.data, seq=item.seq),
                audience=item.audience,
                seq=item.seq,
                others=push(live.PLACEHOLDER_EVENT, {}, seq=item.seq),
            )
        except Exception as error:
            logger.warning(
                "feed item %s/%s stored, not published: %r", item.hall_id, item.seq, error
            )
            return {"published": False}
        return {}
