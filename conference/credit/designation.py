"""The most credit one learner could earn at an activity: the ceiling of every designation.

CME.md: concurrent sessions are not additive. The designated maximum of a credit type is the
best non-overlapping path through the activity's credit-eligible time (breaks, parts without
credit and cancelled sessions excluded), rounded DOWN to the type's increment.

The path is computed by the same allocation the engine uses for a learner
(`intervals.allocate_pieces`): a learner who attended every session from start to end gets
exactly `attainable_seconds` from `compute_credit` (before rounding), so a designation at or
below the attainable maximum is never more than someone could actually earn, and never less
than the engine could give.

When sessions are all-or-nothing blocks that either coincide or do not overlap (the usual
programme of parallel tracks), this is weighted interval scheduling: in each slot the longest
eligible session. When sessions overlap only partly, a learner may leave one and join the
other, and the path follows the time rather than whole sessions: 09:00-10:00 and 09:30-10:30
give 90 minutes (09:00-09:30 in the first, 09:30-10:30 in the second).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from math import floor

from conference.credit.engine import SessionSpec
from conference.credit.intervals import allocate_pieces, merge, total_seconds
from conference.credit.rules import SECONDS_PER_HOUR, CreditTypeRule


@dataclass(frozen=True)
class PathStep:
    """`seconds` of the piece `start`..`end` credited to `session` on the best path."""

    session: str
    title: str
    start: datetime
    end: datetime
    seconds: int


@dataclass(frozen=True)
class SessionLimit:
    """One session's part in the computation: its eligible time, cap and counted time."""

    spec: SessionSpec
    eligible_seconds: int
    cap_seconds: int
    counted_seconds: int


@dataclass(frozen=True)
class Attainable:
    seconds: int
    union_seconds: int
    sessions: tuple[SessionLimit, ...]
    path: tuple[PathStep, ...]

    def max_credit(self, rule: CreditTypeRule) -> Decimal:
        """The attainable time in hours, rounded down to the rule's increment."""
        units = Fraction(self.seconds, SECONDS_PER_HOUR) / Fraction(rule.increment)
        return floor(units) * rule.increment

    def explain(self, rule: CreditTypeRule) -> str:
        """One line: "210 min of credit-eligible time on the best path = 3.50 h -> 3.50"."""
        hours = Decimal(self.seconds) / SECONDS_PER_HOUR
        return (
            f"{_minutes(self.seconds)} min of credit-eligible time on the best path through "
            f"the programme = {hours.quantize(Decimal('0.01'))} h, rounded down to "
            f"{rule.increment} -> {self.max_credit(rule)}"
        )


def _minutes(seconds: int) -> str:
    whole, rest = divmod(seconds, 60)
    return f"{whole}" if not rest else f"{whole} min {rest} s"


def attainable(sessions: list[SessionSpec] | tuple[SessionSpec, ...]) -> Attainable:
    """The best path through the eligible time of `sessions` (cancelled ones count nothing)."""
    # The longest sessions are offered each piece first, so the path shown stays in one
    # session where it can (the total does not depend on the order).
    counted = [
        s
        for s in sorted(sessions, key=lambda s: (-s.cap_seconds(), s.start, s.id))
        if not s.cancelled
    ]
    eligible = {s.id: s.windows() for s in counted}
    caps = {s.id: s.cap_seconds() for s in counted}
    pieces = allocate_pieces(eligible, caps)
    per_session = dict.fromkeys(eligible, 0)
    titles = {s.id: s.title for s in counted}
    path: list[PathStep] = []
    for start, end, split in pieces:
        for sid, seconds in split.items():
            per_session[sid] += seconds
            path.append(PathStep(sid, titles[sid], start, end, seconds))
    return Attainable(
        seconds=sum(per_session.values()),
        union_seconds=total_seconds(merge(i for w in eligible.values() for i in w)),
        sessions=tuple(
            SessionLimit(
                spec=s,
                eligible_seconds=0 if s.cancelled else total_seconds(s.windows()),
                cap_seconds=0 if s.cancelled else s.cap_seconds(),
                counted_seconds=per_session.get(s.id, 0),
            )
            for s in sorted(sessions, key=lambda s: (s.start, s.id))
        ),
        path=tuple(_joined(path)),
    )


def _joined(path: list[PathStep]) -> list[PathStep]:
    """Adjacent whole pieces of the same session become one step."""
    joined: list[PathStep] = []
    for step in path:
        last = joined[-1] if joined else None
        whole = step.seconds == total_seconds([(step.start, step.end)])
        if (
            last is not None
            and whole
            and last.session == step.session
            and last.end == step.start
            and last.seconds == total_seconds([(last.start, last.end)])
        ):
            joined[-1] = PathStep(
                last.session, last.title, last.start, step.end, last.seconds + step.seconds
            )
        else:
            joined.append(step)
    return joined


def session_designation_problem(spec: SessionSpec) -> str | None:
    """A session may designate at most its own credit-eligible minutes."""
    if spec.designated_minutes is None:
        return None
    eligible = total_seconds(spec.windows())
    if spec.designated_minutes * 60 > eligible:
        return (
            f"{spec.designated_minutes} designated minutes exceed the session's "
            f"credit-eligible time ({_minutes(eligible)} min: its length minus the parts "
            "without credit)."
        )
    return None
