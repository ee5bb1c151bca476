import pytest

from tests.factories import EventFactory


@pytest.mark.django_db
def test_event_list_shows_ok(client):
    EventFactory()
    assert client.get("/").status_code == 200
