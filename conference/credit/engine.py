"""Attendance -> credit, for one learner and one activity. Pure: no database, no clock.

Steps (CME.md "Computing credit from attendance"):
1. deduplicate and sort the events (`attendance.normalize_events`);
2. build segments per (session, connection) and clip them to the session;
3. per session: merge the segments (several tabs count once), intersect with the
   credit-eligible windows, cap at the designated minutes; zero for a cancelled session or one
   the learner is faculty of;
4. across sessions: the most wall-clock time creditable when each second counts once and each
   session stays within its cap (`intervals.allocate_wall_clock`);
5. per credit type: round the total once, apply the minimum and the designated maximum.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from conference.credit.attendance import (
    DEFAULT_HEARTBEAT_TOLERANCE_SECONDS,
    AttendanceEvent,
    IgnoredEvent,
    Segment,
    build_segments,
    normalize_events,
)
from conference.credit.eligibility import LearnerIds, id_problems
from conference.credit.intervals import (
    Interval,
    allocate_wall_clock,
    intersect,
    merge,
    total_seconds,
)
from conference.credit.rules import ENGINE_VERSION, CreditTypeRule, round_credit

CLOSED_BY_SESSION_END = "session_end"

REASON_CANCELLED = "session_cancelled"
REASON_FACULTY = "faculty_of_session"
REASON_SESSION_CAP = "capped_at_designated_minutes"
REASON_PARALLEL = "counted_in_parallel_session"
REASON_NOT_ELIGIBLE = "not_eligible_degree"
REASON_NO_ATTENDANCE = "no_eligible_attendance"
REASON_BELOW_MINIMUM = "below_minimum"
REASON_MAX_CAP = "capped_at_designated_max"
SESSION_REASON_ORDER = (REASON_CANCELLED, REASON_FACULTY, REASON_SESSION_CAP, REASON_PARALLEL)


@dataclass(frozen=True)
class SessionSpec:
    """A session as the engine needs it. `eligible_windows` empty means the whole session;
    `designated_minutes` None means the length of the eligible windows."""

    id: str
    start: datetime
    end: datetime
    title: str = ""
    eligible_windows: tuple[Interval, ...] = ()
    designated_minutes: int | None = None
    cancelled: bool = False

    def windows(self) -> list[Interval]:
        return merge(self.eligible_windows or [(self.start, self.end)])

    def cap_seconds(self) -> int:
        if self.designated_minutes is None:
            return total_seconds(self.windows())
        return self.designated_minutes * 60


@dataclass(frozen=True)
class Learner:
    degree: str
    faculty_of_sessions: frozenset[str] = frozenset()
    ids: LearnerIds = field(default_factory=LearnerIds)


@dataclass(frozen=True)
class CreditCase:
    learner: Learner
    rules: tuple[CreditTypeRule, ...]
    sessions: tuple[SessionSpec, ...]
    attendance: tuple[AttendanceEvent, ...]
    designated_max: tuple[tuple[str, Decimal], ...] = ()
    heartbeat_tolerance_seconds: int = DEFAULT_HEARTBEAT_TOLERANCE_SECONDS

    def designated_max_for(self, rule: CreditTypeRule) -> Decimal | None:
        return dict(self.designated_max).get(rule.code, rule.max_designated)


@dataclass(frozen=True)
class SessionResult:
    spec: SessionSpec
    segments: tuple[Segment, ...]
    attended: tuple[Interval, ...]
    eligible: tuple[Interval, ...]
    attended_seconds: int
    eligible_seconds: int
    cap_seconds: int
    capped_seconds: int
    credited_seconds: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class CreditTypeResult:
    rule: CreditTypeRule
    computed: Decimal
    credit: Decimal
    designated_max: Decimal | None
    reasons: tuple[str, ...]
    id_problems: tuple[str, ...]


@dataclass(frozen=True)
class CreditResult:
    inputs_hash: str
    engine_version: str
    heartbeat_tolerance_seconds: int
    events_received: int
    duplicates_dropped: int
    ignored_events: tuple[IgnoredEvent, ...]
    sessions: tuple[SessionResult, ...]
    union_seconds: int
    total_seconds: int
    credit_types: tuple[CreditTypeResult, ...]


def compute_credit(case: CreditCase) -> CreditResult:
    """The credit `case.learner` earned, per credit type, with everything needed to explain it."""
    events, dropped = normalize_events(case.attendance)
    known = {s.id for s in case.sessions}
    usable = [e for e in events if e.session in known]
    unknown = [
        IgnoredEvent(e.id, e.kind, e.session, e.server_time, "unknown_session")
        for e in events
        if e.session not in known
    ]
    segments, ignored = build_segments(
        usable, heartbeat_tolerance_seconds=case.heartbeat_tolerance_seconds
    )
    ordered = sorted(case.sessions, key=lambda s: (s.start, s.id))
    drafts = [_session_draft(spec, segments, case.learner) for spec in ordered]
    included = {d["spec"].id: d for d in drafts if not d["excluded"]}
    credited = allocate_wall_clock(
        {sid: d["eligible"] for sid, d in included.items()},
        {sid: d["spec"].cap_seconds() for sid, d in included.items()},
    )
    sessions = tuple(_session_result(d, credited.get(d["spec"].id, 0)) for d in drafts)
    total = sum(credited.values())
    union = total_seconds(merge(i for d in included.values() for i in d["eligible"]))
    session_reasons = _credit_reasons_from_sessions(sessions, total=total, union=union)
    return CreditResult(
        inputs_hash=inputs_hash(case),
        engine_version=ENGINE_VERSION,
        heartbeat_tolerance_seconds=case.heartbeat_tolerance_seconds,
        events_received=len(case.attendance),
        duplicates_dropped=dropped,
        ignored_events=tuple(sorted([*ignored, *unknown], key=_ignored_key)),
        sessions=sessions,
        union_seconds=union,
        total_seconds=total,
        credit_types=tuple(
            _credit_type_result(case, rule, total, session_reasons) for rule in case.rules
        ),
    )


def _ignored_key(event: IgnoredEvent) -> tuple[Any, ...]:
    return (event.server_time, event.session, event.kind, event.id or "", event.reason)


def _clip(segment: Segment, spec: SessionSpec) -> Segment:
    start, end = max(segment.start, spec.start), min(segment.end, spec.end)
    if segment.end > spec.end:
        return Segment(segment.session, segment.connection, start, end, CLOSED_BY_SESSION_END)
    return Segment(segment.session, segment.connection, start, end, segment.closed_by, segment.gap)


def _shown(clipped: Segment, original: Segment) -> bool:
    """Segments with time in the session, and zero-length ones inside it (a join followed by
    a gap: kept so the explanation shows the gap; they add no time)."""
    if clipped.end > clipped.start:
        return True
    return original.end == original.start and clipped.start == original.start == clipped.end


def _session_draft(spec: SessionSpec, segments: list[Segment], learner: Learner) -> dict[str, Any]:
    own = [s for s in segments if s.session == spec.id]
    kept = sorted(
        (c for c, s in ((_clip(s, spec), s) for s in own) if _shown(c, s)),
        key=lambda s: (s.start, s.end, s.connection),
    )
    attended = merge((s.start, s.end) for s in kept)
    reasons = []
    if spec.cancelled:
        reasons.append(REASON_CANCELLED)
    if spec.id in learner.faculty_of_sessions:
        reasons.append(REASON_FACULTY)
    return {
        "spec": spec,
        "segments": tuple(kept),
        "attended": attended,
        "eligible": intersect(attended, spec.windows()),
        "excluded": bool(reasons),
        "reasons": reasons,
    }


def _session_result(draft: dict[str, Any], credited: int) -> SessionResult:
    spec: SessionSpec = draft["spec"]
    eligible_seconds = total_seconds(draft["eligible"])
    cap = spec.cap_seconds()
    capped = 0 if draft["excluded"] else min(eligible_seconds, cap)
    reasons = list(draft["reasons"])
    if not draft["excluded"] and eligible_seconds > cap:
        reasons.append(REASON_SESSION_CAP)
    if credited < capped:
        reasons.append(REASON_PARALLEL)
    return SessionResult(
        spec=spec,
        segments=draft["segments"],
        attended=tuple(draft["attended"]),
        eligible=tuple(draft["eligible"]),
        attended_seconds=total_seconds(draft["attended"]),
        eligible_seconds=eligible_seconds,
        cap_seconds=cap,
        capped_seconds=capped,
        credited_seconds=credited,
        reasons=tuple(reasons),
    )


def _credit_reasons_from_sessions(
    sessions: tuple[SessionResult, ...], *, total: int, union: int
) -> list[str]:
    """Session reasons that cost the learner credit: attended sessions that were excluded, and
    the designated-minutes caps when they made the total smaller than the wall-clock union."""
    seen = {r for s in sessions if s.attended_seconds for r in s.reasons}
    if total >= union:
        seen.discard(REASON_SESSION_CAP)
    return [r for r in SESSION_REASON_ORDER if r in seen and r != REASON_PARALLEL]


def _credit_type_result(
    case: CreditCase, rule: CreditTypeRule, total: int, session_reasons: list[str]
) -> CreditTypeResult:
    computed = round_credit(total, rule)
    maximum = case.designated_max_for(rule)
    credit, reasons = computed, []
    if not rule.degree_is_eligible(case.learner.degree):
        credit, reasons = Decimal(0), [REASON_NOT_ELIGIBLE]
    elif total == 0:
        credit, reasons = Decimal(0), [REASON_NO_ATTENDANCE]
    elif computed < rule.minimum or computed == 0:
        credit, reasons = Decimal(0), [REASON_BELOW_MINIMUM]
    elif maximum is not None and computed > maximum:
        credit, reasons = maximum, [REASON_MAX_CAP]
    return CreditTypeResult(
        rule=rule,
        computed=computed,
        credit=credit,
        designated_max=maximum,
        reasons=tuple(reasons + session_reasons),
        id_problems=tuple(id_problems(rule, case.learner.ids)),
    )


# Canonical inputs and their hash -------------------------------------------------------------


def canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def canonical_inputs(case: CreditCase) -> dict[str, Any]:
    """The normalized inputs (events deduplicated and sorted) as plain JSON data."""
    events, _ = normalize_events(case.attendance)
    return {
        "learner": {
            "degree": case.learner.degree,
            "faculty_of_sessions": sorted(case.learner.faculty_of_sessions),
            "ids": _canonical_ids(case.learner.ids),
        },
        "credit_types": [_canonical_rule(r) for r in case.rules],
        "designated_max": {code: canonical_decimal(v) for code, v in sorted(case.designated_max)},
        "sessions": sorted((_canonical_session(s) for s in case.sessions), key=lambda s: s["id"]),
        "attendance": [
            {
                "id": e.id,
                "kind": e.kind,
                "session": e.session,
                "connection": e.connection,
                "server_time": canonical_time(e.server_time),
            }
            for e in events
        ],
        "options": {"heartbeat_tolerance_seconds": case.heartbeat_tolerance_seconds},
    }


def inputs_hash(case: CreditCase) -> str:
    text = json.dumps(
        canonical_inputs(case), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _canonical_ids(ids: LearnerIds) -> dict[str, Any]:
    return {
        "npi": ids.npi,
        "nabp_eprofile_id": ids.nabp_eprofile_id,
        "birth_month": ids.birth_month,
        "birth_day": ids.birth_day,
        "board_ids": dict(sorted(ids.board_ids)),
    }


def _canonical_rule(rule: CreditTypeRule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "increment": canonical_decimal(rule.increment),
        "minimum": canonical_decimal(rule.minimum),
        "rounding": rule.rounding,
        "max_designated": None
        if rule.max_designated is None
        else canonical_decimal(rule.max_designated),
        "eligible_degrees": sorted(rule.eligible_degrees),
        "required_ids": sorted(rule.required_ids),
        "board": rule.board,
        "reporting_deadline_days": rule.reporting_deadline_days,
        "statement_template": rule.statement_template,
        "designation_required": rule.designation_required,
        "version": rule.version,
    }


def _canonical_session(spec: SessionSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "title": spec.title,
        "start": canonical_time(spec.start),
        "end": canonical_time(spec.end),
        "eligible_windows": [
            [canonical_time(s), canonical_time(e)] for s, e in merge(spec.eligible_windows)
        ],
        "designated_minutes": spec.designated_minutes,
        "cancelled": spec.cancelled,
    }
