import pytest

from tests.factories import EventFactory, RegistrationFactory, UserFactory


def url(setup) -> str:
    return f"/events/{setup['event'].slug}/venue/{setup['hall'].slug}/presenter/"


@pytest.mark.django_db
def test_presenter_view_is_for_moderators(client, hall_setup):
    moderator = UserFactory()
    RegistrationFactory(user=moderator, event=hall_setup["event"], role="moderator")
    client.force_login(moderator)
    response = client.get(url(hall_setup))
    assert response.status_code == 200
    assert f'data-hall-id="{hall_setup["hall"].pk}"' in response.content.decode()


@pytest.mark.django_db
def test_presenter_view_refuses_attendees(client, hall_setup):
    client.force_login(hall_setup["alice"])
    response = client.get(url(hall_setup))
    assert response.status_code == 403
    assert "for the session's moderators and speakers" in response.content.decode()


@pytest.mark.django_db
def test_presenter_view_hides_hall_from_other_events(client, hall_setup):
    stranger = RegistrationFactory(event=EventFactory()).user
    client.force_login(stranger)
    assert client.get(url(hall_setup)).status_code == 404


@pytest.mark.django_db
def test_presenter_view_needs_login(client, hall_setup):
    response = client.get(url(hall_setup))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
