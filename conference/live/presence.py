"""Who stands where in a hall right now, and the per-tick batched deltas.

The latest state per hall lives in process memory in the embedded default and in Redis hashes in
production, so every server process can give a joining socket a full snapshot. Moves are not
broadcast one by one: each process collects the changes of its own sockets and publishes one
`presence.delta` per hall per tick.
"""

import asyncio
import json
import logging
import math
import time
from collections import defaultdict
from typing import Any

from django.conf import settings

from conference.live.batch import Batcher, per_loop
from conference.live.frames import push
from conference.live.groups import PREFIX
from conference.live.hub import get_hub

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.1
# A tick in which nobody moved (only arrivals and departures) publishes at most once per this
# many seconds per hall: a thousand people joining within seconds cost every member a delta a
# second instead of ten (each delta goes to every member of the hall).
QUIET_DELTA_SECONDS = 1.0
MAX_SPEED_M_PER_S = 8.0
MOVE_SLACK_M = 1.5


def clamp_position(x: float, z: float, *, width: float, depth: float) -> tuple[float, float]:
    half_w, half_d = width / 2, depth / 2
    return max(-half_w, min(half_w, x)), max(-half_d, min(half_d, z))


def cap_speed(
    old: tuple[float, float], new: tuple[float, float], elapsed: float
) -> tuple[float, float]:
    """Limit a move to what walking could cover since the last accepted position."""
    dx, dz = new[0] - old[0], new[1] - old[1]
    distance = math.hypot(dx, dz)
    allowed = MAX_SPEED_M_PER_S * max(elapsed, 0.0) + MOVE_SLACK_M
    if distance <= allowed:
        return new
    ratio = allowed / distance
    return old[0] + dx * ratio, old[1] + dz * ratio


def _dump(person: dict[str, Any]) -> str:
    return json.dumps(person, ensure_ascii=False, separators=(",", ":"))


class LocalPresence:
    """The embedded default: one process holds every hall."""

    def __init__(self) -> None:
        self.people: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.refs: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    async def join(self, hall_id: int, person: dict[str, Any]) -> None:
        self.refs[hall_id][person["id"]] += 1
        self.people[hall_id][person["id"]] = person

    async def update_many(self, hall_id: int, people: list[dict[str, Any]]) -> None:
        present = self.people[hall_id]
        for person in people:
            if person["id"] in present:
                present[person["id"]] = person

    async def leave(self, hall_id: int, user_id: int) -> bool:
        """Drop one connection; True when it was the user's last in the hall."""
        refs = self.refs[hall_id]
        refs[user_id] -= 1
        if refs[user_id] > 0:
            return False
        refs.pop(user_id, None)
        self.people[hall_id].pop(user_id, None)
        return True

    async def snapshot(self, hall_id: int) -> list[dict[str, Any]]:
        return list(self.people.get(hall_id, {}).values())

    async def snapshot_json(self, hall_id: int) -> str:
        return json.dumps(await self.snapshot(hall_id), ensure_ascii=False, separators=(",", ":"))

    async def counts(self, hall_ids: list[int]) -> dict[int, int]:
        return {hall_id: len(self.people.get(hall_id, {})) for hall_id in hall_ids}

    async def count(self, hall_id: int) -> int:
        return len(self.people.get(hall_id, {}))


class RedisPresence:
    """Production: hashes shared by every process (`people` and connection counts per hall)."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self.redis: Any = aioredis.from_url(url)  # redis.asyncio.Redis (untyped results)
        # Joins, snapshot reads and head counts of sockets joining together share one Redis
        # round trip per hall (conference.live.batch).
        self._joins = Batcher(self._join_many)
        self._snapshots = Batcher(self._read_snapshot)
        self._counts = Batcher(self._count)

    @staticmethod
    def _keys(hall_id: int) -> tuple[str, str]:
        return f"{PREFIX}:presence:{hall_id}", f"{PREFIX}:presence:{hall_id}:refs"

    async def join(self, hall_id: int, person: dict[str, Any]) -> None:
        await self._joins.add(hall_id, person)

    async def _join_many(self, hall_id: int, persons: list[dict[str, Any]]) -> list[Any]:
        people, refs = self._keys(hall_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            for person in persons:
                pipe.hincrby(refs, person["id"], 1)
                pipe.hset(people, person["id"], _dump(person))
            await pipe.execute()
        return [None] * len(persons)

    async def update_many(self, hall_id: int, people: list[dict[str, Any]]) -> None:
        key, _refs = self._keys(hall_id)
        await self.redis.hset(key, mapping={p["id"]: _dump(p) for p in people})

    async def leave(self, hall_id: int, user_id: int) -> bool:
        people, refs = self._keys(hall_id)
        remaining = await self.redis.hincrby(refs, user_id, -1)
        if remaining > 0:
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(refs, user_id)
            pipe.hdel(people, user_id)
            await pipe.execute()
        return True

    async def snapshot(self, hall_id: int) -> list[dict[str, Any]]:
        people, _refs = self._keys(hall_id)
        return [json.loads(raw) for raw in (await self.redis.hvals(people))]

    async def snapshot_json(self, hall_id: int) -> str:
        """The snapshot as a JSON array, joined from the stored texts without decoding them.

        The result comes from a read of Redis that *started after this call*, so it holds
        everyone whose arrival was published before the caller joined the hub (the caller gets
        later deltas). Callers that arrive together share one read: a hall that a thousand people
        join at once is read a few dozen times, not a thousand times (each read costs O(people))."""
        snapshot: str = await self._snapshots.add(hall_id)
        return snapshot

    async def _read_snapshot(self, hall_id: int, callers: list[Any]) -> list[Any]:
        raw = await self.redis.hvals(self._keys(hall_id)[0])
        return ["[" + ",".join(item.decode("utf-8") for item in raw) + "]"] * len(callers)

    async def count(self, hall_id: int) -> int:
        """The people in one hall, from a read that started after this call (shared by the
        sockets joining together)."""
        count: int = await self._counts.add(hall_id)
        return count

    async def _count(self, hall_id: int, callers: list[Any]) -> list[Any]:
        return [await self.redis.hlen(self._keys(hall_id)[0])] * len(callers)

    async def counts(self, hall_ids: list[int]) -> dict[int, int]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for hall_id in hall_ids:
                pipe.hlen(self._keys(hall_id)[0])
            found = await pipe.execute()
        return dict(zip(hall_ids, found, strict=True))


class PresenceTicker:
    """Collects one process's presence changes per hall and publishes them once per tick."""

    def __init__(self, store: "LocalPresence | RedisPresence") -> None:
        self.store = store
        self.joined: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.moved: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.left: dict[int, set[int]] = defaultdict(set)
        self.published_at: dict[int, float] = {}  # hall -> when its last delta went out
        self._task: asyncio.Task[None] | None = None

    def note_move(self, hall_id: int, person: dict[str, Any]) -> None:
        self.left[hall_id].discard(person["id"])
        if person["id"] in self.joined[hall_id]:
            self.joined[hall_id][person["id"]] = person
        else:
            self.moved[hall_id][person["id"]] = person
        self._ensure_running()

    def note_join(self, hall_id: int, person: dict[str, Any]) -> None:
        self.left[hall_id].discard(person["id"])
        self.joined[hall_id][person["id"]] = person
        self._ensure_running()

    def note_leave(self, hall_id: int, user_id: int) -> None:
        self.joined[hall_id].pop(user_id, None)
        self.moved[hall_id].pop(user_id, None)
        self.left[hall_id].add(user_id)
        self._ensure_running()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        idle_ticks = 0
        while idle_ticks < 50:  # stop after 5 s without changes; restarted on the next one
            await asyncio.sleep(TICK_SECONDS)
            if await self.flush():
                idle_ticks = 0
            else:
                idle_ticks += 1

    async def flush(self) -> bool:
        """Publish one delta per hall that changed; False when nothing had changed. A hall
        where nobody moved waits QUIET_DELTA_SECONDS after its last delta (arrivals and
        departures gather meanwhile)."""
        published = False
        now = time.monotonic()
        for hall_id in set(self.joined) | set(self.moved) | set(self.left):
            quiet = not self.moved.get(hall_id)
            if quiet and now - self.published_at.get(hall_id, -math.inf) < QUIET_DELTA_SECONDS:
                published = True  # changes wait: keep ticking
                continue
            joined = self.joined.pop(hall_id, {})
            moved = [p for uid, p in self.moved.pop(hall_id, {}).items() if uid not in joined]
            left = sorted(self.left.pop(hall_id, set()))
            if joined or moved or left:
                self.published_at[hall_id] = now
                await self._publish(hall_id, list(joined.values()), moved, left)
                published = True
        return published

    async def _publish(
        self,
        hall_id: int,
        joined: list[dict[str, Any]],
        moved: list[dict[str, Any]],
        left: list[int],
    ) -> None:
        """One delta: newcomers in full, moves as [id, x, z, yaw], departures as ids."""
        data = {
            "joined": joined,
            "moved": [[p["id"], p["x"], p["z"], p["yaw"]] for p in moved],
            "left": left,
        }
        try:
            if moved or joined:
                await self.store.update_many(hall_id, joined + moved)
            await get_hub().publish(hall_id, push("presence.delta", data))
        except Exception:
            logger.exception("presence delta for hall %s not published", hall_id)


def _new_presence() -> tuple[Any, "PresenceTicker"]:
    store = RedisPresence(settings.REDIS_URL) if settings.REDIS_URL else LocalPresence()
    return store, PresenceTicker(store)


# The presence store and ticker of the running event loop (one per process in production).
get_presence = per_loop(_new_presence)
