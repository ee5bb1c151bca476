"""Properties of the credit engine, checked on generated attendance (hypothesis)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from conference.credit import (
    PRESETS,
    AttendanceEvent,
    CreditCase,
    Learner,
    SessionSpec,
    compute_credit,
)
from conference.credit.attendance import EVENT_KINDS, PROOFS_OF_PRESENCE

T0 = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)
SPAN_SECONDS = 3 * 3600


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


SESSIONS = (
    SessionSpec(id="a", start=at(0), end=at(3600), designated_minutes=45),
    SessionSpec(id="b", start=at(1800), end=at(5400), eligible_windows=((at(1800), at(3000)),)),
    SessionSpec(id="c", start=at(5400), end=at(9000), designated_minutes=60),
)
RULES = (
    PRESETS["AMA_PRA_1"],
    replace(PRESETS["ANCC"], eligible_degrees=(), minimum=Decimal("0.5"), rounding="down"),
    PRESETS["PARTICIPATION"],
)
MAXIMA = (("AMA_PRA_1", Decimal("1.75")), ("ANCC", Decimal("2")))


def event_strategy(kinds=EVENT_KINDS):
    return st.builds(
        AttendanceEvent,
        id=st.none(),
        kind=st.sampled_from(kinds),
        session=st.sampled_from([s.id for s in SESSIONS]),
        connection=st.sampled_from(["tab-1", "tab-2", "phone"]),
        server_time=st.integers(-600, SPAN_SECONDS).map(at),
    )


def with_ids(events, prefix="e"):
    return [replace(e, id=f"{prefix}{n}") for n, e in enumerate(events)]


events_lists = st.lists(event_strategy(), max_size=60).map(with_ids)


def make_case(events) -> CreditCase:
    return CreditCase(
        learner=Learner(degree="MD"),
        rules=RULES,
        sessions=SESSIONS,
        attendance=tuple(events),
        designated_max=MAXIMA,
        heartbeat_tolerance_seconds=120,
    )


def credits(result):
    return [c.credit for c in result.credit_types]


@settings(max_examples=200, deadline=None)
@given(events=events_lists)
def test_credit_never_exceeds_the_designated_maximum(events):
    result = compute_credit(make_case(events))
    ama, ancc, participation = result.credit_types
    assert Decimal(0) <= ama.credit <= Decimal("1.75")
    assert Decimal(0) <= ancc.credit <= Decimal("2")
    assert participation.credit <= Decimal("3")  # 45 + 20 + 60 designated minutes at most
    assert result.total_seconds <= result.union_seconds


@settings(max_examples=200, deadline=None)
@given(
    events=events_lists,
    extra=st.lists(event_strategy(PROOFS_OF_PRESENCE), min_size=1, max_size=20),
)
def test_adding_attendance_never_lowers_credit(events, extra):
    before = compute_credit(make_case(events))
    after = compute_credit(make_case([*events, *with_ids(extra, "x")]))
    assert after.total_seconds >= before.total_seconds
    assert all(a >= b for a, b in zip(credits(after), credits(before), strict=True))


@settings(max_examples=200, deadline=None)
@given(events=events_lists, data=st.data())
def test_duplicated_events_change_nothing(events, data):
    copies = data.draw(st.lists(st.sampled_from(events), max_size=20)) if events else []
    before = compute_credit(make_case(events))
    after = compute_credit(make_case([*events, *copies]))
    assert after == replace(
        before, events_received=len(events) + len(copies), duplicates_dropped=len(copies)
    )


@settings(max_examples=200, deadline=None)
@given(events=events_lists, data=st.data())
def test_order_of_events_changes_nothing(events, data):
    shuffled = data.draw(st.permutations(events))
    assert compute_credit(make_case(shuffled)) == compute_credit(make_case(events))


@settings(max_examples=100, deadline=None)
@given(events=st.lists(event_strategy(), max_size=40))
def test_identical_id_less_events_count_once(events):
    before = compute_credit(make_case(events))
    after = compute_credit(make_case([*events, *events]))
    assert (after.inputs_hash, credits(after), after.sessions) == (
        before.inputs_hash,
        credits(before),
        before.sessions,
    )
