"""How the live layer reaches the database.

Channels runs `database_sync_to_async` calls on one shared thread, so every socket's queries wait
in a single line. On PostgreSQL the live layer's calls run on the event loop's worker threads
instead (each with its own connection), so a thousand people joining at once do not queue behind
each other. SQLite keeps the single thread: it has one writer anyway.
"""

from channels.auth import AuthMiddleware, get_user
from channels.db import DatabaseSyncToAsync
from channels.sessions import SessionMiddlewareStack
from django.conf import settings


def parallel() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def db(func):
    """`func` as a coroutine function that runs in a database thread (see the module doc)."""
    return DatabaseSyncToAsync(func, thread_sensitive=not parallel())


class LiveAuthMiddleware(AuthMiddleware):
    """Channels' session authentication, with the session and user lookup on `db` threads."""

    async def resolve_scope(self, scope):
        scope["user"]._wrapped = await db(get_user.func)(scope)


def LiveAuthMiddlewareStack(inner):
    return SessionMiddlewareStack(LiveAuthMiddleware(inner))
