"""Attendance of one socket, owned by the server: the `join` when it is admitted, the `leave`
when it closes, heartbeats, attention checks, and the switch from one session to the next at
the session's end, on the server's own timer (docs/protocol.md, "Attendance").

Every database call runs on a database thread (`conference.live.db`), never on the event loop,
and is shared by the sockets doing the same at the same moment (`conference.live.batch`): the
hall's state is read once for every socket joining together (their `join` rows are written in
the same call), and once for every socket of the hall at a session's end; attendance rows are
written in bulk. A socket's own rows are stored before the socket goes on: `hello` is sent
after its `join` is stored, and its `leave` is written after its `join`.
"""

import asyncio
import contextlib
import dataclasses
import logging
import math
import secrets
import time
from datetime import datetime
from typing import Any

from django.utils import timezone

from conference.live.batch import Batcher, per_loop
from conference.live.db import db
from conference.live.frames import push
from conference.models import AttendanceKind
from conference.services import attendance, live
from conference.services.media.stage import hall_stage_data

logger = logging.getLogger(__name__)

UNIT_SECONDS = 60.0  # attention checks are configured in minutes
HEARTBEAT_MIN_INTERVAL = 20.0
# The hall's programme is read again at the followed session's end and at least at every full
# minute of the clock (a session moved by "Start now"/"End now", or one starting within 30
# minutes); sockets of one hall wake together, so they share the read.
PROGRAMME_CHECK_SECONDS = 60.0
# After a session's end, so that the read no longer finds it on.
BOUNDARY_SLACK_SECONDS = 0.05
# Waiting after a failed read of the programme (the database is down).
PROGRAMME_RETRY_SECONDS = 5.0


def _admit(key: tuple[int, int], rows: list[attendance.AttendanceRow]) -> list[live.HallNow]:
    """(On a database thread.) The hall's state for sockets joining together, and their `join`
    rows when a session is on (or starting within 30 minutes)."""
    now = live.hall_now(*key, stage=hall_stage_data)
    if now.session is not None:
        attendance.record_many(
            [dataclasses.replace(row, session_id=now.session["id"]) for row in rows]
        )
    return [now] * len(rows)


def _read(key: tuple[int, int], callers: list[Any]) -> list[live.HallNow]:
    return [live.hall_now(*key, stage=hall_stage_data)] * len(callers)


def _write(_key: Any, rows: list[attendance.AttendanceRow]) -> list[None]:
    attendance.record_many(rows)
    return [None] * len(rows)


class _Batches:
    def __init__(self) -> None:
        self.admissions = Batcher(db(_admit))
        self.reads = Batcher(db(_read))
        self.writes = Batcher(db(_write))


# The batches of the running event loop (one per process in production).
batches = per_loop(_Batches)


async def hall_now(access: live.HallAccess) -> live.HallNow:
    """The hall's state for `access`'s event, from a read that started after this call."""
    now: live.HallNow = await batches().reads.add((access.hall_id, access.event_id))
    return now


class AttendanceTracker:
    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer
        # The session followed (as in `hello`): its `join` is stored, its `leave` is due.
        self.session: dict[str, Any] | None = None
        self.ends_at: datetime | None = None
        self.pending_check: str | None = None
        self._written = 0  # the socket's events so far: the next one's idempotency key
        self._admission: asyncio.Task[live.HallNow] | None = None
        self._checks: asyncio.Task[None] | None = None
        self._programme: asyncio.Task[None] | None = None
        self._switching = asyncio.Lock()
        self._last_heartbeat = -math.inf
        self._stopped = False

    @property
    def access(self) -> live.HallAccess:
        access: live.HallAccess = self.consumer.access
        return access

    def _row(self, kind: str, session_id: int) -> attendance.AttendanceRow:
        key = f"{self.consumer.connection_id}:{self._written}"
        self._written += 1
        return attendance.AttendanceRow(
            user_id=self.access.user_id,
            hall_id=self.access.hall_id,
            session_id=session_id,
            connection=self.consumer.connection_id,
            kind=kind,
            server_time=timezone.now(),
            key=key,
        )

    async def _record(self, kind: str, session_id: int) -> None:
        await batches().writes.add(None, self._row(kind, session_id))

    # --- joining and leaving ------------------------------------------------------------------
    async def admit(self) -> live.HallNow:
        """Read the hall's state and store the socket's `join` if a session is on (shared with
        the sockets joining together). The caller sends `hello`, then calls `run`."""
        access = self.access
        row = self._row(AttendanceKind.JOIN, 0)  # its session is filled in by the batch
        # A task of its own: if this socket's task ends meanwhile, `stop` still learns whether
        # the `join` was stored and writes its `leave`.
        self._admission = asyncio.get_running_loop().create_task(
            batches().admissions.add((access.hall_id, access.event_id), row)
        )
        now: live.HallNow = await asyncio.shield(self._admission)
        self._admission = None
        self._take(now)
        return now

    def _take(self, now: live.HallNow) -> None:
        self.session = live.session_for(self.access, now)
        self.ends_at = now.ends_at if now.session is not None else None
        self._last_heartbeat = -math.inf  # the first heartbeat is always recorded

    def run(self) -> None:
        """Start following the programme and the session's attention checks (after `hello`)."""
        if self._stopped:
            return
        self._start_checks()
        if self._programme is None:
            self._programme = asyncio.get_running_loop().create_task(self._follow_programme())

    def _start_checks(self) -> None:
        if self.session is not None and self.session.get("attention_check_minutes"):
            self._checks = asyncio.get_running_loop().create_task(
                self._attention_loop(self.session)
            )

    async def _stop_checks(self) -> None:
        if self._checks is not None:
            checks, self._checks = self._checks, None
            checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checks
        self.pending_check = None

    async def stop(self) -> None:
        """The socket closed: stop the timers and write the `leave` of the followed session
        (also of a `join` stored while the socket was still connecting)."""
        self._stopped = True
        if self._programme is not None:
            programme, self._programme = self._programme, None
            programme.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await programme
        await self._stop_checks()
        if self._admission is not None:
            admission, self._admission = self._admission, None
            try:
                now = await asyncio.shield(admission)
            except Exception:
                now = None  # nothing was stored
            if now is not None and self.session is None:
                self._take(now)
        if self.session is not None:
            session, self.session = self.session, None
            await self._record(AttendanceKind.LEAVE, session["id"])

    # --- following the programme ----------------------------------------------------------
    def _until_next_check(self) -> float:
        wall = time.time()
        delay = PROGRAMME_CHECK_SECONDS - wall % PROGRAMME_CHECK_SECONDS
        if self.ends_at is not None:
            delay = min(delay, self.ends_at.timestamp() - wall)
        return max(delay, 0.0) + BOUNDARY_SLACK_SECONDS

    async def _follow_programme(self) -> None:
        while True:
            await asyncio.sleep(self._until_next_check())
            try:
                await self.switch(await hall_now(self.access))
            except Exception as error:
                logger.warning("hall programme not read (trying again): %r", error)
                await asyncio.sleep(PROGRAMME_RETRY_SECONDS)

    async def switch(self, now: live.HallNow) -> bool:
        """Follow the hall to `now`'s session if it is another one: `leave` the old session,
        `join` the new one, push `session.changed`. Returns whether it changed."""
        async with self._switching:
            if self._stopped:
                return False
            new = live.session_for(self.access, now)
            if (new or {}).get("id") == (self.session or {}).get("id"):
                if new is not None:
                    self.session, self.ends_at = new, now.ends_at  # times may have moved
                return False
            await self._stop_checks()
            old, self.session = self.session, None
            if old is not None:
                await self._record(AttendanceKind.LEAVE, old["id"])
            self._take(now)
            if new is not None:
                await self._record(AttendanceKind.JOIN, new["id"])
            self._start_checks()
        with contextlib.suppress(Exception):  # a socket closing meanwhile
            await self.consumer.send(
                text_data=push("session.changed", {"session": new, "stage": now.stage})
            )
        return True

    # --- proofs of presence ---------------------------------------------------------------
    async def heartbeat(self) -> dict[str, Any]:
        """Record presence in the followed session: the first heartbeat after a `join`, then at
        most one per HEARTBEAT_MIN_INTERVAL (throttled before anything is read or written)."""
        session = self.session
        if session is None:
            return {"recorded": False, "session": None}
        now = time.monotonic()
        if now - self._last_heartbeat < HEARTBEAT_MIN_INTERVAL:
            return {"recorded": False, "session": session["id"]}
        self._last_heartbeat = now
        await self._record(AttendanceKind.HEARTBEAT, session["id"])
        return {"recorded": True, "session": session["id"]}

    async def confirm(self, check: str) -> bool:
        if self.pending_check is None or not secrets.compare_digest(check, self.pending_check):
            return False
        self.pending_check = None
        if self.session is None:  # the session ended meanwhile: nothing left to confirm
            return False
        await self._record(AttendanceKind.ATTENTION_PASSED, self.session["id"])
        return True

    async def _attention_loop(self, session: dict[str, Any]) -> None:
        interval = session["attention_check_minutes"] * UNIT_SECONDS
        window = session["attention_window_seconds"] * UNIT_SECONDS / 60
        while True:
            await asyncio.sleep(interval)
            check = secrets.token_urlsafe(8)
            self.pending_check = check
            await self.consumer.send(
                text_data=push("attendance.check", {"check": check, "expires_in": window})
            )
            await asyncio.sleep(window)
            if self.pending_check == check:
                self.pending_check = None
                await self._record(AttendanceKind.ATTENTION_MISSED, session["id"])
                await self.consumer.send(
                    text_data=push("attendance.check_missed", {"check": check})
                )
