"""What a removal from a hall would cost a learner in credit, computed by the credit engine.

The engine gets the learner's real attendance of the event so far plus two futures for the
session on now: staying connected until it ends, or leaving now (the removal closes every
socket) and, if the removal ends first, coming straight back until the session ends. The two
results are compared per session minutes and per credit type; nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from accounts.models import User
from conference.credit.attendance import HEARTBEAT, JOIN, LEAVE
from conference.credit.attendance import AttendanceEvent as EngineEvent
from conference.credit.engine import CreditCase, CreditResult, compute_credit
from conference.models import Session
from conference.services.cme.case import build_credit_case
from conference.services.cme.learner import load_learner

PROOF_EVERY = timedelta(seconds=60)  # a connected client's heartbeat interval


@dataclass(frozen=True)
class CreditAtStake:
    """Session minutes the engine credits, and each credit type's event credit, in both futures."""

    minutes_so_far: int
    minutes_if_stays: int
    minutes_if_removed: int
    credit: tuple[tuple[str, str, Decimal, Decimal], ...]  # code, name, if stays, if removed

    def as_data(self) -> dict[str, Any]:
        return {
            "minutes_so_far": self.minutes_so_far,
            "minutes_if_stays": self.minutes_if_stays,
            "minutes_if_removed": self.minutes_if_removed,
            "credit": [
                {"code": code, "name": name, "if_stays": str(stays), "if_removed": str(removed)}
                for code, name, stays, removed in self.credit
            ],
        }


def _present(session: str, connection: str, start: datetime, end: datetime) -> list[EngineEvent]:
    """A connection present from `start` to `end`: a join, a heartbeat a minute, a leave."""
    events = [EngineEvent(None, JOIN, session, connection, start)]
    moment = start + PROOF_EVERY
    while moment < end:
        events.append(EngineEvent(None, HEARTBEAT, session, connection, moment))
        moment += PROOF_EVERY
    events.append(EngineEvent(None, LEAVE, session, connection, end))
    return events


def _with(case: CreditCase, events: list[EngineEvent]) -> CreditResult:
    return compute_credit(replace(case, attendance=case.attendance + tuple(events)))


def _credited_minutes(result: CreditResult, session: str) -> int:
    found = next((s for s in result.sessions if s.spec.id == session), None)
    return found.credited_seconds // 60 if found else 0


def credit_at_stake(
    user: User, session: Session, *, now: datetime, until: datetime
) -> CreditAtStake:
    """What removing `user` from `now` to `until` does to their credit for `session` (on now)."""
    case = build_credit_case(load_learner(user, session.event))
    key = str(session.pk)
    # The removal closes the learner's sockets now: every connection of theirs still open in
    # the session gets its leave now (a connection that already left is unaffected).
    connections = {e.connection for e in case.attendance if e.session == key}
    removed_now = [EngineEvent(None, LEAVE, key, c, now) for c in sorted(connections)]
    comes_back = (
        _present(key, "preview:back", until, session.ends_at) if until < session.ends_at else []
    )
    so_far = _with(case, removed_now)
    stays = _with(case, _present(key, "preview:stay", now, session.ends_at))
    removed = _with(case, removed_now + comes_back)
    removed_credit = {r.rule.code: r.credit for r in removed.credit_types}
    return CreditAtStake(
        minutes_so_far=_credited_minutes(so_far, key),
        minutes_if_stays=_credited_minutes(stays, key),
        minutes_if_removed=_credited_minutes(removed, key),
        credit=tuple(
            (r.rule.code, r.rule.name, r.credit, removed_credit.get(r.rule.code, Decimal(0)))
            for r in stays.credit_types
        ),
    )
