"""Handlers register per action name; one decorator states who may call them and their cost."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

# (consumer, request data) -> reply data; the consumer is `conference.live.consumer.HallConsumer`
# (not imported: the consumer imports the registry).
Handler = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any] | None]]


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
