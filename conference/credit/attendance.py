"""Attendance events -> presence segments, per (session, connection).

Events are append-only proof of presence stamped with server time (UTC, whole seconds). The
input may hold duplicates and arrive in any order: `normalize_events` deduplicates and sorts,
and everything after it depends only on the set of events.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

JOIN = "join"
LEAVE = "leave"
HEARTBEAT = "heartbeat"
ATTENTION_PASSED = "attention_passed"
ATTENTION_MISSED = "attention_missed"

# Within the same second a leave or missed check is applied before a join, so a reconnect on
# the same connection in the same second continues the segment instead of ending it.
KIND_ORDER = {LEAVE: 0, ATTENTION_MISSED: 1, JOIN: 2, HEARTBEAT: 3, ATTENTION_PASSED: 4}
EVENT_KINDS = (JOIN, LEAVE, HEARTBEAT, ATTENTION_PASSED, ATTENTION_MISSED)
PROOFS_OF_PRESENCE = (JOIN, HEARTBEAT, ATTENTION_PASSED)

CLOSED_BY_LEAVE = "leave"
CLOSED_BY_ATTENTION_MISSED = "attention_missed"
CLOSED_BY_HEARTBEAT_GAP = "heartbeat_gap"
CLOSED_BY_NO_LEAVE = "no_leave"

DEFAULT_HEARTBEAT_TOLERANCE_SECONDS = 90


class ConflictingEventError(ValueError):
    """Two events share an id but differ: append-only input was edited."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"two different events share the id {event_id!r}")
        self.event_id = event_id


@dataclass(frozen=True)
class AttendanceEvent:
    """One event; `id` is None for sources without ids (identical id-less events are one)."""

    id: str | None
    kind: str
    session: str
    connection: str
    server_time: datetime

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.server_time,
            KIND_ORDER[self.kind],
            self.session,
            self.connection,
            self.id or "",
        )


@dataclass(frozen=True)
class Gap:
    """Why a segment closed at its last proof: nothing came from `start` (the last proof of
    presence) until `end`, the next event (of `next_kind`) on the connection, more than the
    tolerance later."""

    start: datetime
    end: datetime
    next_kind: str

    @property
    def seconds(self) -> int:
        return (self.end - self.start) // timedelta(seconds=1)


@dataclass(frozen=True)
class Segment:
    session: str
    connection: str
    start: datetime
    end: datetime
    closed_by: str
    gap: Gap | None = None

    @property
    def seconds(self) -> int:
        return (self.end - self.start) // timedelta(seconds=1)


@dataclass(frozen=True)
class IgnoredEvent:
    id: str | None
    kind: str
    session: str
    server_time: datetime
    reason: str


def normalize_events(events: Iterable[AttendanceEvent]) -> tuple[list[AttendanceEvent], int]:
    """Deduplicate (by id; id-less events when identical) and sort. Returns (events, dropped)."""
    by_key: dict[object, AttendanceEvent] = {}
    received = 0
    for event in events:
        received += 1
        key = ("id", event.id) if event.id is not None else ("event", event)
        known = by_key.setdefault(key, event)
        if known != event:
            raise ConflictingEventError(str(event.id))
    unique = sorted(by_key.values(), key=AttendanceEvent.sort_key)
    return unique, received - len(unique)


@dataclass
class _OpenSegment:
    start: datetime
    last_proof: datetime


class _ConnectionTrack:
    """The state machine for one (session, connection)."""

    def __init__(self, session: str, connection: str, tolerance: timedelta) -> None:
        self.session = session
        self.connection = connection
        self.tolerance = tolerance
        self.open: _OpenSegment | None = None
        self.after_gap = False
        self.segments: list[Segment] = []
        self.ignored: list[IgnoredEvent] = []

    def feed(self, event: AttendanceEvent) -> None:
        if self.open is not None and event.server_time - self.open.last_proof > self.tolerance:
            gap = Gap(self.open.last_proof, event.server_time, event.kind)
            self._close(self.open.last_proof, CLOSED_BY_HEARTBEAT_GAP, gap=gap)
            self.after_gap = True
        if self.open is None:
            self._feed_closed(event)
        elif event.kind in PROOFS_OF_PRESENCE:
            self.open.last_proof = event.server_time
        elif event.kind == LEAVE:
            self._close(event.server_time, CLOSED_BY_LEAVE)
        else:
            self._close(self.open.last_proof, CLOSED_BY_ATTENTION_MISSED)

    def finish(self) -> None:
        if self.open is not None:
            self._close(self.open.last_proof, CLOSED_BY_NO_LEAVE)

    def _feed_closed(self, event: AttendanceEvent) -> None:
        if event.kind == JOIN:
            self.open = _OpenSegment(start=event.server_time, last_proof=event.server_time)
            self.after_gap = False
        else:
            # After a gap closed the segment the connection did join: its later events are
            # not "without join" but after the gap (the segment shows the gap's times).
            reason = "after_heartbeat_gap" if self.after_gap else "without_join"
            self.ignored.append(
                IgnoredEvent(
                    event.id,
                    event.kind,
                    event.session,
                    event.server_time,
                    f"{event.kind}_{reason}",
                )
            )

    def _close(self, end: datetime, closed_by: str, *, gap: Gap | None = None) -> None:
        assert self.open is not None  # noqa: S101 - callers check
        self.segments.append(
            Segment(self.session, self.connection, self.open.start, end, closed_by, gap)
        )
        self.open = None


def build_segments(
    events: Iterable[AttendanceEvent], *, heartbeat_tolerance_seconds: int
) -> tuple[list[Segment], list[IgnoredEvent]]:
    """Segments (possibly zero-length, not yet clipped) and ignored events, from sorted events.

    A join opens a segment; a later join, heartbeat or passed attention check is proof of
    presence; a leave within the tolerance of the last proof closes at the leave, a missed
    check at the last proof; any event more than the tolerance after the last proof (a leave
    too) reveals a gap and closes the segment at the last proof, with the gap's times; a
    segment still open at the end closes at its last proof. Events on a closed track other
    than a join are ignored (`<kind>_after_heartbeat_gap` after a gap, else
    `<kind>_without_join`).
    """
    tolerance = timedelta(seconds=heartbeat_tolerance_seconds)
    tracks: dict[tuple[str, str], _ConnectionTrack] = {}
    for event in events:
        key = (event.session, event.connection)
        track = tracks.get(key)
        if track is None:
            track = tracks[key] = _ConnectionTrack(event.session, event.connection, tolerance)
        track.feed(event)
    segments: list[Segment] = []
    ignored: list[IgnoredEvent] = []
    for key in sorted(tracks):
        tracks[key].finish()
        segments.extend(tracks[key].segments)
        ignored.extend(tracks[key].ignored)
    return segments, ignored
