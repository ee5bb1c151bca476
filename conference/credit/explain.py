"""The explain tool's JSON: parse one learner's case, compute, and describe the result.

Every input problem raises `CreditInputError` naming the field (a path like
`sessions[1].eligible_windows[0][1]`), so the command can print it and exit 2.
The shapes are documented in docs/cme.md.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from conference.credit.attendance import (
    DEFAULT_HEARTBEAT_TOLERANCE_SECONDS,
    EVENT_KINDS,
    AttendanceEvent,
    ConflictingEventError,
    Segment,
)
from conference.credit.eligibility import LearnerIds
from conference.credit.engine import (
    CreditCase,
    CreditResult,
    CreditTypeResult,
    Learner,
    SessionResult,
    SessionSpec,
    canonical_time,
    compute_credit,
)
from conference.credit.intervals import Interval
from conference.credit.rules import (
    ID_KINDS,
    KNOWN_DEGREES,
    PRESETS,
    ROUNDING_MODES,
    CreditTypeRule,
    rule_with_overrides,
)


class CreditInputError(ValueError):
    """Bad input for the credit engine; `str()` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


# Small typed readers ---------------------------------------------------------------------------


def _object(value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CreditInputError(path, "must be a JSON object")
    for key in value:
        if key not in allowed:
            raise CreditInputError(
                _join(path, key), f"unknown field (allowed: {', '.join(allowed)})"
            )
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _required(data: dict[str, Any], key: str, path: str) -> Any:
    if key not in data:
        raise CreditInputError(_join(path, key), "is required")
    return data[key]


def _string(value: Any, path: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise CreditInputError(
            path, "must be a non-empty string" if not allow_empty else "must be a string"
        )
    return value


def _identifier(value: Any, path: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _string(value, path)


def _integer(value: Any, path: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise CreditInputError(path, "must be a whole number")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise CreditInputError(path, "must be a whole number")
    if value < minimum:
        raise CreditInputError(path, f"must be at least {minimum}")
    return int(value)


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise CreditInputError(path, "must be true or false")
    return value


def _decimal(value: Any, path: str, *, positive: bool = False) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise CreditInputError(path, 'must be a decimal number, e.g. "0.25"')
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CreditInputError(
            path, f'must be a decimal number, e.g. "0.25" (got {value!r})'
        ) from None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        raise CreditInputError(
            path,
            "must be a finite number greater than 0"
            if positive
            else "must be a finite number, 0 or more",
        )
    return number


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise CreditInputError(path, "must be a JSON array")
    return value


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise CreditInputError(path, f"must be one of {', '.join(choices)} (got {value!r})")
    return str(value)


def _timestamp(value: Any, path: str) -> datetime:
    text = _string(value, path)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CreditInputError(path, f"is not an ISO 8601 timestamp: {text!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CreditInputError(
            path, f"needs a UTC offset, e.g. 2025-05-01T09:00:00Z (got {text!r})"
        )
    return moment.astimezone(UTC).replace(microsecond=0)


def _interval(value: Any, path: str) -> Interval:
    pair = _list(value, path)
    if len(pair) != 2:
        raise CreditInputError(path, "must be a pair [start, end]")
    start, end = _timestamp(pair[0], f"{path}[0]"), _timestamp(pair[1], f"{path}[1]")
    if end <= start:
        raise CreditInputError(f"{path}[1]", "must be after the start")
    return start, end


# Parsing a case --------------------------------------------------------------------------------

CASE_FIELDS = ("learner", "credit_types", "activity", "sessions", "attendance", "options")
LEARNER_FIELDS = ("degree", "faculty_of_sessions", "ids")
IDS_FIELDS = ("npi", "nabp_eprofile_id", "birth_month", "birth_day", "board_ids")
SESSION_FIELDS = (
    "id",
    "title",
    "start",
    "end",
    "eligible_windows",
    "designated_minutes",
    "cancelled",
)
EVENT_FIELDS = ("id", "kind", "session", "connection", "server_time", "client_time")
RULE_FIELDS = (
    "code",
    "name",
    "increment",
    "minimum",
    "rounding",
    "max_designated",
    "eligible_degrees",
    "required_ids",
    "board",
    "reporting_deadline_days",
    "statement_template",
    "designation_required",
    "version",
)


def parse_case_text(text: str) -> CreditCase:
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise CreditInputError(
            "", f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    return parse_case(data)


def _reject_constant(name: str) -> None:
    raise CreditInputError("", f"invalid JSON: {name} is not a number")


def parse_case(data: Any) -> CreditCase:
    case = _object(data, "", CASE_FIELDS)
    sessions = _sessions(_required(case, "sessions", ""))
    session_ids = {s.id for s in sessions}
    rules = _rules(_required(case, "credit_types", ""))
    options = _object(case.get("options", {}), "options", ("heartbeat_tolerance_seconds",))
    return CreditCase(
        learner=_learner(_required(case, "learner", ""), session_ids),
        rules=rules,
        sessions=sessions,
        attendance=_attendance(_required(case, "attendance", ""), session_ids),
        designated_max=_designated_max(case.get("activity", {}), rules),
        heartbeat_tolerance_seconds=_integer(
            options.get("heartbeat_tolerance_seconds", DEFAULT_HEARTBEAT_TOLERANCE_SECONDS),
            "options.heartbeat_tolerance_seconds",
            minimum=1,
        ),
    )


def _learner(value: Any, session_ids: set[str]) -> Learner:
    data = _object(value, "learner", LEARNER_FIELDS)
    degree = _choice(_required(data, "degree", "learner"), "learner.degree", KNOWN_DEGREES)
    faculty = _list(data.get("faculty_of_sessions", []), "learner.faculty_of_sessions")
    for n, sid in enumerate(faculty):
        path = f"learner.faculty_of_sessions[{n}]"
        if _string(sid, path) not in session_ids:
            raise CreditInputError(path, f"unknown session {sid!r}")
    return Learner(
        degree=degree, faculty_of_sessions=frozenset(faculty), ids=_ids(data.get("ids", {}))
    )


def _ids(value: Any) -> LearnerIds:
    data = _object(value, "learner.ids", IDS_FIELDS)
    boards = data.get("board_ids", {})
    if not isinstance(boards, dict):
        raise CreditInputError(
            "learner.ids.board_ids", 'must be a JSON object like {"ABIM": "123456"}'
        )
    month, day = data.get("birth_month"), data.get("birth_day")
    return LearnerIds(
        npi=_string(data.get("npi", ""), "learner.ids.npi", allow_empty=True),
        nabp_eprofile_id=_string(
            data.get("nabp_eprofile_id", ""), "learner.ids.nabp_eprofile_id", allow_empty=True
        ),
        birth_month=None
        if month is None
        else _integer(month, "learner.ids.birth_month", minimum=0),
        birth_day=None if day is None else _integer(day, "learner.ids.birth_day", minimum=0),
        board_ids=tuple(
            sorted(
                (board, _string(v, f"learner.ids.board_ids.{board}")) for board, v in boards.items()
            )
        ),
    )


def _rules(value: Any) -> tuple[CreditTypeRule, ...]:
    items = _list(value, "credit_types")
    if not items:
        raise CreditInputError("credit_types", "must name at least one credit type")
    rules: list[CreditTypeRule] = []
    for n, item in enumerate(items):
        rule = _rule(item, f"credit_types[{n}]")
        if any(r.code == rule.code for r in rules):
            raise CreditInputError(f"credit_types[{n}].code", f"{rule.code!r} is listed twice")
        rules.append(rule)
    return tuple(rules)


_RULE_READERS: dict[str, Callable[[Any, str], Any]] = {
    "name": lambda v, p: _string(v, p),
    "increment": lambda v, p: _decimal(v, p, positive=True),
    "minimum": lambda v, p: _decimal(v, p),
    "rounding": lambda v, p: _choice(v, p, ROUNDING_MODES),
    "max_designated": lambda v, p: None if v is None else _decimal(v, p),
    "eligible_degrees": lambda v, p: tuple(
        _choice(d, f"{p}[{n}]", KNOWN_DEGREES) for n, d in enumerate(_list(v, p))
    ),
    "required_ids": lambda v, p: tuple(
        _choice(d, f"{p}[{n}]", ID_KINDS) for n, d in enumerate(_list(v, p))
    ),
    "board": lambda v, p: _string(v, p, allow_empty=True),
    "reporting_deadline_days": lambda v, p: None if v is None else _integer(v, p, minimum=0),
    "statement_template": lambda v, p: _string(v, p, allow_empty=True),
    "designation_required": lambda v, p: _boolean(v, p),
    "version": lambda v, p: _string(v, p),
}


def _rule(value: Any, path: str) -> CreditTypeRule:
    data = _object(value, path, RULE_FIELDS)
    code = _string(_required(data, "code", path), f"{path}.code")
    fields = {k: _RULE_READERS[k](v, f"{path}.{k}") for k, v in data.items() if k != "code"}
    if code in PRESETS:
        return rule_with_overrides(code, **fields)
    for key in ("name", "version"):
        if key not in fields:
            raise CreditInputError(
                f"{path}.code",
                f"unknown credit type {code!r} (presets: {', '.join(PRESETS)}); "
                f"a custom credit type needs at least name and version",
            )
    return CreditTypeRule(code=code, **fields)


def _designated_max(
    value: Any, rules: tuple[CreditTypeRule, ...]
) -> tuple[tuple[str, Decimal], ...]:
    activity = _object(value, "activity", ("designated_max",))
    maxima = _object(
        activity.get("designated_max", {}), "activity.designated_max", tuple(r.code for r in rules)
    )
    parsed = {code: _decimal(v, f"activity.designated_max.{code}") for code, v in maxima.items()}
    for rule in rules:
        if rule.designation_required and rule.max_designated is None and rule.code not in parsed:
            raise CreditInputError(
                f"activity.designated_max.{rule.code}",
                "is required: the activity must designate a maximum for this credit type",
            )
    return tuple(sorted(parsed.items()))


def _sessions(value: Any) -> tuple[SessionSpec, ...]:
    items = _list(value, "sessions")
    if not items:
        raise CreditInputError("sessions", "must list at least one session")
    sessions: list[SessionSpec] = []
    for n, item in enumerate(items):
        spec = _session(item, f"sessions[{n}]")
        if any(s.id == spec.id for s in sessions):
            raise CreditInputError(f"sessions[{n}].id", f"{spec.id!r} is listed twice")
        sessions.append(spec)
    return tuple(sessions)


def _session(value: Any, path: str) -> SessionSpec:
    data = _object(value, path, SESSION_FIELDS)
    start = _timestamp(_required(data, "start", path), f"{path}.start")
    end = _timestamp(_required(data, "end", path), f"{path}.end")
    if end <= start:
        raise CreditInputError(f"{path}.end", "must be after start")
    windows = []
    for n, window in enumerate(_list(data.get("eligible_windows", []), f"{path}.eligible_windows")):
        w_path = f"{path}.eligible_windows[{n}]"
        w_start, w_end = _interval(window, w_path)
        if w_start < start or w_end > end:
            raise CreditInputError(w_path, "must lie within the session's start and end")
        windows.append((w_start, w_end))
    minutes = data.get("designated_minutes")
    return SessionSpec(
        id=_string(_required(data, "id", path), f"{path}.id"),
        title=_string(data.get("title", ""), f"{path}.title", allow_empty=True),
        start=start,
        end=end,
        eligible_windows=tuple(windows),
        designated_minutes=None
        if minutes is None
        else _integer(minutes, f"{path}.designated_minutes", minimum=0),
        cancelled=_boolean(data.get("cancelled", False), f"{path}.cancelled"),
    )


def _attendance(value: Any, session_ids: set[str]) -> tuple[AttendanceEvent, ...]:
    events = tuple(
        _event(item, f"attendance[{n}]", session_ids)
        for n, item in enumerate(_list(value, "attendance"))
    )
    return events


def _event(value: Any, path: str, session_ids: set[str]) -> AttendanceEvent:
    data = _object(value, path, EVENT_FIELDS)
    session = _string(_required(data, "session", path), f"{path}.session")
    if session not in session_ids:
        raise CreditInputError(f"{path}.session", f"unknown session {session!r}")
    return AttendanceEvent(
        id=None if data.get("id") is None else _identifier(data["id"], f"{path}.id"),
        kind=_choice(_required(data, "kind", path), f"{path}.kind", EVENT_KINDS),
        session=session,
        connection=_string(_required(data, "connection", path), f"{path}.connection"),
        server_time=_timestamp(_required(data, "server_time", path), f"{path}.server_time"),
    )


# Describing a result ---------------------------------------------------------------------------


def explain_text(text: str) -> dict[str, Any]:
    """Parse, compute and describe one case (raises CreditInputError on bad input)."""
    case = parse_case_text(text)
    try:
        result = compute_credit(case)
    except ConflictingEventError as error:
        raise CreditInputError("attendance", str(error)) from None
    return describe_result(result)


def minutes_display(seconds: int) -> str:
    """Minutes with two decimals, for people to read (credit never uses this)."""
    return str((Decimal(seconds) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def credit_display(value: Decimal) -> str:
    """A credit amount as a string with at least two decimals, never rounded."""
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 0)
    return f"{value:.{places}f}"


def describe_result(result: CreditResult) -> dict[str, Any]:
    return {
        "engine_version": result.engine_version,
        "inputs_hash": result.inputs_hash,
        "options": {"heartbeat_tolerance_seconds": result.heartbeat_tolerance_seconds},
        "attendance": {
            "received": result.events_received,
            "duplicates_dropped": result.duplicates_dropped,
            "ignored": [
                {
                    "id": e.id,
                    "kind": e.kind,
                    "session": e.session,
                    "server_time": canonical_time(e.server_time),
                    "reason": e.reason,
                }
                for e in result.ignored_events
            ],
        },
        "sessions": [_describe_session(s) for s in result.sessions],
        "total": {
            "union_seconds": result.union_seconds,
            "credited_seconds": result.total_seconds,
            "credited_minutes": minutes_display(result.total_seconds),
        },
        "credit_types": [_describe_credit_type(c) for c in result.credit_types],
    }


def _intervals(intervals: tuple[Interval, ...] | list[Interval]) -> list[list[str]]:
    return [[canonical_time(s), canonical_time(e)] for s, e in intervals]


def _describe_session(session: SessionResult) -> dict[str, Any]:
    spec = session.spec
    seconds = {
        "attended": session.attended_seconds,
        "eligible": session.eligible_seconds,
        "capped": session.capped_seconds,
        "credited": session.credited_seconds,
    }
    return {
        "id": spec.id,
        "title": spec.title,
        "start": canonical_time(spec.start),
        "end": canonical_time(spec.end),
        "cancelled": spec.cancelled,
        "eligible_windows": _intervals(spec.windows()),
        "designated_minutes": spec.designated_minutes,
        "cap_minutes": minutes_display(session.cap_seconds),
        "segments": [_describe_segment(s) for s in session.segments],
        "attended": _intervals(session.attended),
        "eligible": _intervals(session.eligible),
        "seconds": seconds,
        "minutes": {k: minutes_display(v) for k, v in seconds.items()},
        "reasons": list(session.reasons),
    }


def _describe_segment(segment: Segment) -> dict[str, Any]:
    described = {
        "connection": segment.connection,
        "start": canonical_time(segment.start),
        "end": canonical_time(segment.end),
        "seconds": segment.seconds,
        "closed_by": segment.closed_by,
    }
    if segment.gap is not None:
        described["gap"] = {
            "last_proof": canonical_time(segment.gap.start),
            "next_event": canonical_time(segment.gap.end),
            "next_kind": segment.gap.next_kind,
            "seconds": segment.gap.seconds,
        }
    return described


def _describe_credit_type(result: CreditTypeResult) -> dict[str, Any]:
    rule = result.rule
    return {
        "code": rule.code,
        "name": rule.name,
        "rule_version": rule.version,
        "rounding": rule.rounding,
        "increment": credit_display(rule.increment),
        "minimum": credit_display(rule.minimum),
        "computed": credit_display(result.computed),
        "credit": credit_display(result.credit),
        "designated_max": None
        if result.designated_max is None
        else credit_display(result.designated_max),
        "reasons": list(result.reasons),
        "id_problems": list(result.id_problems),
    }
