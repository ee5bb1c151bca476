"""A database outage answers 503 with Retry-After (pages: HTML, API: JSON), whether the view or
something outside it (a middleware, a template) met it. The real outage, against a real
server, is in tests/faults/test_bounds.py."""

import json
import sys

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from conference.unavailable import DatabaseUnavailableMiddleware, server_error


def _middleware():
    return DatabaseUnavailableMiddleware(lambda request: None)


def test_view_database_error_on_a_page_is_503_html_with_retry_after():
    request = RequestFactory().get("/events/")

    response = _middleware().process_exception(request, OperationalError("connection refused"))

    assert response.status_code == 503
    assert response["Retry-After"] == "15"
    assert "Briefly unavailable" in response.content.decode()
    assert "connection refused" not in response.content.decode()


def test_view_database_error_in_the_api_is_503_json():
    request = RequestFactory().get("/api/events/")

    response = _middleware().process_exception(request, OperationalError("pool timeout"))

    assert response.status_code == 503
    assert response["Retry-After"] == "15"
    assert json.loads(response.content)["code"] == "unavailable"


def test_other_view_errors_are_left_to_django():
    request = RequestFactory().get("/events/")

    assert _middleware().process_exception(request, ValueError("bug")) is None


def test_handler500_answers_503_for_a_database_error_raised_outside_a_view():
    request = RequestFactory().get("/events/")
    try:
        raise OperationalError("the server closed the connection")
    except OperationalError:
        assert sys.exc_info()[0] is OperationalError
        response = server_error(request)

    assert (response.status_code, response["Retry-After"]) == (503, "15")


@pytest.mark.django_db
def test_handler500_keeps_the_500_page_for_other_errors():
    request = RequestFactory().get("/events/")
    try:
        raise KeyError("bug")
    except KeyError:
        response = server_error(request)

    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
