"""The caller's own registrations through the API: list, register, cancel."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conference.models import Registration, RegistrationStatus
from tests.factories import EventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/me/registrations/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def alice():
    return UserFactory(email="alice@example.org")


@pytest.fixture
def bob():
    return UserFactory(email="bob@example.org")


@pytest.fixture
def event():
    return EventFactory(slug="congress", title="Congress", timezone="America/Chicago")


def expected_item(registration: Registration) -> dict:
    event = registration.event
    cancelled = registration.cancelled_at
    return {
        "id": registration.pk,
        "event": {
            "slug": event.slug,
            "title": event.title,
            "timezone": event.timezone,
            "start_date": event.start_date.isoformat(),
            "end_date": event.end_date.isoformat(),
        },
        "role": registration.role,
        "status": registration.status,
        "created_at": registration.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "cancelled_at": cancelled.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        if cancelled
        else None,
    }


# --- Anonymous ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", URL),
        ("post", URL),
        ("get", f"{URL}1/"),
        ("post", f"{URL}1/cancel/"),
        ("delete", f"{URL}1/"),
    ],
)
def test_registrations_anonymous_forbidden(event, method, path):
    RegistrationFactory(pk=1, event=event)
    response = getattr(APIClient(), method)(path, {"event": event.slug}, format="json")
    assert response.status_code in (401, 403)
    assert Registration.objects.get(pk=1).status == RegistrationStatus.ACTIVE
    assert Registration.objects.count() == 1


# --- Listing: only one's own ---------------------------------------------------------------


def test_registration_list_shows_only_own(alice, bob):
    mine = RegistrationFactory(user=alice)
    RegistrationFactory(user=bob)
    RegistrationFactory(user=bob, event=mine.event)
    response = client_for(alice).get(URL)
    assert response.status_code == 200
    assert response.json()["results"] == [expected_item(mine)]


def test_registration_detail_of_other_user_404(alice, bob):
    theirs = RegistrationFactory(user=bob)
    assert client_for(alice).get(f"{URL}{theirs.pk}/").status_code == 404


def test_registration_detail_own(alice):
    mine = RegistrationFactory(user=alice)
    response = client_for(alice).get(f"{URL}{mine.pk}/")
    assert (response.status_code, response.json()) == (200, expected_item(mine))


@pytest.mark.parametrize("count", [1, 3])
def test_registration_list_query_count_constant(alice, django_assert_num_queries, count):
    for _ in range(count):
        RegistrationFactory(user=alice)
    RegistrationFactory()  # someone else's
    client = client_for(alice)
    # session, user, count, page of registrations with their events
    with django_assert_num_queries(4):
        response = client.get(URL)
    assert response.json()["count"] == count


# --- Registering --------------------------------------------------------------------------


def test_register_creates_registration(alice, event):
    response = client_for(alice).post(URL, {"event": "congress"}, format="json")
    registration = Registration.objects.get()
    assert (response.status_code, response.json()) == (201, expected_item(registration))
    assert (registration.user, registration.event, registration.status) == (
        alice,
        event,
        RegistrationStatus.ACTIVE,
    )


def test_register_twice_is_400_with_one_row(alice, event):
    client = client_for(alice)
    assert client.post(URL, {"event": "congress"}, format="json").status_code == 201
    response = client.post(URL, {"event": "congress"}, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "You are already registered for this event.", "code": "duplicate"},
    )
    assert Registration.objects.filter(event=event).count() == 1


def test_register_when_full_is_400_and_adds_no_row(alice, bob):
    full = EventFactory(slug="tiny", capacity=1)
    RegistrationFactory(user=bob, event=full)
    response = client_for(alice).post(URL, {"event": "tiny"}, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "This event is full.", "code": "full"},
    )
    assert list(Registration.objects.filter(event=full).values_list("user", flat=True)) == [bob.pk]


def test_register_when_closed_is_400(alice):
    EventFactory(slug="closed", registration_closes_at=timezone.now() - dt.timedelta(hours=1))
    response = client_for(alice).post(URL, {"event": "closed"}, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Registration has closed.", "code": "closed"},
    )
    assert Registration.objects.count() == 0


def test_register_again_after_cancelling_reactivates_same_row(alice, event):
    old = RegistrationFactory(
        user=alice, event=event, status=RegistrationStatus.CANCELLED, cancelled_at=timezone.now()
    )
    response = client_for(alice).post(URL, {"event": "congress"}, format="json")
    assert response.status_code == 201
    old.refresh_from_db()
    assert (response.json()["id"], old.status, old.cancelled_at) == (
        old.pk,
        RegistrationStatus.ACTIVE,
        None,
    )
    assert Registration.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"event": ["This field is required."]}),
        ({"event": None}, {"event": ["This field may not be null."]}),
        ({"event": 17}, {"event": ["Give the event's slug as a string."]}),
        ({"event": ["congress"]}, {"event": ["Give the event's slug as a string."]}),
        ({"event": "nope"}, {"event": ["There is no event with the slug “nope”."]}),
    ],
)
def test_register_bad_payload_is_400_with_field_errors(alice, event, payload, errors):
    response = client_for(alice).post(URL, payload, format="json")
    assert (response.status_code, response.json()) == (400, errors)
    assert Registration.objects.count() == 0


def test_register_malformed_json_is_400(alice, event):
    response = client_for(alice).post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert Registration.objects.count() == 0


def test_register_for_other_organizers_unpublished_event_looks_unknown(alice):
    EventFactory(slug="secret", is_published=False)
    response = client_for(alice).post(URL, {"event": "secret"}, format="json")
    assert (response.status_code, response.json()) == (
        400,
        {"event": ["There is no event with the slug “secret”."]},
    )
    assert Registration.objects.count() == 0


# --- Cancelling -------------------------------------------------------------------------------


def test_cancel_by_post_returns_cancelled_registration(alice, event):
    mine = RegistrationFactory(user=alice, event=event)
    response = client_for(alice).post(f"{URL}{mine.pk}/cancel/")
    mine.refresh_from_db()
    assert mine.status == RegistrationStatus.CANCELLED
    assert mine.cancelled_at is not None
    assert (response.status_code, response.json()) == (200, expected_item(mine))


def test_cancel_by_delete_keeps_row_as_cancelled(alice, event):
    mine = RegistrationFactory(user=alice, event=event)
    response = client_for(alice).delete(f"{URL}{mine.pk}/")
    mine.refresh_from_db()
    assert (response.status_code, mine.status) == (204, RegistrationStatus.CANCELLED)


@pytest.mark.parametrize("method", ["post_cancel", "delete"])
def test_cancel_twice_is_400(alice, event, method):
    mine = RegistrationFactory(user=alice, event=event)
    client = client_for(alice)
    client.post(f"{URL}{mine.pk}/cancel/")
    if method == "delete":
        response = client.delete(f"{URL}{mine.pk}/")
    else:
        response = client.post(f"{URL}{mine.pk}/cancel/")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "This registration is already cancelled.", "code": "cancelled"},
    )


@pytest.mark.parametrize("method", ["post_cancel", "delete"])
def test_cancel_other_users_registration_404_and_unchanged(alice, bob, method):
    theirs = RegistrationFactory(user=bob)
    client = client_for(alice)
    if method == "delete":
        response = client.delete(f"{URL}{theirs.pk}/")
    else:
        response = client.post(f"{URL}{theirs.pk}/cancel/")
    theirs.refresh_from_db()
    assert (response.status_code, theirs.status) == (404, RegistrationStatus.ACTIVE)


def test_cancel_unknown_id_404(alice):
    assert client_for(alice).post(f"{URL}999999/cancel/").status_code == 404
    assert client_for(alice).delete(f"{URL}abc/").status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_register_concurrent_last_seat_one_wins_other_gets_400():
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection

    event = EventFactory(slug="last-seat", capacity=1)
    users = [UserFactory(), UserFactory()]
    barrier = Barrier(len(users))

    def register(user):
        try:
            client = client_for(user)
            barrier.wait(timeout=10)
            response = client.post(URL, {"event": "last-seat"}, format="json")
            return response.status_code, response.json().get("code")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        outcomes = sorted(pool.map(register, users), key=lambda outcome: outcome[0])

    assert outcomes == [(201, None), (400, "full")]
    assert Registration.objects.filter(event=event).count() == 1
