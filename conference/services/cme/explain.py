"""How credit was computed, in words: the learner's "How was this computed" (times in the
event's zone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from conference.credit import CreditResult
from conference.credit.attendance import IgnoredEvent, Segment
from conference.credit.explain import minutes_display
from conference.models import Event

SESSION_REASON_WORDS = {
    "session_cancelled": "cancelled: no credit",
    "faculty_of_session": "you presented it: no learner credit",
    "capped_at_designated_minutes": "capped at its designated minutes",
    "counted_in_parallel_session": "part of this time was counted in a parallel session",
}


@dataclass(frozen=True)
class SegmentLine:
    connection: str
    start: str
    end: str
    seconds: int
    closed: str


@dataclass(frozen=True)
class SessionLine:
    title: str
    when: str
    segments: list[SegmentLine]
    attended_minutes: str
    eligible_minutes: str
    credited_minutes: str
    reasons: list[str]


@dataclass(frozen=True)
class CreditExplanation:
    tolerance_seconds: int
    sessions: list[SessionLine]
    ignored: list[str]
    credited_minutes: str


def _clock(moment: datetime, event: Event) -> str:
    return timezone.localtime(moment, event.tzinfo).strftime("%H:%M:%S")


def segment_closed_text(segment: Segment, event: Event, *, tolerance: int) -> str:
    """Why a segment ended, in words; a gap with its times (docs/cme.md "Segments")."""
    if segment.gap is not None:
        gap = segment.gap
        return (
            f"closed at the last proof of presence, {_clock(gap.start, event)}: nothing was "
            f"received until the {gap.next_kind.replace('_', ' ')} at "
            f"{_clock(gap.end, event)}, {gap.seconds} s later (more than the {tolerance} s "
            "allowed)"
        )
    return {
        "leave": "you left",
        "attention_missed": "an attention check was missed: closed at the last proof of presence",
        "no_leave": "no leave was recorded: closed at the last proof of presence",
        "session_end": "the session ended",
    }.get(segment.closed_by, segment.closed_by)


def _ignored_text(ignored: IgnoredEvent, event: Event) -> str:
    kind = ignored.kind.replace("_", " ")
    if ignored.reason.endswith("_after_heartbeat_gap"):
        why = "after a gap closed the segment; it counts again from the next join"
    elif ignored.reason.endswith("_without_join"):
        why = "without a join on that connection"
    else:
        why = ignored.reason.replace("_", " ")
    return f"{_clock(ignored.server_time, event)} {kind}: not counted ({why})"


def explain_credit(result: CreditResult, event: Event) -> CreditExplanation:
    """The engine's result as the learner's "How was this computed" reads it (event zone)."""
    tolerance = result.heartbeat_tolerance_seconds
    sessions = [
        SessionLine(
            title=s.spec.title,
            when=f"{local_time(s.spec.start, event)}–{_clock(s.spec.end, event)[:5]}",
            segments=[
                SegmentLine(
                    connection=segment.connection,
                    start=_clock(segment.start, event),
                    end=_clock(segment.end, event),
                    seconds=segment.seconds,
                    closed=segment_closed_text(segment, event, tolerance=tolerance),
                )
                for segment in s.segments
            ],
            attended_minutes=minutes_display(s.attended_seconds),
            eligible_minutes=minutes_display(s.eligible_seconds),
            credited_minutes=minutes_display(s.credited_seconds),
            reasons=[SESSION_REASON_WORDS.get(r, r) for r in s.reasons],
        )
        for s in result.sessions
        if s.segments
    ]
    return CreditExplanation(
        tolerance_seconds=tolerance,
        sessions=sessions,
        ignored=[
            _ignored_text(i, event) for i in result.ignored_events if i.reason != "unknown_session"
        ],
        credited_minutes=minutes_display(result.total_seconds),
    )


def local_time(moment: datetime, event: Event) -> str:
    """A moment as the event's pages print it (day, time and zone)."""
    return timezone.localtime(moment, event.tzinfo).strftime("%d %b %Y %H:%M %Z")
