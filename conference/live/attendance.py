"""Attendance of one socket: join/leave per session, heartbeats and attention checks."""

import asyncio
import contextlib
import secrets
import time

from conference.live.db import db
from conference.live.frames import push
from conference.models import AttendanceKind
from conference.services import attendance, live

UNIT_SECONDS = 60.0  # attention checks are configured in minutes
HEARTBEAT_MIN_INTERVAL = 20.0


class AttendanceTracker:
    def __init__(self, consumer, *, joined: dict | None) -> None:
        """`joined` is the session whose join the caller already recorded (or None)."""
        self.consumer = consumer
        self.session: dict | None = None
        self.pending_check: str | None = None
        self._checks: asyncio.Task | None = None
        self._last_heartbeat = 0.0
        if joined is not None:
            self._follow(joined)

    @property
    def access(self) -> live.HallAccess:
        return self.consumer.access

    async def _record(self, kind: str) -> None:
        await db(attendance.record_attendance)(
            self.access,
            session_id=self.session["id"],
            connection=self.consumer.connection_id,
            kind=kind,
        )

    async def start(self, session: dict | None) -> None:
        if session is None:
            self.session = None
            return
        self.session = session
        await self._record(AttendanceKind.JOIN)
        self._follow(session)

    def _follow(self, session: dict) -> None:
        """Track `session` (its join is recorded) and schedule its attention checks."""
        self.session = session
        self._last_heartbeat = float("-inf")  # the first heartbeat is always recorded
        if session.get("attention_check_minutes"):
            self._checks = asyncio.get_running_loop().create_task(self._attention_loop(session))

    async def stop(self) -> None:
        if self._checks is not None:
            self._checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checks
            self._checks = None
        if self.session is not None:
            await self._record(AttendanceKind.LEAVE)
            self.session = None

    async def heartbeat(self) -> dict:
        """Record presence; follow the hall to its next session when the current one changed."""
        current = await db(live.current_session)(self.access)
        current_id = current.pk if current else None
        if current_id != (self.session or {}).get("id"):
            await self.stop()
            await self.start(live.session_data(self.access, current))
            return {"recorded": True, "session": current_id}
        now = time.monotonic()
        if self.session is None or now - self._last_heartbeat < HEARTBEAT_MIN_INTERVAL:
            return {"recorded": False, "session": current_id}
        self._last_heartbeat = now
        await self._record(AttendanceKind.HEARTBEAT)
        return {"recorded": True, "session": current_id}

    async def confirm(self, check: str) -> bool:
        if self.pending_check is None or not secrets.compare_digest(check, self.pending_check):
            return False
        self.pending_check = None
        await self._record(AttendanceKind.ATTENTION_PASSED)
        return True

    async def _attention_loop(self, session: dict) -> None:
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
                await self._record(AttendanceKind.ATTENTION_MISSED)
                await self.consumer.send(
                    text_data=push("attendance.check_missed", {"check": check})
                )
