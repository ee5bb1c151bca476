import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from conference.models import Registration, RegistrationStatus
from tests.factories import EventFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _register_url(event) -> str:
    return reverse("conference:event-register", kwargs={"event_slug": event.slug})


def _cancel_url(registration) -> str:
    return reverse("conference:registration-cancel", kwargs={"registration_id": registration.pk})


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _rows(event) -> list[tuple]:
    return list(Registration.objects.filter(event=event).values_list("user_id", "status"))


def test_register_creates_one_registration(logged_in_client, user):
    event = EventFactory(title="Cardiology Congress")

    response = logged_in_client.post(_register_url(event))

    assert response.status_code == 302
    assert response.url == event.get_absolute_url()
    assert _rows(event) == [(user.pk, RegistrationStatus.ACTIVE)]
    assert _messages(response) == ["You are registered for Cardiology Congress."]


def test_register_twice_says_already_registered(logged_in_client, user):
    event = EventFactory()
    logged_in_client.post(_register_url(event), follow=True)

    response = logged_in_client.post(_register_url(event), follow=True)

    assert response.status_code == 200
    assert _messages(response) == ["You are already registered for this event."]
    assert "You are already registered for this event." in response.content.decode()
    assert _rows(event) == [(user.pk, RegistrationStatus.ACTIVE)]


def test_register_when_full_shows_message_and_saves_nothing(logged_in_client):
    event = EventFactory(capacity=1)
    other = RegistrationFactory(event=event)

    response = logged_in_client.post(_register_url(event), follow=True)

    assert _messages(response) == ["This event is full."]
    assert _rows(event) == [(other.user_id, RegistrationStatus.ACTIVE)]


def test_register_for_past_event_shows_reason(logged_in_client):
    event = EventFactory(start_date="2020-01-01", end_date="2020-01-02")

    response = logged_in_client.post(_register_url(event), follow=True)

    assert _messages(response) == ["This event is over."]
    assert _rows(event) == []


def test_register_for_unpublished_event_is_404(logged_in_client):
    event = EventFactory(is_published=False)

    response = logged_in_client.post(_register_url(event))

    assert response.status_code == 404
    assert _rows(event) == []


def test_register_anonymous_redirects_to_login(client):
    event = EventFactory()
    url = _register_url(event)

    response = client.post(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={url}"
    assert _rows(event) == []


def test_register_get_returns_to_event_without_registering(logged_in_client):
    event = EventFactory()

    response = logged_in_client.get(_register_url(event))

    assert response.status_code == 302
    assert response.url == event.get_absolute_url()
    assert _rows(event) == []


def test_register_requires_csrf_token(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    event = EventFactory()

    response = client.post(_register_url(event))

    assert response.status_code == 403
    assert _rows(event) == []


def test_register_after_cancel_reactivates_same_row(logged_in_client, user):
    event = EventFactory()
    registration = RegistrationFactory(event=event, user=user, status=RegistrationStatus.CANCELLED)

    logged_in_client.post(_register_url(event))

    assert list(Registration.objects.filter(event=event).values_list("pk", "status")) == [
        (registration.pk, RegistrationStatus.ACTIVE)
    ]


def test_cancel_own_registration(logged_in_client, user):
    event = EventFactory(title="Neurology Days")
    registration = RegistrationFactory(event=event, user=user)

    response = logged_in_client.post(_cancel_url(registration))

    assert response.status_code == 302
    assert response.url == reverse("conference:my-events")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CANCELLED
    assert registration.cancelled_at is not None
    assert _messages(response) == ["Your registration for Neurology Days is cancelled."]


def test_cancel_returns_to_safe_next_url_only(logged_in_client, user):
    event = EventFactory()
    first = RegistrationFactory(event=event, user=user)
    second = RegistrationFactory(user=user)

    to_event = logged_in_client.post(_cancel_url(first), {"next": event.get_absolute_url()})
    offsite = logged_in_client.post(_cancel_url(second), {"next": "https://evil.example/"})

    assert to_event.url == event.get_absolute_url()
    assert offsite.url == reverse("conference:my-events")


def test_cancel_twice_says_already_cancelled(logged_in_client, user):
    registration = RegistrationFactory(user=user, status=RegistrationStatus.CANCELLED)

    response = logged_in_client.post(_cancel_url(registration))

    assert _messages(response) == ["This registration is already cancelled."]


def test_cancel_someone_elses_registration_is_404(logged_in_client):
    theirs = RegistrationFactory(user=UserFactory())

    response = logged_in_client.post(_cancel_url(theirs))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == RegistrationStatus.ACTIVE


def test_cancel_anonymous_redirects_to_login(client):
    registration = RegistrationFactory()

    response = client.post(_cancel_url(registration))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.ACTIVE


def test_event_page_shows_registration_state(client, user):
    event = EventFactory(capacity=3)
    RegistrationFactory(event=event)
    url = event.get_absolute_url()

    anonymous = client.get(url).content.decode()
    client.force_login(user)
    before = client.get(url).content.decode()
    client.post(_register_url(event))
    after = client.get(url).content.decode()

    assert "Log in to register" in anonymous
    assert "2 places left." in before
    assert "Register for this event" in before
    assert "You are registered" in after
    assert "Cancel my registration" in after
    assert "Register for this event" not in after
