"""The one websocket consumer of a hall: `/ws/halls/<hall_id>/`."""

import logging
import secrets
import time
from collections import deque

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

import conference.live.actions  # noqa: F401  (registers the handlers)
from conference.live.attendance import AttendanceTracker
from conference.live.db import db
from conference.live.errors import (
    CLOSE_FULL,
    CLOSE_POLICY,
    CLOSE_REMOVED,
    CLOSE_REVOKED,
    CLOSE_UNAUTHENTICATED,
    LiveError,
)
from conference.live.frames import encode, parse_request, push, reply_error, reply_ok
from conference.live.groups import user_group
from conference.live.guard import ensure_guard
from conference.live.hub import get_hub
from conference.live.presence import get_presence
from conference.live.ratelimit import ABUSE_REFUSALS, ABUSE_WINDOW_SECONDS, new_buckets
from conference.live.registry import ACTIONS
from conference.services import live

logger = logging.getLogger(__name__)


class HallConsumer(AsyncWebsocketConsumer):
    access: live.HallAccess | None = None

    async def dispatch(self, message):
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
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(
                LiveError("unauthenticated", "Log in first.", close_code=CLOSE_UNAUTHENTICATED)
            )
            return
        hall_id = int(self.scope["url_route"]["kwargs"]["hall_id"])
        connection_id = secrets.token_hex(8)
        try:
            self.access, state = await db(live.enter_hall)(user, hall_id, connection=connection_id)
        except LiveError as error:
            await self.refuse(error)
            return
        store, ticker = get_presence()
        access = self.access
        if not access.is_moderator:
            present = (await store.counts([access.hall_id]))[access.hall_id]
            if present >= access.hall_capacity:
                self.access = None
                await self.refuse(
                    LiveError(
                        "hall_full", "This hall is full; try again soon.", close_code=CLOSE_FULL
                    )
                )
                return
        self.connection_id = connection_id
        self.buckets = new_buckets()
        self.refusals: deque[float] = deque()
        self.person = self.spawn_person()
        self.moved_at = time.monotonic()
        self.attendance = AttendanceTracker(self, joined=state["session"])
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        await get_hub().join(self)
        ensure_guard()
        await store.join(access.hall_id, self.person)
        ticker.note_join(access.hall_id, self.person)
        await self.send(text_data=push("hello", self.hello_data(state)))
        snapshot = await store.snapshot_json(access.hall_id)
        await self.send(text_data=f'{{"event":"presence.snapshot","data":{{"people":{snapshot}}}}}')

    def spawn_person(self) -> dict:
        """Attendees appear at the back of the hall, facing the stage."""
        access = self.access
        return {
            "id": access.user_id,
            "name": access.user_name,
            "degree": access.degree,
            "x": 0.0,
            "z": round(max(access.hall_depth / 2 - 1.5, 0.0), 2),
            "yaw": 0.0,
        }

    def hello_data(self, state: dict) -> dict:
        access = self.access
        return {
            "hall": {"id": access.hall_id, "name": access.hall_name},
            "event": access.event_slug,
            "user": {"id": access.user_id, "name": access.user_name, "degree": access.degree},
            "role": access.role,
            "moderator": access.is_moderator,
            "connection": self.connection_id,
            **state,
        }

    async def disconnect(self, code) -> None:
        if self.access is None or not hasattr(self, "connection_id"):
            return
        access = self.access
        get_hub().leave(self)
        await self.channel_layer.group_discard(user_group(access.user_id), self.channel_name)
        store, ticker = get_presence()
        if await store.leave(access.hall_id, access.user_id):
            ticker.note_leave(access.hall_id, access.user_id)
        await self.attendance.stop()

    async def revoke(self) -> None:
        await self.refuse(
            LiveError("revoked", "You were logged out or lost access.", close_code=CLOSE_REVOKED)
        )

    async def refuse(self, error: LiveError) -> None:
        await self.send(text_data=encode({"event": "error", "data": error.as_dict()}))
        await self.close(code=error.close_code or CLOSE_POLICY)

    # --- requests -------------------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.access is None:
            return
        request_id = None
        try:
            if text_data is None:
                raise LiveError("bad_frame", "Only text frames carrying JSON are accepted.")
            request = parse_request(text_data)
            request_id = request.id
            data = await self.handle(request)
        except LiveError as error:
            await self.send(text_data=reply_error(request_id or error.request_id, error))
            await self.note_refusal()
            return
        except Exception:
            logger.exception("live action failed")
            error = LiveError("internal", "Something went wrong; nothing was changed.")
            await self.send(text_data=reply_error(request_id, error))
            return
        await self.send(text_data=reply_ok(request.id, data))

    async def handle(self, request) -> dict | None:
        registered = ACTIONS.get(request.action)
        if registered is None:
            raise LiveError("unknown_action", f"There is no action {request.action!r}.")
        if registered.moderator_only and not self.access.is_moderator:
            raise LiveError("forbidden", "Only moderators may do this.")
        if not self.buckets[registered.bucket].take():
            raise LiveError("rate_limited", "Too many requests; slow down and try again.")
        return await registered.handler(self, request.data)

    async def note_refusal(self) -> None:
        """Close sockets that keep sending refused requests."""
        now = time.monotonic()
        self.refusals.append(now)
        while self.refusals and now - self.refusals[0] > ABUSE_WINDOW_SECONDS:
            self.refusals.popleft()
        if len(self.refusals) >= ABUSE_REFUSALS:
            await self.refuse(
                LiveError("abuse", "Too many refused requests.", close_code=CLOSE_POLICY)
            )

    # --- delivery -------------------------------------------------------------------------
    @property
    def hall_id(self) -> int:
        return self.access.hall_id

    @property
    def is_moderator(self) -> bool:
        """Whether moderator-only feed items reach this socket."""
        return self.access.sees_pending

    async def apply(self, service, *, reply_as: str, **options) -> dict:
        """Run a service that stores a change and appends it to the hall's feed, broadcast the
        feed item (its transaction has committed), and reply with it."""
        item = await db(service)(self.access, **options)
        await self.broadcast_item(item)
        return {"seq": item.seq, reply_as: item.data}

    async def apply_once(self, service, *, reply_as: str, **options) -> dict:
        """Like `apply`, for a service that honours the client's idempotency key and returns
        (item, created): a resubmission is answered with the first item and not broadcast again."""
        item, created = await db(service)(self.access, **options)
        if created:
            await self.broadcast_item(item)
        return {"seq": item.seq, reply_as: item.data, "duplicate": not created}

    async def broadcast_item(self, item) -> None:
        """Send a stored feed item to everyone in the hall who may see it (after commit)."""
        await get_hub().publish(
            item.hall_id, push(item.event, item.data, seq=item.seq), audience=item.audience
        )

    # --- channel-layer control messages -----------------------------------------------------
    async def session_revoked(self, message) -> None:
        await self.revoke()

    async def hall_removed(self, message) -> None:
        if self.access is not None and message.get("hall") == self.access.hall_id:
            await self.refuse(
                LiveError(
                    "removed", "A moderator removed you from this hall.", close_code=CLOSE_REMOVED
                )
            )
