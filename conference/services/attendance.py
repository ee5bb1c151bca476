"""Append-only attendance events from the hall socket: the input of the CME credit engine."""

from dataclasses import dataclass
from datetime import datetime

from conference.models import AttendanceEvent, AttendanceKind


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    """One attendance event of one socket, stamped with the server's clock when it happened
    (client times are ignored). `key` is its idempotency key, `<connection>:<n>` for the
    socket's n-th event: writing the same event again stores nothing."""

    user_id: int
    hall_id: int
    session_id: int
    connection: str
    kind: str
    server_time: datetime
    key: str


def record_many(rows: list[AttendanceRow]) -> None:
    """Store attendance events in one statement; an event already stored (same key) is kept
    once."""
    for row in rows:
        if row.kind not in AttendanceKind.values:
            raise ValueError(f"unknown attendance kind {row.kind!r}")
    AttendanceEvent.objects.bulk_create(
        [
            AttendanceEvent(
                user_id=row.user_id,
                session_id=row.session_id,
                hall_id=row.hall_id,
                connection=row.connection,
                kind=row.kind,
                server_time=row.server_time,
                dedup_key=row.key,
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )
