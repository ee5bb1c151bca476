"""A database that cannot be reached answers 503 with `Retry-After`, not 500.

`OperationalError` covers a refused or dropped connection and an exhausted connection pool
(psycopg's `PoolTimeout` becomes Django's `OperationalError`). Views raise it through the
middleware's `process_exception`; anything raised outside a view (a middleware saving the
session, a response being rendered) reaches `server_error`, Django's `handler500`, which answers
503 the same way for these errors and the site's 500 page for everything else.

Pages get a short HTML page, `/api/` gets JSON: `{"detail": "...", "code": "unavailable"}`.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 15
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
MESSAGE = "The database is briefly unavailable; please try again shortly."


def unavailable_response(request: HttpRequest) -> HttpResponse:
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE, "code": "unavailable"}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turn a view's database outage into 503 + Retry-After (logged as one warning line)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, UNAVAILABLE_ERRORS):
            logger.warning(
                "database unavailable: %s %s: %s",
                request.method,
                request.path,
                type(exception).__name__,
            )
            return unavailable_response(request)
        return None


@requires_csrf_token
def server_error(request, template_name="500.html"):
    """`handler500`: 503 for a database outage raised outside a view, else the 500 page."""
    error = sys.exc_info()[1]
    if isinstance(error, UNAVAILABLE_ERRORS):
        return unavailable_response(request)
    return django_server_error(request, template_name=template_name)
