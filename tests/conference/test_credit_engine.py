"""The credit engine on the edge cases of CME.md (no database)."""

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from conference.credit import (
    PRESETS,
    AttendanceEvent,
    CreditCase,
    Learner,
    SessionSpec,
    compute_credit,
)
from conference.credit.attendance import (
    ConflictingEventError,
    Gap,
    IgnoredEvent,
    Segment,
    build_segments,
    normalize_events,
)
from conference.credit.intervals import allocate_wall_clock

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
AMA = PRESETS["AMA_PRA_1"]


def at(minutes: float) -> datetime:
    return T0 + timedelta(seconds=round(minutes * 60))


def ev(kind, minutes, session="s1", connection="tab-1", id=None):
    return AttendanceEvent(
        id=id, kind=kind, session=session, connection=connection, server_time=at(minutes)
    )


def visit(start, end, session="s1", connection="tab-1"):
    """Join at `start`, a heartbeat every minute, leave at `end` (minutes after T0)."""
    beats = [ev("heartbeat", m, session, connection) for m in range(int(start) + 1, int(end))]
    return [ev("join", start, session, connection), *beats, ev("leave", end, session, connection)]


def session(id="s1", start=0, end=60, **kwargs):
    return SessionSpec(id=id, start=at(start), end=at(end), **kwargs)


def make_case(events, sessions=None, degree="MD", rules=(AMA,), maxima=None, faculty=(), **kw):
    return CreditCase(
        learner=Learner(degree=degree, faculty_of_sessions=frozenset(faculty)),
        rules=tuple(rules),
        sessions=tuple(sessions or [session()]),
        attendance=tuple(events),
        designated_max=tuple((maxima or {"AMA_PRA_1": Decimal("3.25")}).items()),
        **kw,
    )


def credit(result, code="AMA_PRA_1"):
    (found,) = [c for c in result.credit_types if c.rule.code == code]
    return found.credit, list(found.reasons)


def segments(events, tolerance=90):
    found, _ = build_segments(normalize_events(events)[0], heartbeat_tolerance_seconds=tolerance)
    return [(s.connection, s.start, s.end, s.closed_by) for s in found]


# Segments -----------------------------------------------------------------------------------


def test_segments_leave_without_join_ignored():
    found, ignored = build_segments([ev("leave", 5, id="e1")], heartbeat_tolerance_seconds=90)
    assert found == []
    assert ignored == [IgnoredEvent("e1", "leave", "s1", at(5), "leave_without_join")]


def test_segments_join_without_leave_closes_at_last_proof():
    events = [ev("join", 0), ev("heartbeat", 1), ev("attention_passed", 2)]
    assert segments(events) == [("tab-1", at(0), at(2), "no_leave")]


def test_segments_heartbeat_gap_closes_at_last_proof():
    events = [ev("join", 0), ev("heartbeat", 1), ev("heartbeat", 3), ev("leave", 4)]
    assert segments(events) == [("tab-1", at(0), at(1), "heartbeat_gap")]


def test_segments_gap_equal_to_tolerance_keeps_segment_open():
    events = [ev("join", 0), ev("heartbeat", 1.5), ev("leave", 3)]
    assert segments(events) == [("tab-1", at(0), at(3), "leave")]


def test_segments_missed_attention_check_closes_at_last_proof():
    events = [ev("join", 0), ev("heartbeat", 1), ev("attention_missed", 2), ev("heartbeat", 2.5)]
    assert segments(events) == [("tab-1", at(0), at(1), "attention_missed")]


def test_segments_second_join_is_proof_of_presence():
    events = [ev("join", 0), ev("join", 1), ev("leave", 2)]
    assert segments(events) == [("tab-1", at(0), at(2), "leave")]


def test_segments_rejoin_after_gap_opens_new_segment():
    events = [ev("join", 0), ev("heartbeat", 1), ev("join", 10), ev("leave", 11)]
    assert segments(events) == [
        ("tab-1", at(0), at(1), "heartbeat_gap"),
        ("tab-1", at(10), at(11), "leave"),
    ]


def test_segments_reconnect_in_same_second_continues():
    events = [ev("join", 0), ev("leave", 1), ev("join", 1), ev("leave", 2)]
    assert segments(events) == [
        ("tab-1", at(0), at(1), "leave"),
        ("tab-1", at(1), at(2), "leave"),
    ]


def test_normalize_events_out_of_order_and_duplicates():
    events = [ev("leave", 2, id="b"), ev("join", 0, id="a"), ev("leave", 2, id="b"), ev("join", 0)]
    unique, dropped = normalize_events([*events, ev("join", 0)])
    assert (unique, dropped) == ([ev("join", 0), ev("join", 0, id="a"), ev("leave", 2, id="b")], 2)


def test_normalize_events_same_id_different_content_refused():
    with pytest.raises(ConflictingEventError):
        normalize_events([ev("join", 0, id="a"), ev("join", 1, id="a")])


# Per session --------------------------------------------------------------------------------


def test_engine_zero_length_segments_shown_and_count_nothing():
    # join and leave in the same second (the leave sorts first: ignored, the join opens),
    # then a join 2 minutes later: the first segment closes at 09:05 by the gap, the second
    # never gets a proof after its join
    result = compute_credit(make_case([*visit(5, 5), ev("join", 7)]))

    assert result.sessions[0].segments == (
        Segment("s1", "tab-1", at(5), at(5), "heartbeat_gap", Gap(at(5), at(7), "join")),
        Segment("s1", "tab-1", at(7), at(7), "no_leave"),
    )
    assert result.sessions[0].attended == ()
    assert credit(result) == (Decimal(0), ["no_eligible_attendance"])


def test_engine_leave_after_the_tolerance_closes_at_the_last_proof_with_the_gap():
    # join 09:00:00, leave 09:01:31 with no heartbeat (tolerance 90 s): not "leave without
    # join"; a zero-length segment closed by the gap 09:00:00-09:01:31
    events = [
        AttendanceEvent("e1", "join", "s1", "tab-1", T0),
        AttendanceEvent("e2", "leave", "s1", "tab-1", T0 + timedelta(seconds=91)),
    ]

    result = compute_credit(make_case(events))

    assert result.sessions[0].segments == (
        Segment(
            "s1", "tab-1", T0, T0, "heartbeat_gap", Gap(T0, T0 + timedelta(seconds=91), "leave")
        ),
    )
    assert result.ignored_events == (
        IgnoredEvent("e2", "leave", "s1", T0 + timedelta(seconds=91), "leave_after_heartbeat_gap"),
    )
    assert result.total_seconds == 0


def test_engine_leave_within_the_tolerance_closes_at_the_leave():
    events = [
        AttendanceEvent("e1", "join", "s1", "tab-1", T0),
        AttendanceEvent("e2", "leave", "s1", "tab-1", T0 + timedelta(seconds=90)),
    ]

    result = compute_credit(make_case(events))

    assert result.sessions[0].segments == (
        Segment("s1", "tab-1", T0, T0 + timedelta(seconds=90), "leave"),
    )
    assert result.ignored_events == ()
    assert result.total_seconds == 90


def test_engine_heartbeats_after_a_gap_are_after_the_gap_until_the_next_join():
    events = [
        ev("join", 0, id="j1"),
        ev("heartbeat", 1, id="h1"),
        ev("heartbeat", 10, id="h2"),  # gap 09:01-09:10 closes at 09:01
        ev("heartbeat", 11, id="h3"),
        ev("join", 12, id="j2"),
        ev("leave", 13, id="l1"),
        ev("heartbeat", 14, id="h4"),
    ]

    result = compute_credit(make_case(events))

    assert [(i.id, i.reason) for i in result.ignored_events] == [
        ("h2", "heartbeat_after_heartbeat_gap"),
        ("h3", "heartbeat_after_heartbeat_gap"),
        ("h4", "heartbeat_without_join"),
    ]
    assert [(s.start, s.end, s.closed_by) for s in result.sessions[0].segments] == [
        (at(0), at(1), "heartbeat_gap"),
        (at(12), at(13), "leave"),
    ]


def test_engine_segment_clipped_to_session_bounds():
    result = compute_credit(make_case(visit(-10, 70)))
    assert result.sessions[0].segments == (Segment("s1", "tab-1", at(0), at(60), "session_end"),)
    assert credit(result) == (Decimal("1.00"), [])


def test_engine_several_tabs_count_once():
    events = [*visit(0, 40, connection="tab-1"), *visit(20, 60, connection="phone")]
    result = compute_credit(make_case(events))
    (s1,) = result.sessions
    assert (s1.attended, s1.attended_seconds, result.total_seconds) == (
        ((at(0), at(60)),),
        3600,
        3600,
    )
    assert credit(result) == (Decimal("1.00"), [])


def test_engine_late_start_and_break_via_eligible_windows():
    spec = session(
        end=90, eligible_windows=((at(15), at(45)), (at(55), at(90))), designated_minutes=60
    )
    result = compute_credit(make_case(visit(0, 90), sessions=[spec]))
    (s1,) = result.sessions
    assert (s1.attended_seconds, s1.eligible_seconds, s1.capped_seconds) == (5400, 3900, 3600)
    assert s1.reasons == ("capped_at_designated_minutes",)
    assert credit(result) == (Decimal("1.00"), ["capped_at_designated_minutes"])


def test_engine_overrun_counts_until_actual_end_but_cap_holds():
    # The session ran 20 minutes over (end = actual end); it was designated for 60 minutes.
    spec = session(end=80, designated_minutes=60)
    result = compute_credit(make_case(visit(0, 80), sessions=[spec]))
    assert (result.sessions[0].eligible_seconds, result.total_seconds) == (4800, 3600)


def test_engine_cancelled_session_gives_zero_with_reason():
    spec = session(cancelled=True)
    result = compute_credit(make_case(visit(0, 60), sessions=[spec]))
    assert (result.sessions[0].attended_seconds, result.sessions[0].credited_seconds) == (3600, 0)
    assert credit(result) == (Decimal(0), ["no_eligible_attendance", "session_cancelled"])


def test_engine_faculty_gets_no_credit_for_own_session_only():
    sessions = [session("s1", 0, 60), session("s2", 60, 120)]
    events = [*visit(0, 60, "s1"), *visit(60, 120, "s2")]
    result = compute_credit(make_case(events, sessions=sessions, faculty=["s1"]))
    assert [(s.spec.id, s.credited_seconds, s.reasons) for s in result.sessions] == [
        ("s1", 0, ("faculty_of_session",)),
        ("s2", 3600, ()),
    ]
    assert credit(result) == (Decimal("1.00"), ["faculty_of_session"])


def test_engine_session_across_midnight():
    start = datetime(2025, 5, 1, 23, 30, tzinfo=UTC)
    spec = SessionSpec(id="s1", start=start, end=start + timedelta(hours=1))
    events = [
        AttendanceEvent(
            str(m), "heartbeat" if m else "join", "s1", "tab", start + timedelta(minutes=m)
        )
        for m in range(54)
    ]
    result = compute_credit(make_case(events, sessions=[spec]))
    assert (result.total_seconds, credit(result)) == (53 * 60, (Decimal("1.00"), []))


def test_engine_session_across_dst_change_counts_elapsed_time():
    # 2024-11-03 in New York: 01:30 EDT (-04:00) to 01:30 EST (-05:00) is one real hour.
    start = datetime.fromisoformat("2024-11-03T01:30:00-04:00")
    end = datetime.fromisoformat("2024-11-03T01:30:00-05:00")
    spec = SessionSpec(id="s1", start=start, end=end)
    events = [
        AttendanceEvent(
            str(m), "heartbeat" if m else "join", "s1", "tab", start + timedelta(minutes=m)
        )
        for m in range(61)
    ]
    result = compute_credit(make_case(events, sessions=[spec]))
    assert (result.total_seconds, credit(result)) == (3600, (Decimal("1.00"), []))


# Across sessions ----------------------------------------------------------------------------


def test_engine_parallel_sessions_never_count_a_minute_twice():
    sessions = [session("a", 0, 60), session("b", 0, 60)]
    events = [*visit(0, 60, "a", "tab-1"), *visit(0, 60, "b", "tab-2")]
    result = compute_credit(make_case(events, sessions=sessions))
    assert result.total_seconds == 3600
    assert sorted(s.credited_seconds for s in result.sessions) == [0, 3600]
    assert sorted(s.reasons for s in result.sessions) == [(), ("counted_in_parallel_session",)]
    assert credit(result) == (Decimal("1.00"), [])


def test_engine_parallel_sessions_with_caps_take_the_best_allocation():
    # Trimming each session to its cap first and then taking the union would credit 10 min
    # (both keep 09:00-09:10); the engine credits 20 (a: 09:00-09:10, b: 09:20-09:30).
    sessions = [
        session("a", 0, 30, designated_minutes=10),
        session("b", 0, 30, designated_minutes=10),
    ]
    events = [*visit(0, 10, "a"), *visit(0, 30, "b", "tab-2")]
    result = compute_credit(make_case(events, sessions=sessions))
    assert result.total_seconds == 1200
    assert [s.credited_seconds for s in result.sessions] == [600, 600]


def test_engine_eight_short_visits_round_once_on_the_total():
    sessions = [session(f"s{n}", 60 * n, 60 * n + 60) for n in range(8)]
    events = [e for n in range(8) for e in visit(60 * n, 60 * n + 8, f"s{n}")]
    result = compute_credit(make_case(events, sessions=sessions))
    assert result.total_seconds == 64 * 60
    assert credit(result) == (Decimal("1.00"), [])


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (7, (Decimal(0), ["below_minimum"])),
        (8, (Decimal("0.25"), [])),
        (52, (Decimal("0.75"), [])),
        (53, (Decimal("1.00"), [])),
        (60, (Decimal("1.00"), [])),
    ],
)
def test_engine_ama_examples(minutes, expected):
    assert credit(compute_credit(make_case(visit(0, minutes)))) == expected


def test_engine_below_custom_minimum_is_zero():
    rule = replace(AMA, minimum=Decimal("1"))
    result = compute_credit(make_case(visit(0, 50), rules=[rule]))
    (found,) = result.credit_types
    assert (found.computed, found.credit, found.reasons) == (
        Decimal("0.75"),
        Decimal(0),
        ("below_minimum",),
    )


def test_engine_capped_at_designated_maximum():
    sessions = [session("s1", 0, 60), session("s2", 60, 120)]
    events = [*visit(0, 60, "s1"), *visit(60, 120, "s2")]
    result = compute_credit(
        make_case(events, sessions=sessions, maxima={"AMA_PRA_1": Decimal("1.5")})
    )
    assert credit(result) == (Decimal("1.5"), ["capped_at_designated_max"])


def test_engine_non_physician_gets_participation_not_ama():
    rules = [AMA, PRESETS["PARTICIPATION"]]
    result = compute_credit(make_case(visit(0, 60), degree="RN", rules=rules))
    assert credit(result) == (Decimal(0), ["not_eligible_degree"])
    assert credit(result, "PARTICIPATION") == (Decimal("1.00"), [])


def test_engine_hash_ignores_duplicates_and_order_but_sees_changes():
    events = [ev("join", 0, id="a"), ev("heartbeat", 1, id="b"), ev("leave", 2, id="c")]
    base = compute_credit(make_case(events))
    for shuffled in itertools.permutations([*events, events[1]]):
        assert compute_credit(make_case(shuffled)) == replace(
            base, events_received=4, duplicates_dropped=1
        )
    changed = compute_credit(make_case([*events[:2], ev("leave", 3, id="c")]))
    assert changed.inputs_hash != base.inputs_hash
    other_rule = compute_credit(make_case(events, rules=[replace(AMA, rounding="down")]))
    assert other_rule.inputs_hash != base.inputs_hash


def test_allocate_wall_clock_without_overlap_is_min_of_eligible_and_cap():
    eligible = {"a": [(at(0), at(30))], "b": [(at(40), at(100))]}
    assert allocate_wall_clock(eligible, {"a": 3600, "b": 1800}) == {"a": 1800, "b": 1800}
