"""The attainable maximum (no database): the best path through credit-eligible time, computed
by hand for each programme below."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from conference.credit import (
    PRESETS,
    AttendanceEvent,
    CreditCase,
    Learner,
    SessionSpec,
    compute_credit,
)
from conference.credit.designation import (
    PathStep,
    attainable,
    session_designation_problem,
)

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
AMA = PRESETS["AMA_PRA_1"]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def session(id, start, end, **kwargs):
    return SessionSpec(id=id, start=at(start), end=at(end), title=id.upper(), **kwargs)


# The demo's programme: two tracks, a break, 60+45+60+60+90+60 designated minutes (6.25 summed)
DEMO = [
    session("plenary", 0, 60, designated_minutes=60),
    session("ecg", 0, 50, designated_minutes=45),
    session("lipids", 60, 120, designated_minutes=60),
    session("af", 60, 120, designated_minutes=60),
    session("echo", 150, 240, designated_minutes=90),
    session("panel", 150, 210, designated_minutes=60),
]


def test_demo_programme_attains_210_minutes_not_the_sum():
    limit = attainable(DEMO)

    # slot 1: max(60, 45) = 60; slot 2: max(60, 60) = 60; after the break: max(90, 60) = 90
    assert limit.seconds == 210 * 60
    assert limit.max_credit(AMA) == Decimal("3.50")
    assert sum(s.designated_minutes for s in DEMO) == 375  # 6.25 h, what the demo designated
    assert limit.explain(AMA) == (
        "210 min of credit-eligible time on the best path through the programme = 3.50 h, "
        "rounded down to 0.25 -> 3.50"
    )


def test_demo_path_lists_one_session_per_minute():
    limit = attainable(DEMO)

    assert [(p.session, p.start, p.end, p.seconds) for p in limit.path] == [
        ("plenary", at(0), at(60), 3600),
        ("af", at(60), at(120), 3600),
        ("echo", at(150), at(240), 5400),
    ]
    assert {s.spec.id: s.counted_seconds for s in limit.sessions} == {
        "plenary": 3600,
        "ecg": 0,
        "lipids": 0,
        "af": 3600,
        "echo": 5400,
        "panel": 0,
    }


def test_partly_overlapping_sessions_follow_the_time():
    # 09:00-10:00 and 09:30-10:30: leave the first at 09:30, join the second: 90 minutes
    limit = attainable([session("a", 0, 60), session("b", 30, 90)])

    assert limit.seconds == 90 * 60
    assert limit.max_credit(AMA) == Decimal("1.50")


def test_breaks_and_parts_without_credit_are_excluded():
    # 09:00-11:00 with a 15-minute break at 10:00 -> 105 minutes -> 1.75
    spec = session("a", 0, 120, eligible_windows=((at(0), at(60)), (at(75), at(120))))

    assert attainable([spec]).seconds == 105 * 60
    assert attainable([spec]).max_credit(AMA) == Decimal("1.75")


def test_cancelled_session_counts_nothing():
    # the long parallel session is cancelled: the 30-minute one is the path
    limit = attainable([session("long", 0, 90, cancelled=True), session("short", 0, 30)])

    assert limit.seconds == 30 * 60
    assert limit.max_credit(AMA) == Decimal("0.50")
    assert [s.eligible_seconds for s in limit.sessions] == [0, 1800]


def test_designated_minutes_cap_a_session_on_the_path():
    # A 09:00-10:00 designated 45, B 09:00-09:30 designated 30: the wall clock holds 60
    # minutes, A alone only 45: B 09:00-09:30 and A 09:30-10:00 plus 15 of the first half
    limit = attainable(
        [
            session("a", 0, 60, designated_minutes=45),
            session("b", 0, 30, designated_minutes=30),
            session("c", 60, 120, designated_minutes=20),
        ]
    )

    assert limit.seconds == 80 * 60  # 60 in the first hour + 20 of C
    assert limit.max_credit(AMA) == Decimal("1.25")


def test_rounded_down_to_the_increment_never_nearest():
    # 53 minutes: a learner's credit rounds to 1.00, the designation only to 0.75
    limit = attainable([session("a", 0, 53)])

    assert limit.max_credit(AMA) == Decimal("0.75")
    half_hours = replace(AMA, increment=Decimal("0.5"))
    assert limit.max_credit(half_hours) == Decimal("0.50")


def test_attending_everything_earns_exactly_the_attainable_time():
    programme = [*DEMO, session("late", 200, 260), session("overlap", 30, 100)]
    events = []
    for n, spec in enumerate(programme):
        minutes = int((spec.end - spec.start).total_seconds() // 60)
        start = int((spec.start - T0).total_seconds() // 60)
        events.append(_event(f"j{n}", "join", spec.id, start, f"c{n}"))
        events += [
            _event(f"h{n}-{m}", "heartbeat", spec.id, start + m, f"c{n}")
            for m in range(1, minutes + 1)
        ]
    case = CreditCase(
        learner=Learner(degree="MD"),
        rules=(AMA,),
        sessions=tuple(programme),
        attendance=tuple(events),
        designated_max=(("AMA_PRA_1", Decimal("99")),),
    )

    assert compute_credit(case).total_seconds == attainable(programme).seconds


def _event(id, kind, sid, minute, connection):
    return AttendanceEvent(
        id=id, kind=kind, session=sid, connection=connection, server_time=at(minute)
    )


def test_path_step_joins_adjacent_pieces_of_one_session():
    # B starts inside A: A's time is cut into pieces at 09:30, A keeps them all
    limit = attainable([session("a", 0, 60), session("b", 30, 45, cancelled=True)])

    assert limit.path == (PathStep("a", "A", at(0), at(60), 3600),)


def test_session_designation_may_not_exceed_its_eligible_minutes():
    windows = ((at(0), at(40)), (at(50), at(60)))

    assert (
        session_designation_problem(
            session("a", 0, 60, designated_minutes=50, eligible_windows=windows)
        )
        is None
    )
    assert session_designation_problem(
        session("a", 0, 60, designated_minutes=55, eligible_windows=windows)
    ) == (
        "55 designated minutes exceed the session's credit-eligible time (50 min: its length "
        "minus the parts without credit)."
    )
    assert session_designation_problem(session("a", 0, 60)) is None
