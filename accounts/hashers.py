"""Password hashing that holds no database connection while it computes.

Django's PBKDF2 (1,000,000 iterations) costs about 0.23 s of CPU per hash, and several times
that on a busy machine. A login looks the user up before it checks the password, so without this
the request kept its pooled PostgreSQL connection for the whole hash: ten logins at once held
all ten connections of a process's pool, and readiness probes and pages waited for the pool
until they timed out (503; measured by the fault suite, docs/operations.md "Database
connections"). This hasher is Django's PBKDF2 under the same algorithm name — every stored hash
stays valid and none is rehashed — that first hands a pooled connection back to its pool when
no transaction is open; the request's next query takes one again.
"""

from django.contrib.auth import hashers
from django.db import connections


def release_pooled_connections() -> None:
    """Return this thread's pooled connections to their pools (outside transactions only)."""
    for connection in connections.all(initialized_only=True):
        pooled = connection.settings_dict.get("OPTIONS", {}).get("pool")
        if pooled and connection.connection is not None and not connection.in_atomic_block:
            connection.close()


class PBKDF2PasswordHasher(hashers.PBKDF2PasswordHasher):
    def encode(self, password, salt, iterations=None):
        release_pooled_connections()
        return super().encode(password, salt, iterations)
