"""Handlers register per action name; one decorator states who may call them and their cost."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from conference.live.attendance import AttendanceTracker
    from conference.models import LiveItem
    from conference.services.live import HallAccess


class Socket(Protocol):
    """What handlers use of their socket, `conference.live.consumer.HallConsumer` (not imported:
    the consumer imports the registry). Requests are handled only once the socket has joined."""

    person: dict[str, Any]  # the avatar others see
    moved_at: float  # when the avatar last moved (`time.monotonic()`)
    attendance: "AttendanceTracker | None"  # None until joined and once closed

    @property
    def joined_access(self) -> "HallAccess": ...

    async def apply(
        self, service: Callable[..., "LiveItem"], *, reply_as: str, **options: Any
    ) -> dict[str, Any]: ...

    async def apply_once(
        self, service: Callable[..., tuple["LiveItem", bool]], *, reply_as: str, **options: Any
    ) -> dict[str, Any]: ...

    async def broadcast_item(self, item: "LiveItem") -> dict[str, Any]: ...


# (socket, request data) -> reply data
Handler = Callable[[Socket, dict[str, Any]], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    handler: Handler
    moderator_only: bool
    bucket: str


ACTIONS: dict[str, Action] = {}


def action(
    name: str, *, moderator_only: bool = False, bucket: str = "default"
) -> Callable[[Handler], Handler]:
    """Register `handler` for the frames whose `action` is `name`."""

    def register(handler: Handler) -> Handler:
        if name in ACTIONS:
            raise ValueError(f"action {name!r} registered twice")
        ACTIONS[name] = Action(name, handler, moderator_only, bucket)
        return handler

    return register
