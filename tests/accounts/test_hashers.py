"""The production password hasher: Django's PBKDF2 under the same name, so every stored hash
stays valid and none is rehashed (the connection release is measured by tests/faults)."""

from django.contrib.auth import hashers
from django.db import connection

from accounts.hashers import PBKDF2PasswordHasher, release_pooled_connections
from conference import settings as production

PRODUCTION_HASHERS = production.PASSWORD_HASHERS


def test_production_hashers_are_djangos_with_pbkdf2_first(settings):
    assert PRODUCTION_HASHERS[0] == "accounts.hashers.PBKDF2PasswordHasher"
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    assert isinstance(hashers.get_hasher(), PBKDF2PasswordHasher)


def test_a_hash_made_by_djangos_pbkdf2_checks_without_a_rehash(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    django_pbkdf2 = hashers.PBKDF2PasswordHasher()
    stored = django_pbkdf2.encode("s3cret-pass", django_pbkdf2.salt())
    rehashed = []
    assert hashers.check_password("s3cret-pass", stored, setter=rehashed.append)
    assert rehashed == []
    assert not hashers.check_password("wrong", stored)
    assert hashers.make_password("s3cret-pass").startswith("pbkdf2_sha256$1000000$")


def test_release_leaves_unpooled_and_transaction_connections_alone(db):
    connection.ensure_connection()
    release_pooled_connections()  # the test settings have no pool: nothing to give back
    assert connection.connection is not None
