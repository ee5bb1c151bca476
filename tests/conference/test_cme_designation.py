"""Designations checked against the attainable maximum: service, admin, learner page, demo."""

import datetime as dt
from decimal import Decimal

import pytest

from conference.credit.rules import PRESETS
from conference.models import EventCredit, SessionCreditExclusion, SessionKind
from conference.services.cme.designation import (
    attainable_credit,
    designate_credits,
    session_designation_problem,
)
from conference.services.cme.terms import DesignationRefused
from tests.factories import MembershipFactory, SessionFactory
from tests.support.cme import learner, make_event

pytestmark = pytest.mark.django_db


def _parallel_programme():
    """09:00-10:00 with a parallel 09:00-09:45, a cancelled 10:00-12:00 and a 10:00-11:00
    with a 15-minute part without credit: 60 + 45 = 105 min -> 1.75."""
    event, first = make_event(credit_types=())
    at = first.starts_at
    SessionFactory(
        event=event,
        hall=first.hall,
        starts_at=at,
        ends_at=at + dt.timedelta(minutes=45),
        is_cme_eligible=True,
        kind=SessionKind.SEMINAR,
    )
    SessionFactory(
        event=event,
        starts_at=at + dt.timedelta(hours=1),
        ends_at=at + dt.timedelta(hours=3),
        is_cme_eligible=True,
        is_cancelled=True,
    )
    third = SessionFactory(
        event=event,
        starts_at=at + dt.timedelta(hours=1),
        ends_at=at + dt.timedelta(hours=2),
        is_cme_eligible=True,
    )
    SessionCreditExclusion.objects.create(
        session=third, offset_minutes=20, length_minutes=15, reason="Industry update"
    )
    SessionFactory(
        event=event,
        starts_at=at + dt.timedelta(hours=2),
        ends_at=at + dt.timedelta(hours=3),
        is_cme_eligible=True,
        kind=SessionKind.BREAK,
    )
    SessionFactory(
        event=event,
        starts_at=at + dt.timedelta(hours=2),
        ends_at=at + dt.timedelta(hours=3),
        is_cme_eligible=False,
    )
    return event


def test_attainable_credit_excludes_parallel_cancelled_breaks_and_parts():
    event = _parallel_programme()

    limit = attainable_credit(event)

    assert limit.seconds == 105 * 60
    assert limit.max_credit(PRESETS["AMA_PRA_1"]) == Decimal("1.75")


def test_designate_credits_refuses_more_than_attainable_with_the_computation():
    event = _parallel_programme()

    designate_credits(event, {"AMA_PRA_1": Decimal("1.75")})
    with pytest.raises(DesignationRefused) as refused:
        designate_credits(event, {"AMA_PRA_1": Decimal("2.00")})

    assert str(refused.value) == (
        "The designated maximum 2.00 is more than one learner could earn: 105 min of "
        "credit-eligible time on the best path through the programme = 1.75 h, rounded down "
        "to 0.25 -> 1.75. Designate at most 1.75."
    )
    assert EventCredit.objects.get(event=event).designated_max == Decimal("1.75")


def _admin_post(client, credit, maximum):
    data = {
        "event": credit.event_id,
        "credit_type": credit.credit_type,
        "designated_max": maximum,
        "activity_number": "",
        "statement_override": "",
        "signatory_name": "Dr. Ada Chair",
        "signatory_title": "",
        "claim_opens_at_0": "",
        "claim_opens_at_1": "",
        "claim_closes_at_0": "",
        "claim_closes_at_1": "",
        "evaluation_required": "on",
        "post_test": "",
        "increment": "",
        "minimum": "",
        "rounding": "",
        "eligible_degrees": "",
        "required_ids": "",
        "reporting_deadline_days": "",
    }
    return client.post(f"/admin/conference/eventcredit/{credit.pk}/change/", data)


def test_admin_refuses_designation_above_attainable_and_shows_the_path(client):
    event, _session = make_event()  # one 60-minute session: at most 1.00
    credit = EventCredit.objects.get(event=event, credit_type="AMA_PRA_1")
    client.force_login(MembershipFactory(organizer=event.organizer).user)

    refused = _admin_post(client, credit, "1.25")
    accepted = _admin_post(client, credit, "0.75")

    html = refused.content.decode()
    assert refused.status_code == 200
    assert "The designated maximum 1.25 is more than one learner could earn" in html
    assert "60 min of credit-eligible time on the best path" in html
    assert 'class="attainable-path"' in html
    assert accepted.status_code == 302
    credit.refresh_from_db()
    assert credit.designated_max == Decimal("0.75")


def test_admin_change_page_shows_attainable_beside_designation(client):
    event, _session = make_event()
    credit = EventCredit.objects.get(event=event, credit_type="AMA_PRA_1")
    client.force_login(MembershipFactory(organizer=event.organizer).user)

    html = client.get(f"/admin/conference/eventcredit/{credit.pk}/change/").content.decode()
    listing = client.get("/admin/conference/eventcredit/").content.decode()

    assert "<strong>1.00</strong> — 60 min of credit-eligible time" in html
    assert "attainable" in listing


def test_my_cme_shows_attainable_beside_designated(client):
    event, _session = make_event()
    user = learner()
    client.force_login(user)

    html = client.get(f"/cme/events/{event.slug}/").content.decode()

    assert 'data-testid="designated-AMA_PRA_1">1.00<' in html
    assert 'data-testid="attainable-AMA_PRA_1">1.00<' in html
    assert "the most one learner can attend is 60 min" in html


def test_session_designated_minutes_may_not_exceed_length_minus_parts():
    _event, session = make_event()

    problem = session_designation_problem(session, parts=[(10, 15)])
    session.designated_minutes = 45
    fits = session_designation_problem(session, parts=[(10, 15)])

    assert problem == (
        "60 designated minutes exceed the session's credit-eligible time (45 min: its length "
        "minus the parts without credit)."
    )
    assert fits is None
