import pytest
from django.core.cache import cache

from tests.factories import PASSWORD, UserFactory


@pytest.mark.django_db
def test_admin_login_is_throttled_after_repeated_failures(client, settings):
    cache.clear()
    staff = UserFactory(is_staff=True, is_superuser=True)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": staff.email, "password": "wrong"})
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed attempts" in response.content.decode()
    cache.clear()
