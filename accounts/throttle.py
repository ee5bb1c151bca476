"""Failure counting with a bounded cool-off, and request counting, kept in the Django cache.

Login failures are counted per normalized e-mail address and per client address (password reset
requests per client address). When either
count reaches its limit within the window, that key is blocked for the cool-off; the block then
expires on its own (there is no permanent lockout) and the counter starts again from zero.

Counters use `cache.add` + `cache.incr`, which are atomic on Redis and in the in-process cache,
so concurrent requests cannot lose a failure; `hit` is that counter for any other limit (a
recording's heartbeats, certificate verifications). The client address is `REMOTE_ADDR`; behind
a reverse proxy run uvicorn with `--proxy-headers --forwarded-allow-ips=<the proxy's address>`
so that it holds the real client address.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

LOGIN = "login"
RESET_REQUEST = "reset-request"

# Many honest people can share one address (a hospital's NAT, a conference Wi-Fi), so an
# address gets this many times the per-e-mail limit unless LOGIN_IP_FAILURE_LIMIT is set.
IP_LIMIT_FACTOR = 4


@dataclass(frozen=True)
class ThrottleKey:
    scope: str
    kind: str
    value: str

    @property
    def counter(self) -> str:
        return f"throttle:{self.scope}:{self.kind}:{self.value}:count"

    @property
    def block(self) -> str:
        return f"throttle:{self.scope}:{self.kind}:{self.value}:block"


def _digest(text: str) -> str:
    # Cache keys stay short and free of spaces and personal data.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def email_key(scope: str, email: str) -> ThrottleKey:
    return ThrottleKey(scope, "email", _digest(normalize_email(email)))


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def ip_key(scope: str, request: HttpRequest) -> ThrottleKey:
    return ThrottleKey(scope, "ip", _digest(client_ip(request)))


def failure_limit(key: ThrottleKey) -> int:
    if key.kind == "ip":
        return getattr(
            settings, "LOGIN_IP_FAILURE_LIMIT", IP_LIMIT_FACTOR * settings.LOGIN_FAILURE_LIMIT
        )
    return settings.LOGIN_FAILURE_LIMIT


def seconds_blocked(*keys: ThrottleKey) -> int:
    """Seconds until every key is unblocked; 0 when none is blocked."""
    now = time.time()
    remaining = 0.0
    for key in keys:
        until = cache.get(key.block)
        if until is not None and until > now:
            remaining = max(remaining, until - now)
    return math.ceil(remaining)


def hit(counter: str, *, window: int) -> int:
    """Count one hit on the cache key `counter`; the number of hits in its window, which opens
    with the first hit and lasts `window` seconds."""
    cache.add(counter, 0, timeout=window)
    try:
        return cache.incr(counter)
    except ValueError:
        # The counter expired between add and incr: this hit opens a new window.
        cache.add(counter, 0, timeout=window)
        return cache.incr(counter)


def _increment(key: ThrottleKey) -> int:
    return hit(key.counter, window=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def _block(key: ThrottleKey) -> None:
    cooloff = settings.LOGIN_COOLOFF_SECONDS
    cache.set(key.block, time.time() + cooloff, timeout=cooloff)
    cache.delete(key.counter)


def record_failure(*keys: ThrottleKey) -> None:
    """Count one failure against each key; block the keys that reach their limit."""
    for key in keys:
        if _increment(key) >= failure_limit(key):
            _block(key)


def clear(*keys: ThrottleKey) -> None:
    cache.delete_many([name for key in keys for name in (key.counter, key.block)])


def blocked_message(seconds: int, *, what: str = "failed attempts") -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many {what}; try again in {minutes} {unit}."
