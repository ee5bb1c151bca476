"""CME admin: scoped to the organizer, claims with segments, corrections, review, revoke, bulk."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conference.models import Certificate, CertificateStatus, Claim, ClaimCorrection, ClaimStatus
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.claims import claim_credit
from tests.factories import MembershipFactory
from tests.support.cme import attend, evaluate, learner, make_event

pytestmark = pytest.mark.django_db

CLAIMS = "/admin/conference/claim/"


def _claim(*, legal_name="Grace Hopper", minutes=60, amount="1.00", event_and_session=None):
    event, session = event_and_session or make_event()
    user = learner(legal_name=legal_name)
    attend(user, session, minutes=minutes)
    evaluate(user, event)
    return claim_credit(user, event, "AMA_PRA_1", amount=amount, attested=True)


def _staff_of(event):
    return MembershipFactory(organizer=event.organizer).user


def test_claim_changelist_shows_only_own_organizer_claims(client):
    mine = _claim(legal_name="Mine Learner")
    theirs = _claim(legal_name="Theirs Learner")
    client.force_login(_staff_of(mine.event))

    html = client.get(CLAIMS).content.decode()

    assert mine.user.email in html
    assert theirs.user.email not in html
    assert client.get(f"{CLAIMS}{theirs.pk}/change/").status_code == 302
    assert client.get(f"{CLAIMS}{theirs.pk}/do/correct/").status_code == 302


def test_claim_change_page_shows_attendance_segments(client):
    claim = _claim(minutes=53)
    client.force_login(_staff_of(claim.event))

    html = client.get(f"{CLAIMS}{claim.pk}/change/").content.decode()

    assert "09:00:00–09:53:00 (leave)" in html
    assert "Total credited: 53 min — same inputs as the claim." in html


def test_claim_correction_through_admin_is_a_new_row(client, django_capture_on_commit_callbacks):
    claim = _claim()
    staff = _staff_of(claim.event)
    client.force_login(staff)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            f"{CLAIMS}{claim.pk}/do/correct/", {"credit": "0.50", "reason": "Left at 09:30"}
        )

    assert response.status_code == 302
    correction = ClaimCorrection.objects.get()
    assert (correction.credit, correction.reason, correction.created_by) == (
        Decimal("0.50"),
        "Left at 09:30",
        staff,
    )
    assert Claim.objects.get().claimed_credit == Decimal("1.00")
    assert list(Certificate.objects.values_list("version", "credit")) == [
        (2, Decimal("0.50")),
        (1, Decimal("1.00")),
    ]


def test_claim_correction_without_reason_shows_error(client):
    claim = _claim()
    client.force_login(_staff_of(claim.event))

    response = client.post(f"{CLAIMS}{claim.pk}/do/correct/", {"credit": "0.50", "reason": ""})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not ClaimCorrection.objects.exists()


def test_claim_review_approve_through_admin(client, settings):
    settings.MEDVENUE_SITE_URL = "https://cme.medvenue.example"
    claim = _claim(minutes=30, amount="1.00")
    client.force_login(_staff_of(claim.event))

    client.post(f"{CLAIMS}{claim.pk}/do/approve/", {"reason": "Verified by session chair"})

    claim.refresh_from_db()
    assert (claim.status, claim.review_note) == (ClaimStatus.APPROVED, "Verified by session chair")
    certificate = Certificate.objects.get(claim=claim)
    assert certificate.status == CertificateStatus.QUEUED
    # The site address of the settings (README), not the admin request's host.
    assert certificate.verify_url == (f"https://cme.medvenue.example/verify/{certificate.code}/v1/")


def test_correction_and_bulk_issue_in_admin_print_the_site_url(client, settings):
    settings.MEDVENUE_SITE_URL = "https://cme.medvenue.example"
    claim = _claim()
    client.force_login(_staff_of(claim.event))

    client.post(f"{CLAIMS}{claim.pk}/do/correct/", {"credit": "0.75", "reason": "Left early"})
    Certificate.objects.filter(claim=claim).update(status=CertificateStatus.FAILED)
    client.post(CLAIMS, {"action": "bulk_issue_certificates", "_selected_action": [claim.pk]})

    urls = list(Certificate.objects.filter(claim=claim).values_list("verify_url", flat=True))
    assert len(urls) == 2
    assert all(url.startswith("https://cme.medvenue.example/verify/") for url in urls)


def test_claim_revoke_through_admin(client, media_root):
    claim = _claim()
    issue_certificate(claim.pk)
    client.force_login(_staff_of(claim.event))

    client.post(f"{CLAIMS}{claim.pk}/do/revoke/", {"reason": "Duplicate account"})

    certificate = Certificate.objects.get(claim=claim)
    assert (certificate.status, certificate.revoked_reason) == ("revoked", "Duplicate account")


def test_bulk_issue_certificates_sends_one_group(client, django_capture_on_commit_callbacks):
    event_and_session = make_event()
    claims = [_claim(legal_name=f"L{i}", event_and_session=event_and_session) for i in range(3)]
    Certificate.objects.filter(claim=claims[0]).update(status=CertificateStatus.FAILED)
    client.force_login(_staff_of(claims[0].event))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            CLAIMS,
            {"action": "bulk_issue_certificates", "_selected_action": [c.pk for c in claims]},
            follow=True,
        )

    assert "3 certificate(s) sent to the workers" in response.content.decode()
    assert len(callbacks) == 1
    assert Certificate.objects.count() == 3


def _changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CLAIMS).status_code == 200
    return len(queries)


def test_claim_changelist_query_count_does_not_grow(client):
    event_and_session = make_event()
    first = _claim(legal_name="L0", event_and_session=event_and_session)
    client.force_login(_staff_of(first.event))
    one = _changelist_queries(client)
    for i in range(1, 3):
        _claim(legal_name=f"L{i}", event_and_session=event_and_session)

    assert _changelist_queries(client) == one
