"""Enduring material: the activity page, claiming after the post-test, refusals, the
live/recording exclusion in both orders, certificates, verification, transcript, permissions."""

import base64
import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from conference.models import Claim, IssuedCredential, WatchProgress
from conference.services import posttests
from conference.services.cme.case import compute_event_credit
from conference.services.cme.certificates import certificate_file, issue_certificate
from conference.services.cme.claims import claim_credit, claim_enduring_credit
from conference.services.cme.enduring import date_problems
from conference.services.cme.offers import credit_offers
from conference.services.cme.terms import ClaimRefused
from tests.factories import DisclosureFactory, SessionFactory, SpeakerFactory
from tests.support.cme import attend, evaluate, learner, make_event
from tests.support.posttest import answers, make_enduring, ready_recording, registered_learner

pytestmark = pytest.mark.django_db


def _activity(**options):
    event, session = make_event()
    activity = make_enduring(session, **options)
    return event, session, activity


def _passed(activity, user=None):
    """A registered learner who evaluated the activity and passed its post-test."""
    user = user or registered_learner(activity.session.event)
    evaluate(user, activity.session.event)
    posttests.submit_attempt(user, activity.post_test, answers(activity.post_test), number=1)
    return user


def _next_session(session):
    """A credit-eligible hour in the same hall, right after `session`."""
    return SessionFactory(
        event=session.event,
        hall=session.hall,
        is_cme_eligible=True,
        designated_minutes=60,
        starts_at=session.ends_at,
        ends_at=session.ends_at + dt.timedelta(hours=1),
    )


def _text(path: Path) -> str:
    return " ".join(PdfReader(path).pages[0].extract_text().split())


# Claiming ------------------------------------------------------------------------------------


def test_enduring_claim_gives_designated_credit_and_certificate(media_root):
    event, session, activity = _activity()
    recording = ready_recording(session)
    user = _passed(activity)
    WatchProgress.objects.create(recording=recording, user=user, watched_seconds=Decimal("90"))

    claim = claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)
    certificate = issue_certificate(claim.pk)

    # Its verifiable credential is issued with it and names the enduring material.
    token = IssuedCredential.objects.get(certificate=certificate).token
    body = token.split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert "for the enduring material" in payload["credentialSubject"]["narrative"]
    assert (
        "designates this enduring material"
        in (payload["credentialSubject"]["achievement"]["description"])
    )
    assert (claim.enduring_id, claim.event_id, claim.status, claim.claimed_credit) == (
        activity.pk,
        event.pk,
        "approved",
        Decimal("1.00"),
    )
    assert claim.engine_version == "enduring-1" and claim.inputs_hash.startswith("sha256:")
    audit = claim_audit(claim)
    assert (audit["watched_seconds"], audit["post_test_score"]) == ("90.000", "100.00")
    text = _text(certificate_file(certificate))
    release, expiry = activity.release_date, activity.expiry_date
    assert "completed the enduring material" in text
    assert (
        f"Enduring material · released {release.day} {release:%B %Y} · "
        f"expires {expiry.day} {expiry:%B %Y}"
    ) in text
    assert "Live virtual activity" not in text
    assert (
        "Society of Test Medicine designates this enduring material for a maximum of 1.00 AMA "
        "PRA Category 1 Credit™." in text
    )
    assert "Heart failure update (on demand)" in text


def claim_audit(claim):
    from conference.models import CmeAuditEntry

    return CmeAuditEntry.objects.get(action="claim.submitted", object_id=claim.pk).detail


def test_statement_override_is_printed_verbatim(media_root):
    _event, session, activity = _activity()
    activity.credits.filter(credit_type="AMA_PRA_1").update(
        statement_override="The Board designates this enduring material for 1.00 credit. Exact."
    )
    ready_recording(session)
    user = _passed(activity)

    claim = claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)

    text = _text(certificate_file(issue_certificate(claim.pk)))
    assert "The Board designates this enduring material for 1.00 credit. Exact." in text


def test_enduring_claim_is_once_per_learner_activity_and_type(media_root):
    _event, session, activity = _activity()
    ready_recording(session)
    user = _passed(activity)

    first = claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)
    second = claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)

    assert first.pk == second.pk
    assert Claim.objects.filter(user=user, enduring=activity).count() == 1


def _refusal(activity, user, code="AMA_PRA_1", **kwargs):
    with pytest.raises(ClaimRefused) as refused:
        claim_enduring_credit(user, activity, code, attested=True, **kwargs)
    return refused.value.codes


def test_claim_before_the_post_test_is_passed_is_refused(media_root):
    event, session, activity = _activity()
    ready_recording(session)
    user = registered_learner(event)
    evaluate(user, event)

    assert _refusal(activity, user) == ["post_test_required"]


def test_claim_before_the_evaluation_is_refused(media_root):
    event, session, activity = _activity()
    ready_recording(session)
    user = registered_learner(event)
    posttests.submit_attempt(user, activity.post_test, answers(activity.post_test), number=1)

    assert _refusal(activity, user) == ["evaluation_required"]


def test_claim_before_release_is_refused(media_root):
    _event, session, activity = _activity(release_days=3)
    ready_recording(session)
    user = _passed(activity)

    assert _refusal(activity, user) == ["not_released"]


def test_claim_after_expiry_is_refused_but_on_the_expiry_day_allowed(media_root):
    _event, session, activity = _activity(release_days=-30, expiry_days=29)
    ready_recording(session)
    user = _passed(activity)

    assert _refusal(activity, user) == ["expired"]
    later_today = timezone.now() - dt.timedelta(days=1)
    claim = claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True, now=later_today)
    assert claim.status == "approved"


def test_claim_of_unpublished_activity_or_without_recording_is_refused(media_root):
    _event, _session, activity = _activity(published=False)
    user = _passed(activity)

    assert _refusal(activity, user) == ["not_published", "no_recording"]


def test_nurse_gets_participation_not_ama(media_root):
    _event, session, activity = _activity()
    ready_recording(session)
    nurse = _passed(activity, registered_learner(activity.session.event, degree="RN"))

    assert _refusal(activity, nurse) == ["not_eligible_degree"]
    claim = claim_enduring_credit(nurse, activity, "PARTICIPATION", attested=True)
    assert claim.claimed_credit == Decimal("1.00")


def test_claim_needs_attestation_and_required_ids(media_root):
    _event, session = make_event()
    activity = make_enduring(session, credits=(("MOC_ABIM", "1.00"),))
    ready_recording(session)
    user = _passed(activity)

    with pytest.raises(ClaimRefused) as refused:
        claim_enduring_credit(user, activity, "MOC_ABIM", attested=False)

    assert refused.value.codes == ["birth_mmdd_missing", "board_id_missing", "attestation_required"]


# Live versus recording ---------------------------------------------------------------------


def test_enduring_claim_refused_after_live_claim_covering_the_session(media_root):
    event, session, activity = _activity()
    ready_recording(session)
    user = _passed(activity)
    attend(user, session, minutes=60)
    evaluate(user, event)
    claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)

    assert _refusal(activity, user) == ["claimed_live"]
    assert _refusal(activity, user, "PARTICIPATION") == ["claimed_live"]


def test_live_claim_of_other_sessions_does_not_block_the_recording(media_root):
    event, session, activity = _activity()
    other = _next_session(session)
    ready_recording(session)
    user = _passed(activity)
    attend(user, other, minutes=60)
    evaluate(user, event)
    claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)

    claim = claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)

    assert claim.status == "approved"


def test_live_credit_after_enduring_claim_leaves_the_session_out(media_root):
    event, session, activity = _activity()
    other = _next_session(session)
    ready_recording(session)
    user = _passed(activity)
    attend(user, session, minutes=60)
    attend(user, other, minutes=30)
    evaluate(user, event)
    assert compute_event_credit(user, event).total_seconds == 90 * 60
    claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)

    offer = next(o for o in credit_offers(user, event) if o.code == "AMA_PRA_1")
    live = claim_credit(user, event, "AMA_PRA_1", amount="0.50", attested=True)

    assert offer.credited_seconds == 30 * 60
    assert offer.result.credit == Decimal("0.50")
    assert f"“{session.title}” is not counted: you claimed its recording as enduring material." in (
        offer.reasons
    )
    assert (live.enduring_id, live.credited_seconds, live.status) == (None, 30 * 60, "approved")
    assert Claim.objects.filter(user=user, credit_type="AMA_PRA_1").count() == 2


# Pages, verification, transcript, permissions -----------------------------------------------


def test_enduring_page_shows_dates_designation_disclosures_and_pass_score(client):
    event, session, activity = _activity()
    speaker = SpeakerFactory(event=event, name="Dr. Disclosed")
    session.speakers.add(speaker)
    DisclosureFactory(speaker=speaker, company="Acme Pharma")
    recording = ready_recording(session)
    user = registered_learner(event)
    client.force_login(user)

    html = client.get(reverse("cme:enduring", args=[activity.pk])).content.decode()

    assert activity.release_date.strftime("%B %Y") in html
    assert "Pass score <strong>70%</strong>" in html
    assert (
        "designates this enduring material for a maximum of 1.00 "
        '<em class="credit-phrase">AMA\u00a0PRA' in html
    )
    assert "Dr. Disclosed" in html and "Acme Pharma" in html
    assert reverse("cme:post-test", args=[activity.post_test_id]) in html
    assert 'data-problem="post_test_required"' in html
    assert "The recording is not available yet." not in html
    assert recording.pk


def test_enduring_page_full_flow_through_the_views(client, media_root):
    event, session, activity = _activity()
    ready_recording(session)
    user = registered_learner(event)
    client.force_login(user)
    test = activity.post_test
    data = {f"q{k}": v for k, v in answers(test).items()} | {"attempt": "1"}
    client.post(reverse("cme:post-test-take", args=[test.pk]), data)
    page = client.get(reverse("cme:enduring", args=[activity.pk]))
    questions = page.context["questions"]
    page_url = reverse("cme:enduring", args=[activity.pk])
    evaluation = {
        f"q{q.pk}": "4" if q.kind == "likert" else "Check lead placement first." for q in questions
    }
    evaluated = client.post(
        reverse("cme:evaluation", args=[event.slug]), evaluation | {"next": page_url}
    )
    offsite = client.post(
        reverse("cme:evaluation", args=[event.slug]), {"next": "https://evil.example/"}
    )

    assert 'data-problem="evaluation_required"' in page.content.decode()
    assert evaluated.status_code == 302 and evaluated.url == page_url
    assert offsite.url == reverse("cme:event", args=[event.slug])
    client.post(
        reverse("cme:enduring-claim", args=[activity.pk]),
        {"credit_type": "AMA_PRA_1", "attest": "yes"},
    )
    claim = Claim.objects.get(user=user, enduring=activity)
    certificate = issue_certificate(claim.pk)  # what the Celery task runs
    html = client.get(reverse("cme:enduring", args=[activity.pk])).content.decode()

    assert certificate.status == "issued"
    assert reverse("cme:certificate-download", args=[certificate.pk]) in html
    response = client.get(reverse("cme:certificate-download", args=[certificate.pk]))
    assert response.status_code == 200


def test_unpublished_activity_page_is_not_found(client):
    _event, _session, activity = _activity(published=False)
    client.force_login(learner())

    assert client.get(reverse("cme:enduring", args=[activity.pk])).status_code == 404


def test_verify_and_transcript_show_enduring_material(client, media_root):
    event, session, activity = _activity()
    ready_recording(session)
    user = _passed(activity)
    claim = claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)
    certificate = issue_certificate(claim.pk)
    client.force_login(user)

    data = client.get(reverse("cme-verify", args=[certificate.code]), {"format": "json"}).json()
    rows = list(csv.reader(io.StringIO(client.get(reverse("cme:transcript-csv")).content.decode())))

    assert (data["activity"], data["activity_start"], data["activity_end"]) == (
        "Heart failure update (on demand)",
        activity.release_date.isoformat(),
        activity.expiry_date.isoformat(),
    )
    assert data["enduring_material"]["event"] == event.title
    page = client.get(reverse("cme-verify", args=[certificate.code])).content.decode()
    assert f"enduring material of {event.title}" in page
    assert f"released {activity.release_date.isoformat()}" in page
    assert rows[1][0] == "Heart failure update (on demand)"
    assert rows[1][2:4] == [activity.release_date.isoformat(), activity.expiry_date.isoformat()]
    assert rows[1][-1] == "Enduring material"
    pdf = client.get(reverse("cme:transcript-pdf")).content
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Heart failure update (on demand) — enduring material" in text


def test_another_learners_enduring_certificate_is_not_found(client, media_root):
    _event, session, activity = _activity()
    ready_recording(session)
    user = _passed(activity)
    claim = claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)
    certificate = issue_certificate(claim.pk)
    other = registered_learner(activity.session.event, legal_name="Curious Other")
    client.force_login(other)

    assert client.get(reverse("cme:certificate-download", args=[certificate.pk])).status_code == 404
    html = client.get(reverse("cme:enduring", args=[activity.pk])).content.decode()
    assert certificate.code not in html


def test_public_recordings_let_any_signed_in_user_take_the_enduring_test(media_root):
    event, _session, activity = _activity()
    outsider = learner(legal_name="Public Viewer")
    assert not posttests.may_take(outsider, activity.post_test)

    event.recordings_public = True
    event.save(update_fields=["recordings_public"])

    assert posttests.may_take(outsider, activity.post_test)


# Admin ---------------------------------------------------------------------------------------

ENDURING_ADMIN = "/admin/conference/enduringactivity/"


def _staff_of(event):
    from tests.factories import MembershipFactory

    return MembershipFactory(organizer=event.organizer).user


def _activity_post(session, test, *, release, review, expiry):
    return {
        "session": str(session.pk),
        "title": "",
        "is_published": "on",
        "release_date": release.isoformat(),
        "review_date": review.isoformat(),
        "expiry_date": expiry.isoformat(),
        "post_test": str(test.pk),
        "credits-TOTAL_FORMS": "1",
        "credits-INITIAL_FORMS": "0",
        "credits-MIN_NUM_FORMS": "0",
        "credits-MAX_NUM_FORMS": "1000",
        "credits-0-credit_type": "AMA_PRA_1",
        "credits-0-designated_max": "1.25",
        "credits-0-activity_number": "",
        "credits-0-statement_override": "",
    }


def test_date_problems_follow_the_three_year_rule():
    day = dt.date(2024, 2, 29)

    assert date_problems(release=day, review=day, expiry=dt.date(2027, 2, 28)) == {}
    assert date_problems(release=day, review=dt.date(2024, 1, 1), expiry=dt.date(2027, 3, 1)) == {
        "expiry_date": "Enduring material expires at most 3 years after its release or latest "
        "review: 2027-02-28 at the latest."
    }
    assert date_problems(release=day, review=dt.date(2025, 1, 1), expiry=day) == {
        "expiry_date": "The expiry date must be after the release date.",
        "review_date": "The review date cannot be after the expiry date.",
    }


def test_admin_creates_activity_with_credit_and_validates_dates(client):
    from tests.support.posttest import make_test

    event, session = make_event()
    test = make_test(event)
    client.force_login(_staff_of(event))
    today = timezone.localdate()

    refused = client.post(
        f"{ENDURING_ADMIN}add/",
        _activity_post(
            session, test, release=today, review=today, expiry=today + dt.timedelta(days=4 * 365)
        ),
    )
    created = client.post(
        f"{ENDURING_ADMIN}add/",
        _activity_post(
            session, test, release=today, review=today, expiry=today + dt.timedelta(days=365)
        ),
    )

    assert "expires at most 3 years after its release" in refused.content.decode()
    assert created.status_code == 302
    activity = session.enduring
    assert [(c.credit_type, c.designated_max) for c in activity.credits.all()] == [
        ("AMA_PRA_1", Decimal("1.25"))
    ]


def test_admin_refuses_a_post_test_of_another_event(client):
    from tests.support.posttest import make_test

    event, session = make_event()
    other_event, _ = make_event(organizer=event.organizer)
    client.force_login(_staff_of(event))
    today = timezone.localdate()

    response = client.post(
        f"{ENDURING_ADMIN}add/",
        _activity_post(
            session,
            make_test(other_event),
            release=today,
            review=today,
            expiry=today + dt.timedelta(days=30),
        ),
    )

    assert "Choose a post-test of the session&#x27;s event." in response.content.decode()


def test_admin_is_scoped_and_lists_the_activitys_claims(client, media_root):
    event, session, activity = _activity()
    ready_recording(session)
    user = _passed(activity)
    claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)
    _other_event, other_session, other_activity = _activity()
    other_session.title = "Their private session"
    other_session.save()
    client.force_login(_staff_of(event))

    page = client.get(f"{ENDURING_ADMIN}{activity.pk}/change/").content.decode()
    listing = client.get(ENDURING_ADMIN).content.decode()
    claim = Claim.objects.get(enduring=activity)
    claim_page = client.get(f"/admin/conference/claim/{claim.pk}/change/").content.decode()

    assert user.email in page and "1.00" in page
    assert "Their private session" not in page and "Their private session" not in listing
    assert client.get(f"{ENDURING_ADMIN}{other_activity.pk}/change/").status_code == 302
    assert "post-test pass score 70%" in claim_page
    assert "100.00" in claim_page


# The demo ------------------------------------------------------------------------------------


def test_seed_demo_offers_enduring_material_the_physician_can_claim(settings, media_root):
    import io

    from django.core.management import call_command

    from accounts.models import User

    settings.MACHINE_TIME_ZONE = "America/Chicago"
    now = timezone.now()
    call_command(
        "seed_demo", "--at", (now - dt.timedelta(hours=3)).isoformat(), stdout=io.StringIO()
    )
    call_command("seed_demo", "--at", now.isoformat(), stdout=io.StringIO())  # hours later

    from conference.models import EnduringActivity, PostTest

    activity = EnduringActivity.objects.get()
    assert PostTest.objects.count() == 1 and activity.post_test.questions.count() == 4
    assert (activity.post_test.pass_percent, activity.post_test.max_attempts) == (70, 3)
    assert activity.session.ends_at < now
    assert activity.release_date == timezone.localdate(now, activity.session.event.tzinfo)
    assert not activity.session.event.credits.exclude(post_test=None).exists()
    physician = User.objects.get(email="physician@medvenue.test")
    ready_recording(activity.session)
    _passed(activity, physician)
    claim = claim_enduring_credit(physician, activity, "AMA_PRA_1", attested=True)
    text = _text(certificate_file(issue_certificate(claim.pk)))
    assert "designates this enduring material for a maximum of 0.75 AMA PRA" in text
