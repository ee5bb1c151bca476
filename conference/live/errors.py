"""The one exception class of the live layer; every error frame is built from it."""


class LiveError(Exception):
    """A refused request. `code` is stable and documented in docs/protocol.md."""

    def __init__(self, code: str, message: str, *, close_code: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code
        self.request_id = None  # the id of the refused request, when the frame had one
        self.retry_after: float | None = None  # seconds the client should wait before retrying
        self.extra: dict = {}  # more documented fields of the error (e.g. a removal's `until`)

    def as_dict(self) -> dict:
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


def is_outage(error: BaseException) -> bool:
    """Whether `error` means a service the live layer needs (PostgreSQL, Redis) is unreachable:
    such requests are answered `unavailable` (retry later), never `internal`."""
    from django.db import InterfaceError, OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(
        error, OperationalError | InterfaceError | RedisConnectionError | RedisTimeoutError
    )
