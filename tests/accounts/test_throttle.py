import time

import pytest
import redis
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from accounts import throttle
from accounts.forms import ThrottledAdminAuthenticationForm
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "doc@example.org"


def _login(client, password, *, email=EMAIL, ip="192.0.2.10"):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def _fail(client, times, **kwargs):
    for _ in range(times):
        response = _login(client, "wrong-password", **kwargs)
        assert response.status_code == 200


def _is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _non_field_errors(response):
    return response.context["form"].non_field_errors()


@pytest.fixture
def doctor(db):
    return UserFactory(email=EMAIL)


def test_login_sixth_attempt_blocked_even_with_right_password(client, doctor):
    _fail(client, 5)

    response = _login(client, PASSWORD)

    assert response.status_code == 429
    assert _non_field_errors(response) == ["Too many failed attempts; try again in 15 minutes."]
    assert not _is_logged_in(client)


def test_login_block_applies_to_email_in_any_case_and_from_any_address(client, doctor):
    _fail(client, 5, email="Doc@Example.org", ip="192.0.2.10")

    response = _login(client, PASSWORD, email=" DOC@example.ORG ", ip="198.51.100.7")

    assert response.status_code == 429
    assert not _is_logged_in(client)


def test_login_four_failures_do_not_block(client, doctor):
    _fail(client, 4)

    response = _login(client, PASSWORD)

    assert response.status_code == 302
    assert _is_logged_in(client)


def test_login_success_resets_email_counter(client, doctor):
    _fail(client, 4, ip="192.0.2.10")
    assert _login(client, PASSWORD, ip="192.0.2.10").status_code == 302
    client.post(reverse("accounts:logout"))
    _fail(client, 4, ip="192.0.2.11")

    response = _login(client, PASSWORD, ip="192.0.2.11")

    assert response.status_code == 302
    assert _is_logged_in(client)


@override_settings(LOGIN_COOLOFF_SECONDS=1)
def test_login_block_ends_after_cooloff(client, doctor):
    _fail(client, 5)
    blocked = _login(client, PASSWORD)
    assert blocked.status_code == 429
    assert _non_field_errors(blocked) == ["Too many failed attempts; try again in 1 minute."]

    time.sleep(1.1)
    response = _login(client, PASSWORD)

    assert response.status_code == 302
    assert _is_logged_in(client)


@override_settings(LOGIN_COOLOFF_SECONDS=1)
def test_login_after_cooloff_counter_starts_from_zero(client, doctor):
    _fail(client, 5)
    time.sleep(1.1)

    _fail(client, 4)
    response = _login(client, PASSWORD)

    assert response.status_code == 302


@override_settings(LOGIN_FAILURE_WINDOW_SECONDS=1)
def test_login_failures_outside_window_not_added(client, doctor):
    _fail(client, 4)
    time.sleep(1.1)
    _fail(client, 4)

    response = _login(client, PASSWORD)

    assert response.status_code == 302


@override_settings(LOGIN_IP_FAILURE_LIMIT=3)
def test_login_failures_across_emails_block_the_address(client, doctor):
    _fail(client, 1, email="a@example.org")
    _fail(client, 1, email="b@example.org")
    _fail(client, 1, email="c@example.org")

    blocked = _login(client, PASSWORD, ip="192.0.2.10")
    elsewhere = _login(client, PASSWORD, ip="203.0.113.5")

    assert blocked.status_code == 429
    assert elsewhere.status_code == 302


def test_login_ip_limit_default_is_larger_than_email_limit(settings):
    key = throttle.ThrottleKey(throttle.LOGIN, "ip", "x")

    assert throttle.failure_limit(key) == 4 * settings.LOGIN_FAILURE_LIMIT


def test_seconds_blocked_counts_down_within_cooloff(settings):
    key = throttle.email_key(throttle.LOGIN, EMAIL)
    throttle.record_failure(*[key] * settings.LOGIN_FAILURE_LIMIT)

    remaining = throttle.seconds_blocked(key)
    throttle.clear(key)

    assert 0 < remaining <= settings.LOGIN_COOLOFF_SECONDS
    assert throttle.seconds_blocked(key) == 0


def test_throttle_keys_hold_no_personal_data():
    key = throttle.email_key(throttle.LOGIN, " Doc@Example.org ")

    assert key == throttle.email_key(throttle.LOGIN, "doc@example.org")
    assert "doc" not in key.counter
    assert "example" not in key.block


@override_settings(LOGIN_IP_FAILURE_LIMIT=2)
def test_password_reset_requests_limited_per_address(client, doctor):
    url = reverse("accounts:password_reset")
    first = client.post(url, {"email": EMAIL}, REMOTE_ADDR="192.0.2.10")
    second = client.post(url, {"email": EMAIL}, REMOTE_ADDR="192.0.2.10")

    third = client.post(url, {"email": EMAIL}, REMOTE_ADDR="192.0.2.10")
    other_address = client.post(url, {"email": EMAIL}, REMOTE_ADDR="203.0.113.5")

    assert (first.status_code, second.status_code) == (302, 302)
    assert third.status_code == 429
    assert third.context["form"].non_field_errors() == [
        "Too many reset requests; try again in 15 minutes."
    ]
    assert other_address.status_code == 302
    assert len(mail.outbox) == 3


@pytest.mark.redis
def test_login_throttle_on_redis_cache(client, doctor, settings):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    _fail(client, 5)

    blocked = _login(client, PASSWORD)
    key = throttle.email_key(throttle.LOGIN, EMAIL)

    redis_client = redis.Redis.from_url(settings.REDIS_URL)
    assert blocked.status_code == 429
    assert 0 < redis_client.ttl(cache.make_key(key.block)) <= settings.LOGIN_COOLOFF_SECONDS
    assert redis_client.exists(cache.make_key(key.counter)) == 0


def test_admin_login_form_shares_the_throttle(rf, client):
    UserFactory(email=EMAIL, is_staff=True)
    _fail(client, 5)
    request = rf.post("/admin/login/", REMOTE_ADDR="203.0.113.9")

    form = ThrottledAdminAuthenticationForm(request, data={"username": EMAIL, "password": PASSWORD})

    assert not form.is_valid()
    assert form.throttled
    assert form.non_field_errors() == ["Too many failed attempts; try again in 15 minutes."]


def test_admin_login_form_counts_failures(rf, doctor):
    request = rf.post("/admin/login/", REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        form = ThrottledAdminAuthenticationForm(
            request, data={"username": EMAIL, "password": "wrong"}
        )
        assert not form.is_valid()

    assert throttle.seconds_blocked(throttle.email_key(throttle.LOGIN, EMAIL)) > 0
