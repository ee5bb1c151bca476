"""The HTTP edge of the domain's one refusal (`conference.services.refusals.Refused`).

Services refuse with a code and a message and know nothing of HTTP; pages and JSON endpoints
answer with the status this table gives the refusal's code.
"""

from conference.services.refusals import Refused

HTTP_STATUS = {
    "invalid": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "rate_limited": 429,
    "unavailable": 503,
}


def http_status(refusal: Refused, *, default: int = 403) -> int:
    """The HTTP status of `refusal` (`default` for a code the table does not name)."""
    return HTTP_STATUS.get(refusal.code, default)
