"""Append-only attendance events from the hall socket: the input of the CME credit engine."""

import uuid

from django.utils import timezone

from conference.models import AttendanceEvent, AttendanceKind
from conference.services.live import HallAccess


def record_attendance(
    access: HallAccess, *, session_id: int, connection: str, kind: str
) -> AttendanceEvent:
    """Store one attendance event stamped with the server's clock (client times are ignored)."""
    if kind not in AttendanceKind.values:
        raise ValueError(f"unknown attendance kind {kind!r}")
    return AttendanceEvent.objects.create(
        user_id=access.user_id,
        session_id=session_id,
        hall_id=access.hall_id,
        connection=connection,
        kind=kind,
        server_time=timezone.now(),
        dedup_key=f"{connection}:{uuid.uuid4().hex}",
    )
