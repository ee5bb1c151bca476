"""Rate limits per user (not per socket) and the back-off after a user was closed for abuse.

A user's token buckets, their count of refused requests and their back-off are shared by all
their sockets: in Redis (one script call per request) when `REDIS_URL` is set, so every web
process counts against the same numbers; in process memory in the embedded default (one process
serves everything there).
"""

import secrets
import time
from collections import deque
from dataclasses import dataclass, field

from django.conf import settings

from conference.live.batch import per_loop
from conference.live.groups import PREFIX


@dataclass(slots=True)
class TokenBucket:
    capacity: float
    refill_per_second: float
    tokens: float = -1.0
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self, cost: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(
            self.capacity, self.tokens + (now - self.updated) * self.refill_per_second
        )
        self.updated = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True

    def full(self) -> bool:
        elapsed = time.monotonic() - self.updated
        return self.tokens + elapsed * self.refill_per_second >= self.capacity


# bucket name -> (burst capacity, sustained rate per second), per user
BUCKETS: dict[str, tuple[float, float]] = {
    "default": (10, 1.0),
    "write": (5, 0.5),
    "presence": (20, 12.0),
    "reaction": (3, 0.5),
}
# Refused requests of one user (all sockets, all processes) within the window that make the
# server close every socket of that user as abusive.
ABUSE_REFUSALS = 30
ABUSE_WINDOW_SECONDS = 10.0
# After a 4008 close the user may not open a socket for this long (refused with 4008 `abuse`).
ABUSE_BACKOFF_SECONDS = 60

# Token bucket in Redis: the server's clock, one hash per (user, bucket) that expires once full.
_TAKE = """
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local found = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(found[1]) or cap
local updated = tonumber(found[2]) or now
tokens = math.min(cap, tokens + math.max(now - updated, 0) * rate)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(cap / rate) + 1)
return ok
"""


# Refusals in a sliding window: one sorted-set member per refusal, scored by the server's clock.
_REFUSED = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return redis.call('ZCARD', KEYS[1])
"""


def _refused_key(user_id: int) -> str:
    return f"{PREFIX}:refused:{user_id}"


def _bucket_key(user_id: int, bucket: str) -> str:
    return f"{PREFIX}:rate:{user_id}:{bucket}"


def _abuse_key(user_id: int) -> str:
    return f"{PREFIX}:abuse:{user_id}"


class LocalLimits:
    """The embedded default: buckets and back-offs in this process."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[int, str], TokenBucket] = {}
        self.backoff: dict[int, float] = {}
        self.refusals: dict[int, deque[float]] = {}

    async def refused(self, user_id: int) -> int:
        """Count one refused request of the user; returns their refusals in the window."""
        now = time.monotonic()
        if len(self.refusals) > 10_000:  # forget users without recent refusals
            self.refusals = {
                k: v for k, v in self.refusals.items() if now - v[-1] <= ABUSE_WINDOW_SECONDS
            }
        times = self.refusals.setdefault(user_id, deque())
        times.append(now)
        while now - times[0] > ABUSE_WINDOW_SECONDS:
            times.popleft()
        return len(times)

    async def take(self, user_id: int, bucket: str) -> bool:
        key = (user_id, bucket)
        found = self.buckets.get(key)
        if found is None:
            if len(self.buckets) > 10_000:  # forget buckets that have refilled
                self.buckets = {k: b for k, b in self.buckets.items() if not b.full()}
            found = self.buckets[key] = TokenBucket(*BUCKETS[bucket])
        return found.take()

    async def back_off(self, user_id: int) -> None:
        self.backoff[user_id] = time.monotonic() + ABUSE_BACKOFF_SECONDS

    async def backing_off(self, user_id: int) -> float:
        """Seconds the user must still wait before connecting again (0 when they may)."""
        return self.backing_off_now(user_id)

    def backing_off_now(self, user_id: int) -> float:
        """`backing_off` for a database thread (a join checks it there, in its one call)."""
        until = self.backoff.get(user_id)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            self.backoff.pop(user_id, None)
            return 0.0
        return round(left, 1)


class RedisLimits:
    """Production: buckets and back-offs shared by every web process."""

    def __init__(self, url: str) -> None:
        import redis
        import redis.asyncio as aioredis

        self.redis = aioredis.from_url(url)
        self.sync_redis = redis.Redis.from_url(url)  # thread-safe pool, for database threads
        self.script = self.redis.register_script(_TAKE)
        self.refused_script = self.redis.register_script(_REFUSED)

    async def refused(self, user_id: int) -> int:
        """Count one refused request of the user; returns their refusals in the window."""
        member = secrets.token_hex(8)
        return int(
            await self.refused_script(
                keys=[_refused_key(user_id)], args=[ABUSE_WINDOW_SECONDS, member]
            )
        )

    async def take(self, user_id: int, bucket: str) -> bool:
        capacity, rate = BUCKETS[bucket]
        return bool(await self.script(keys=[_bucket_key(user_id, bucket)], args=[capacity, rate]))

    async def back_off(self, user_id: int) -> None:
        await self.redis.set(_abuse_key(user_id), 1, ex=ABUSE_BACKOFF_SECONDS)

    async def backing_off(self, user_id: int) -> float:
        left = await self.redis.pttl(_abuse_key(user_id))
        return round(left / 1000, 1) if left and left > 0 else 0.0

    def backing_off_now(self, user_id: int) -> float:
        """`backing_off` for a database thread (a join checks it there, in its one call)."""
        left = int(self.sync_redis.pttl(_abuse_key(user_id)))  # type: ignore[arg-type]  # sync client
        return round(left / 1000, 1) if left > 0 else 0.0


def _new_limits() -> LocalLimits | RedisLimits:
    return RedisLimits(settings.REDIS_URL) if settings.REDIS_URL else LocalLimits()


# The rate limits of the running event loop (one per process in production).
get_limits = per_loop(_new_limits)
