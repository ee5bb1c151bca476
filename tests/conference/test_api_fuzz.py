"""The REST API against its own OpenAPI schema with generated requests (schemathesis), as
anonymous and as a registered attendee: no server error, every response as the schema says.

Bounded: at most MAX_EXAMPLES generated requests per operation and caller, and no example may
take longer than the deadline; the whole file runs in well under a minute.
"""

import datetime as dt
import secrets

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from conference.api.pagination import MAX_LIMIT, CappedLimitOffsetPagination
from tests.factories import (
    DisclosureFactory,
    EventFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    UserFactory,
)

MAX_EXAMPLES = 40
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=dt.timedelta(seconds=5),
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture
def api_schema(db, monkeypatch):
    # Generated requests come fast; the throttles stay on with a rate that never trips.
    monkeypatch.setattr(AnonRateThrottle, "rate", "1000000/min", raising=False)
    monkeypatch.setattr(UserRateThrottle, "rate", "1000000/min", raising=False)
    # As Django's test client does: requests must not close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def fuzz(api_schema, headers: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """Run every operation of the schema with generated requests; (requests, failures)."""
    sent, failures = 0, []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def run(case):
            nonlocal sent
            sent += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as error:
            failures.append(f"{operation.label}: {error}")
    return sent, failures


@pytest.fixture
def world(db):
    """Data for every shape the schema describes, including its nullable fields."""
    now = dt.datetime.now(dt.UTC)
    open_event = EventFactory(
        slug="open", registration_opens_at=None, registration_closes_at=None, capacity=None
    )
    windowed = EventFactory(
        slug="windowed",
        registration_opens_at=now - dt.timedelta(days=1),
        registration_closes_at=now + dt.timedelta(days=1),
        capacity=100,
    )
    for event in (open_event, windowed):
        session = SessionFactory(event=event, track=None)
        unsigned = SpeakerFactory(event=event, disclosure_signed_at=None)
        signed = SpeakerFactory(event=event, disclosure_signed_at=now)
        DisclosureFactory(speaker=signed)
        session.speakers.add(unsigned, signed)
    attendee = UserFactory()
    RegistrationFactory(user=attendee, event=open_event)
    return attendee


def _attendee_headers(user) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    token = secrets.token_hex(16)  # 32 characters: a valid CSRF secret, sent as cookie and header
    return {"Cookie": f"sessionid={session}; csrftoken={token}", "X-CSRFToken": token}


def test_api_as_anonymous_has_no_server_error_and_matches_schema(api_schema, world):
    sent, failures = fuzz(api_schema)

    assert failures == []
    assert sent >= 100


def test_api_as_attendee_has_no_server_error_and_matches_schema(api_schema, world):
    sent, failures = fuzz(api_schema, _attendee_headers(world))

    assert failures == []
    assert sent >= 100


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/events/", "/api/sessions/", "/api/speakers/"])
@pytest.mark.parametrize("limit", ["9223372036854775808", "100000", "201"])
def test_list_limit_is_capped(client, world, path, limit):
    response = client.get(path, {"limit": limit})
    request = APIRequestFactory().get(path, {"limit": limit})

    assert response.status_code == 200
    assert len(response.json()["results"]) == response.json()["count"]
    assert CappedLimitOffsetPagination().get_limit(Request(request)) == MAX_LIMIT
