"""Sessions from the database: parts without credit and cancellation reach the engine."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from conference.models import SessionCreditExclusion
from conference.services.cme.case import compute_event_credit
from tests.support.cme import attend, learner, make_event

pytestmark = pytest.mark.django_db


def _ama(result):
    return next(r for r in result.credit_types if r.rule.code == "AMA_PRA_1")


def test_part_without_credit_is_cut_from_the_session():
    event, session = make_event()
    SessionCreditExclusion.objects.create(
        session=session, offset_minutes=30, length_minutes=15, reason="Industry segment"
    )
    user = learner()
    attend(user, session, minutes=60)

    result = compute_event_credit(user, event)

    (session_result,) = result.sessions
    assert session_result.eligible_seconds == 45 * 60
    assert session_result.credited_seconds == 45 * 60
    assert _ama(result).credit == Decimal("0.75")


def test_session_without_any_credit_time_counts_nothing():
    event, session = make_event()
    SessionCreditExclusion.objects.create(
        session=session, offset_minutes=0, length_minutes=60, reason="Not accredited"
    )
    user = learner()
    attend(user, session, minutes=60)

    result = compute_event_credit(user, event)

    assert result.sessions[0].credited_seconds == 0
    assert _ama(result).credit == Decimal("0.00")


def test_cancelled_session_earns_nothing_with_a_reason():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    session.is_cancelled = True
    session.save(update_fields=["is_cancelled"])

    result = compute_event_credit(user, event)

    assert result.sessions[0].credited_seconds == 0
    assert "session_cancelled" in result.sessions[0].reasons


def test_part_ending_after_the_session_is_refused():
    _event, session = make_event()
    part = SessionCreditExclusion(
        session=session, offset_minutes=50, length_minutes=15, reason="Overlong"
    )

    with pytest.raises(ValidationError, match="ends after the session"):
        part.full_clean()


def test_cancelled_session_is_marked_on_its_page(client):
    _event, session = make_event(is_published=True)
    session.is_cancelled = True
    session.save(update_fields=["is_cancelled"])

    page = client.get(session.get_absolute_url())

    assert page.status_code == 200
    assert "This session is cancelled." in page.content.decode()
