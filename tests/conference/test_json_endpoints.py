"""The JSON endpoints' edge (`conference.views.refusals`): a body that is too large, not JSON or
not an object, and any refusal a service raises, are answered `{"error": ...}` with the status
of the refusal's code; nothing else is caught."""

import json

import pytest
from django.http import JsonResponse
from django.test import RequestFactory

from conference.services.refusals import Refused
from conference.views.refusals import json_body, json_refusals


@json_refusals
def echo(request):
    return JsonResponse(json_body(request, max_bytes=64))


def post(body: str):
    return echo(RequestFactory().post("/x/", body, content_type="application/json"))


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("x" * 65, 413, "The request is too large."),
        ("{not json", 400, "The request is not valid JSON."),
        ("[1, 2]", 400, "The request must be a JSON object."),
        ('"text"', 400, "The request must be a JSON object."),
    ],
)
def test_bad_bodies_are_refused_clearly(body, status, error):
    answer = post(body)
    assert (answer.status_code, json.loads(answer.content)) == (status, {"error": error})


def test_an_object_and_an_empty_body_pass():
    assert json.loads(post('{"a": 1}').content) == {"a": 1}
    assert json.loads(post("").content) == {}


def test_a_service_refusal_gets_its_status_and_other_errors_are_not_caught():
    @json_refusals
    def refusing(request):
        raise Refused("conflict", "Someone else was faster.")

    @json_refusals
    def failing(request):
        raise KeyError("bug")

    answer = refusing(RequestFactory().get("/"))
    assert (answer.status_code, json.loads(answer.content)) == (
        409,
        {"error": "Someone else was faster."},
    )
    with pytest.raises(KeyError):
        failing(RequestFactory().get("/"))
