"""The HTTP edge of the domain's one refusal (`conference.services.refusals.Refused`).

Services refuse with a code and a message and know nothing of HTTP; pages and JSON endpoints
answer with the status this table gives the refusal's code.
"""

import functools
import json

from django.http import JsonResponse

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


def json_refusals(view):
    """A JSON endpoint: a `Refused` raised by `view` is answered `{"error": message}` with its
    status."""

    @functools.wraps(view)
    def answer(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Refused as refusal:
            return JsonResponse({"error": refusal.message}, status=http_status(refusal))

    return answer


def json_body(request, *, max_bytes: int) -> dict:
    """The request's JSON object (an empty body is `{}`), or a refusal saying what is wrong."""
    if len(request.body) > max_bytes:
        raise Refused("too_large", "The request is too large.")
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise Refused("invalid", "The request is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Refused("invalid", "The request must be a JSON object.")
    return data
