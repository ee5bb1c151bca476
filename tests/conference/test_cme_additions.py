"""Credit that adds up: claim after the morning, add the afternoon to the same claim; rounding
and the cap once on the total; a new certificate version each time; the audit trail."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from conference.models import (
    Certificate,
    CertificateStatus,
    ClaimAddition,
    CmeAuditEntry,
    EventCredit,
)
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.claims import claim_credit
from conference.services.cme.offers import credit_offers
from conference.services.cme.records import effective_credit
from conference.services.cme.terms import ClaimRefused
from tests.factories import SessionFactory
from tests.support.cme import attend, evaluate, learner, make_event

pytestmark = pytest.mark.django_db


def _day(*, morning: int, afternoon: int, designated="2.00"):
    """Morning 09:00-10:00 and afternoon 14:00-15:00 of a past day; the learner attends
    `morning` and `afternoon` minutes and has evaluated the event."""
    event, first = make_event()
    second = SessionFactory(
        event=event,
        hall=first.hall,
        starts_at=first.starts_at + dt.timedelta(hours=5),
        ends_at=first.ends_at + dt.timedelta(hours=5),
        is_cme_eligible=True,
        designated_minutes=60,
    )
    EventCredit.objects.filter(event=event).update(designated_max=Decimal(designated))
    user = learner()
    attend(user, first, minutes=morning)
    attend(user, second, minutes=afternoon)
    evaluate(user, event)
    return event, first, second, user


def _claim(user, event, amount, now):
    return claim_credit(user, event, "AMA_PRA_1", amount=amount, attested=True, now=now)


def test_claim_after_morning_then_add_afternoon_rounds_once_on_total():
    # 38 + 38 minutes: each alone rounds to 0.75 (sum 1.50); the total 76 min rounds to 1.25
    event, first, second, user = _day(morning=38, afternoon=38)
    after_morning = first.ends_at + dt.timedelta(minutes=1)
    after_afternoon = second.ends_at + dt.timedelta(minutes=1)

    offer_morning = next(o for o in credit_offers(user, event, now=after_morning))
    claim = _claim(user, event, "0.75", after_morning)
    offer = next(o for o in credit_offers(user, event, now=after_afternoon))
    could_add = offer.can_add
    grown = _claim(user, event, "1.25", after_afternoon)

    assert (offer_morning.result.credit, offer_morning.sessions_to_come) == (
        Decimal("0.75"),
        True,
    )
    assert grown.pk == claim.pk
    assert could_add and offer.result.credit == Decimal("1.25")
    (addition,) = ClaimAddition.objects.filter(claim=claim)
    assert (addition.claimed_credit, addition.computed_credit, addition.credited_seconds) == (
        Decimal("1.25"),
        Decimal("1.25"),
        76 * 60,
    )
    assert addition.sessions == [first.title, second.title]
    assert effective_credit(claim) == Decimal("1.25")
    assert claim.claimed_credit == Decimal("0.75")  # the first row is never edited


def test_cap_applies_once_on_the_total():
    event, first, second, user = _day(morning=60, afternoon=45, designated="1.50")
    claim = _claim(user, event, "1.00", first.ends_at + dt.timedelta(minutes=1))

    later = second.ends_at + dt.timedelta(minutes=1)
    offer = next(o for o in credit_offers(user, event, now=later))
    _claim(user, event, "1.50", later)

    # 105 minutes -> 1.75, capped at the designated 1.50
    assert (offer.result.computed, offer.result.credit) == (Decimal("1.75"), Decimal("1.50"))
    assert effective_credit(claim) == Decimal("1.50")


def test_adding_more_than_computed_or_nothing_new_is_refused_or_unchanged():
    event, first, second, user = _day(morning=60, afternoon=30)
    _claim(user, event, "1.00", first.ends_at + dt.timedelta(minutes=1))
    later = second.ends_at + dt.timedelta(minutes=1)

    with pytest.raises(ClaimRefused) as refused:
        _claim(user, event, "1.75", later)
    _claim(user, event, "1.50", later)
    again = _claim(user, event, "1.50", later)  # double submission: nothing new

    assert [code for code, _ in refused.value.problems] == ["amount_over_computed"]
    assert ClaimAddition.objects.filter(claim=again).count() == 1


def test_each_addition_issues_a_new_version_and_the_old_one_verifies_as_superseded(
    client, media_root
):
    event, first, second, user = _day(morning=60, afternoon=60)
    claim = _claim(user, event, "1.00", first.ends_at + dt.timedelta(minutes=1))
    one = issue_certificate(claim.pk)
    _claim(user, event, "2.00", second.ends_at + dt.timedelta(minutes=1))
    two = issue_certificate(claim.pk)
    one.refresh_from_db()

    old = client.get(reverse("cme-verify-version", args=[one.code, 1])).content.decode()
    old_json = client.get(
        reverse("cme-verify-version", args=[one.code, 1]), {"format": "json"}
    ).json()
    current = client.get(reverse("cme-verify", args=[one.code]), {"format": "json"}).json()

    assert (one.status, two.status, two.version, two.code) == (
        CertificateStatus.SUPERSEDED,
        CertificateStatus.ISSUED,
        2,
        one.code,
    )
    assert two.verify_url.endswith(f"/verify/{one.code}/v2/")
    assert one.verify_url.endswith(f"/verify/{one.code}/v1/")
    assert (old_json["status"], old_json["credits"], old_json["current_version"]) == (
        "superseded",
        "1.00",
        2,
    )
    assert old_json["current_url"] == f"/verify/{one.code}/v2/"
    assert "Superseded: version 1 was replaced by version 2" in old
    assert f'href="/verify/{one.code}/v2/"' in old
    assert (current["status"], current["credits"], current["version"]) == ("valid", "2.00", 2)
    assert Certificate.objects.filter(claim=claim).count() == 2


def test_audit_trail_shows_every_step(media_root):
    event, first, second, user = _day(morning=60, afternoon=60)
    claim = _claim(user, event, "1.00", first.ends_at + dt.timedelta(minutes=1))
    issue_certificate(claim.pk)
    _claim(user, event, "2.00", second.ends_at + dt.timedelta(minutes=1))
    issue_certificate(claim.pk)

    steps = list(
        CmeAuditEntry.objects.filter(event=event)
        .order_by("created_at", "id")
        .values_list("action", "detail")
    )

    assert [action for action, _ in steps] == [
        "claim.submitted",
        "certificate.queued",
        "certificate.issued",
        "claim.added",
        "certificate.queued",
        "certificate.issued",
    ]
    added = steps[3][1]
    assert (added["previous"], added["total"], added["credited_seconds"]) == (
        "1.00",
        "2.00",
        7200,
    )


def test_my_cme_offers_the_addition(client):
    event, first, _second, user = _day(morning=60, afternoon=60)
    _claim(user, event, "1.00", first.ends_at + dt.timedelta(minutes=1))
    client.force_login(user)

    html = client.get(f"/cme/events/{event.slug}/").content.decode()
    response = client.post(
        f"/cme/events/{event.slug}/claim/",
        {"credit_type": "AMA_PRA_1", "amount": "2.00", "attest": "yes"},
    )

    assert 'data-testid="add-AMA_PRA_1"' in html
    assert "Add to my claim: new total 2.00" in html
    assert response.status_code == 302
    page = client.get(f"/cme/events/{event.slug}/").content.decode()
    assert 'data-testid="claimed-AMA_PRA_1">2.00<' in page
    assert "first claimed 1.00; sessions added 1 time" in page
