"""How the live layer reaches the database.

Channels runs `database_sync_to_async` calls on one shared thread, so every socket's queries wait
in a single line. On PostgreSQL the live layer's calls run on worker threads of their own instead
(each with its own connection), so a thousand people joining at once do not queue behind each
other. SQLite keeps the single thread: it has one writer anyway.

The worker threads are the live layer's own, not the event loop's default executor: when the
database is down each call waits for the connection pool (`DATABASE_POOL_TIMEOUT`), and a
default executor full of such calls would also hold back Django's HTTP responses, which log
every 4xx/5xx answer on that executor — the 503 pages and `/healthz/ready` hung for as long as
the outage lasted. There are `DATABASE_POOL_SIZE - 4` of them (at least 2), so four pooled
connections always stay for HTTP requests.
"""

import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from typing import Any, ParamSpec, TypeVar, cast

from channels.auth import get_user
from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import close_old_connections
from django.http.cookie import parse_cookie

_executor: ThreadPoolExecutor | None = None
P = ParamSpec("P")
R = TypeVar("R")


def parallel() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        threads = max(2, settings.DATABASE_POOL_SIZE - 4) if settings.DATABASE_POOL_SIZE else 6
        _executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="live-db")
    return _executor


def db(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` as a coroutine function that runs in a database thread (see the module doc)."""
    if parallel():
        wrapped = DatabaseSyncToAsync(_closing(func), thread_sensitive=False, executor=executor())
    else:
        wrapped = DatabaseSyncToAsync(_closing(func), thread_sensitive=True)
    return cast(Callable[P, Awaitable[R]], wrapped)


def _closing(func: Callable[P, R]) -> Callable[P, R]:
    """`func`, returning its connection when it ends (to the pool, or closed).

    Channels closes old connections around the call, but asgiref runs the call itself in a copy
    of the caller's context, where Django's connection lives: seen from outside that copy there
    was nothing to close, so each live-db thread kept the connection of its last call (held
    from the pool, or a stale one after a database outage that failed the next call).
    """

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return run


def session_user(session_key: str | None) -> Any:
    """The logged-in user of a session key (AnonymousUser if none), as Django's session
    authentication decides it (the session's auth hash is verified)."""
    engine = import_module(settings.SESSION_ENGINE)
    return get_user.func({"session": engine.SessionStore(session_key)})  # type: ignore[attr-defined]


class LiveAuthMiddleware:
    """The session cookie's key in the scope (`session_key`); the consumer reads the session's
    user in the same database call as the rest of its join (one call per join).

    Unlike Channels' SessionMiddleware it does not wrap `send`: that wrapper inspected the session
    on every frame sent to a socket (a websocket never saves its session), a fifth of the CPU of
    each delivery in a busy hall. The socket keeps no session object either."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        scope = dict(scope)
        cookie = b"; ".join(value for name, value in scope.get("headers", ()) if name == b"cookie")
        scope["session_key"] = parse_cookie(cookie.decode("latin-1")).get(
            settings.SESSION_COOKIE_NAME
        )
        return await self.inner(scope, receive, send)


def LiveAuthMiddlewareStack(inner: Any) -> LiveAuthMiddleware:
    return LiveAuthMiddleware(inner)
