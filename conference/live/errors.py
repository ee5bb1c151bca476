"""The one exception class of the live layer; every error frame is built from it."""


class LiveError(Exception):
    """A refused request. `code` is stable and documented in docs/protocol.md."""

    def __init__(self, code: str, message: str, *, close_code: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code
        self.request_id: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


# Close codes sent when the server ends a socket (4000-4999 are free for applications).
CLOSE_UNAUTHENTICATED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_NOT_FOUND = 4004
CLOSE_FULL = 4005
CLOSE_POLICY = 4008
CLOSE_REVOKED = 4009
CLOSE_REMOVED = 4010
