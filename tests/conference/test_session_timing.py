""" "Start now" / "End now": a session moved to the clock, its CME effects, scoping and audit."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from conference.models import CmeAuditEntry, Session
from conference.services.cme.offers import credit_offers
from conference.services.timing import (
    TimingRefused,
    apply_plan,
    plan_end_now,
    plan_start_now,
)
from tests.factories import SessionFactory
from tests.support.cme import attend, evaluate, learner, make_event


def test_start_now_keeps_length_and_extends_event_days(world):
    session = world.session_a
    now = timezone.now() + dt.timedelta(days=3)
    plan = plan_start_now(session, now=now)
    apply_plan(plan, actor=world.staff_a)

    session.refresh_from_db()
    start = now.replace(second=0, microsecond=0)
    assert (session.starts_at, session.ends_at) == (start, start + dt.timedelta(hours=1))
    session.event.refresh_from_db()
    assert session.event.end_date == timezone.localtime(start, session.event.tzinfo).date()
    entry = CmeAuditEntry.objects.get(action="session.start_now")
    assert (entry.actor, entry.object_id) == (world.staff_a, session.pk)
    assert any("grow" in effect for effect in plan.effects)


def test_start_now_refuses_when_hall_is_booked(world):
    session = world.session_a
    now = timezone.now() + dt.timedelta(days=3)
    start = now.replace(second=0, microsecond=0)
    SessionFactory(
        event=session.event,
        hall=session.hall,
        title="Occupant",
        starts_at=start + dt.timedelta(minutes=30),
        ends_at=start + dt.timedelta(minutes=90),
    )
    session.event.end_date = timezone.localtime(now, session.event.tzinfo).date()
    session.event.save()

    with pytest.raises(TimingRefused) as refusal:
        plan_start_now(session, now=now)
    assert "already booked for “Occupant”" in str(refusal.value)


def test_end_now_only_while_on(world):
    session = world.session_a
    with pytest.raises(TimingRefused, match="has not started yet"):
        plan_end_now(session, now=session.starts_at - dt.timedelta(minutes=1))
    with pytest.raises(TimingRefused, match="is already over"):
        plan_end_now(session, now=session.ends_at)


def test_apply_refuses_a_stale_plan(world):
    session = world.session_a
    plan = plan_end_now(session, now=session.starts_at + dt.timedelta(minutes=20))
    Session.objects.filter(pk=session.pk).update(ends_at=session.ends_at + dt.timedelta(hours=1))
    with pytest.raises(TimingRefused, match="changed meanwhile"):
        apply_plan(plan, actor=world.staff_a)


@pytest.mark.django_db
def test_end_now_opens_claims_and_credits_attendance_so_far():
    event, session = make_event(days_ago=0)
    now = timezone.now()
    Session.objects.filter(pk=session.pk).update(
        starts_at=now - dt.timedelta(minutes=20), ends_at=now + dt.timedelta(minutes=40)
    )
    session.refresh_from_db()
    user = learner()
    attend(user, session, minutes=20)
    evaluate(user, event)
    before = {offer.code: offer for offer in credit_offers(user, event)}
    assert [code for code, _ in before["AMA_PRA_1"].problems] == ["claim_not_open"]

    apply_plan(plan_end_now(session, now=now), actor=None)

    after = {offer.code: offer for offer in credit_offers(user, event)}
    assert after["AMA_PRA_1"].problems == []
    assert after["AMA_PRA_1"].result.credit == Decimal("0.25")


def test_admin_timing_page_states_effects_then_applies(client, world):
    client.force_login(world.staff_a)
    session = world.session_a
    # Not on now whatever the time of day (the world's session is 09:00-10:00 in Chicago).
    later = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=3)
    session.starts_at, session.ends_at = later, later + dt.timedelta(hours=1)
    session.save()
    url = f"/admin/conference/session/{session.pk}/timing/start/"
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "CME: only attendance inside the new times counts" in text
    session.refresh_from_db()
    unchanged = session.starts_at

    response = client.post(url)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.starts_at != unchanged
    assert session.starts_at <= timezone.now() < session.ends_at


def test_admin_timing_other_organizer_not_found(client, world):
    client.force_login(world.staff_a)
    session = world.session_b
    before = (session.starts_at, session.ends_at)
    response = client.post(f"/admin/conference/session/{session.pk}/timing/start/")
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.starts_at, session.ends_at) == before
    assert not CmeAuditEntry.objects.exists()
