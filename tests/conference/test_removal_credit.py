"""The CME effect of a removal, as the credit engine computes it (hall.removal_preview)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Degree
from conference.models import AttendanceEvent
from conference.services.removal_credit import credit_at_stake
from tests.support.cme import learner, make_event

pytestmark = pytest.mark.django_db


def on_now(*, started_minutes_ago: int, length: int = 60):
    _, session = make_event(days_ago=0)
    now = timezone.now().replace(microsecond=0)
    session.starts_at = now - dt.timedelta(minutes=started_minutes_ago)
    session.ends_at = session.starts_at + dt.timedelta(minutes=length)
    session.save()
    return session, now


def connected_since_start(user, session, now):
    """Joined at the start, a heartbeat a minute until now, still connected (no leave)."""
    minutes = int((now - session.starts_at).total_seconds() // 60)
    rows = [("join", session.starts_at)] + [
        ("heartbeat", session.starts_at + dt.timedelta(minutes=m)) for m in range(1, minutes + 1)
    ]
    AttendanceEvent.objects.bulk_create(
        AttendanceEvent(
            user=user,
            session=session,
            hall=session.hall,
            connection="tab-1",
            kind=kind,
            server_time=moment,
            dedup_key=f"removal-{index}",
        )
        for index, (kind, moment) in enumerate(rows)
    )


def credit(stake, code):
    found = next(row for row in stake.as_data()["credit"] if row["code"] == code)
    return Decimal(found["if_stays"]), Decimal(found["if_removed"])


def test_removal_for_the_rest_of_the_session_costs_the_remaining_credit():
    session, now = on_now(started_minutes_ago=40)
    user = learner()
    connected_since_start(user, session, now)

    stake = credit_at_stake(user, session, now=now, until=now + dt.timedelta(hours=24))

    assert (stake.minutes_so_far, stake.minutes_if_stays, stake.minutes_if_removed) == (40, 60, 40)
    # 60 min rounds to 1.00 credit; 40 min (0.67 h) to the nearest quarter, 0.75.
    assert credit(stake, "AMA_PRA_1") == (Decimal("1.00"), Decimal("0.75"))


def test_a_short_removal_counts_the_time_after_coming_back():
    session, now = on_now(started_minutes_ago=20)
    user = learner()
    connected_since_start(user, session, now)

    stake = credit_at_stake(user, session, now=now, until=now + dt.timedelta(minutes=5))

    assert (stake.minutes_so_far, stake.minutes_if_stays, stake.minutes_if_removed) == (20, 60, 55)
    assert credit(stake, "AMA_PRA_1") == (Decimal("1.00"), Decimal("1.00"))  # 55 min: 1.00


def test_a_learner_whose_degree_earns_no_ama_credit_has_none_at_stake():
    session, now = on_now(started_minutes_ago=40)
    user = learner(degree=Degree.RN)
    connected_since_start(user, session, now)

    stake = credit_at_stake(user, session, now=now, until=now + dt.timedelta(hours=1))

    assert credit(stake, "AMA_PRA_1") == (Decimal("0"), Decimal("0"))
    assert stake.minutes_if_stays - stake.minutes_if_removed == 20
