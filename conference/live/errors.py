"""The live layer's refusal; every error frame is built from it.

Services refuse with the domain's one type, `Refused` (they know no frames or close codes);
`live_error` translates such a refusal here, at the websocket edge.
"""

from typing import Any

from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from conference.services.refusals import Refused


class LiveError(Refused):
    """A refused request. `code` is stable and documented in docs/protocol.md."""

    def __init__(self, code: str, message: str, *, close_code: int | None = None):
        super().__init__(code, message)
        self.close_code = close_code
        # The id of the refused request, when the frame had one.
        self.request_id: str | int | float | None = None
        self.retry_after: float | None = None  # seconds the client should wait before retrying
        self.extra: dict[
            str, Any
        ] = {}  # more documented fields of the error (e.g. a removal's `until`)

    def as_dict(self) -> dict[str, Any]:
        found = {"code": self.code, "message": self.message, **self.extra}
        if self.retry_after is not None:
            found["retry_after"] = self.retry_after
        return found


# Close codes sent when the server ends a socket (4000-4999 are free for applications).
CLOSE_UNAVAILABLE = 1013  # "try again later" (RFC 6455): Redis or the database is unavailable
CLOSE_UNAUTHENTICATED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_NOT_FOUND = 4004
CLOSE_FULL = 4005
CLOSE_POLICY = 4008
CLOSE_REVOKED = 4009
CLOSE_REMOVED = 4010


# The close code of a socket refused at its join, by the refusal's code (docs/protocol.md);
# any other refusal at a join closes with CLOSE_POLICY.
JOIN_CLOSE_CODES = {
    "not_found": CLOSE_NOT_FOUND,
    "forbidden": CLOSE_FORBIDDEN,
    "hall_full": CLOSE_FULL,
    "removed": CLOSE_REMOVED,
}


def live_error(refusal: Refused) -> LiveError:
    """The error frame (and close code, at a join) of a service's refusal; its details (a
    removal's `until` and `reason`) become fields of the frame."""
    if isinstance(refusal, LiveError):
        return refusal
    error = LiveError(refusal.code, refusal.message, close_code=JOIN_CLOSE_CODES.get(refusal.code))
    error.extra = dict(refusal.details)
    return error


def is_outage(error: BaseException) -> bool:
    """Whether `error` means a service the live layer needs (PostgreSQL, Redis) is unreachable:
    such requests are answered `unavailable` (retry later), never `internal`."""
    return isinstance(
        error, OperationalError | InterfaceError | RedisConnectionError | RedisTimeoutError
    )
