"""The one websocket consumer of a hall: `/ws/halls/<hall_id>/`."""

import logging
import secrets
import time
from collections import deque

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

import conference.live.actions  # noqa: F401  (registers the handlers)
from conference.live.errors import (
    CLOSE_POLICY,
    CLOSE_REVOKED,
    CLOSE_UNAUTHENTICATED,
    LiveError,
)
from conference.live.frames import encode, parse_request, push, reply_error, reply_ok
from conference.live.groups import user_group
from conference.live.hub import get_hub
from conference.live.ratelimit import ABUSE_REFUSALS, ABUSE_WINDOW_SECONDS, new_buckets
from conference.live.registry import ACTIONS
from conference.services import live

logger = logging.getLogger(__name__)


class HallConsumer(AsyncWebsocketConsumer):
    access: live.HallAccess | None = None

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, a thread hop per
        # frame. Handlers here reach the database only through database_sync_to_async, which
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
        try:
            self.access = await database_sync_to_async(live.resolve_hall_access)(user, hall_id)
        except LiveError as error:
            await self.refuse(error)
            return
        self.connection_id = secrets.token_hex(8)
        self.buckets = new_buckets()
        self.refusals: deque[float] = deque()
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        await get_hub().join(self)
        await self.send(text_data=push("hello", await self.hello_data()))

    async def hello_data(self) -> dict:
        access = self.access
        state = await database_sync_to_async(live.hall_state)(access)
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
        if self.access is None:
            return
        get_hub().leave(self)
        await self.channel_layer.group_discard(user_group(self.access.user_id), self.channel_name)

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
            await self.send(text_data=reply_error(request_id, error))
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

    async def deliver(self, text: str) -> None:
        await self.send(text_data=text)

    async def broadcast_item(self, item) -> None:
        """Send a stored feed item to everyone in the hall who may see it (after commit)."""
        await get_hub().publish(
            item.hall_id, push(item.event, item.data, seq=item.seq), audience=item.audience
        )

    # --- channel-layer control messages -----------------------------------------------------
    async def session_revoked(self, message) -> None:
        await self.refuse(
            LiveError("revoked", "You were logged out or lost access.", close_code=CLOSE_REVOKED)
        )
