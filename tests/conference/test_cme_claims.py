"""Claiming CME credit: every rule of CME.md "Claiming", with the database behind it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import BoardCertification, Degree, ProfessionalProfile
from conference.models import (
    Certificate,
    CertificateStatus,
    Claim,
    ClaimCorrection,
    ClaimStatus,
    CmeAuditEntry,
    Event,
    EventCredit,
    SessionKind,
)
from conference.services.cme.case import compute_event_credit
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.claims import claim_credit, correct_claim, review_claim
from conference.services.cme.designation import designate_credits
from conference.services.cme.evaluations import ensure_evaluation_form, submit_evaluation
from conference.services.cme.learner import evaluation_done
from conference.services.cme.offers import credit_offers
from conference.services.cme.records import effective_credit
from conference.services.cme.terms import ATTESTATION_TEXT, ClaimRefused
from tests.factories import SessionFactory, SpeakerFactory
from tests.support.cme import attend, evaluate, learner, make_event

pytestmark = pytest.mark.django_db


def _claim(user, event, code="AMA_PRA_1", amount="1.00", **kwargs):
    kwargs.setdefault("attested", True)
    return claim_credit(user, event, code, amount=amount, **kwargs)


def _problems(user, event, code="AMA_PRA_1", **kwargs) -> list[str]:
    with pytest.raises(ClaimRefused) as refused:
        _claim(user, event, code, **kwargs)
    return refused.value.codes


def test_credit_offers_53_minutes_physician_gets_one_credit():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=53)

    offers = {o.code: o for o in credit_offers(user, event)}

    assert offers["AMA_PRA_1"].minutes == 53
    assert offers["AMA_PRA_1"].result.credit == Decimal("1.00")
    assert offers["AMA_PRA_1"].problems == [
        ("evaluation_required", "Complete the evaluation first.")
    ]


def test_claim_credit_within_computed_is_approved_and_queues_one_certificate(
    django_capture_on_commit_callbacks, settings
):
    settings.MEDVENUE_SITE_URL = "https://cme.test"
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=53)
    evaluate(user, event)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        claim = _claim(user, event, amount="0.75")

    claim.refresh_from_db()
    assert (claim.status, claim.claimed_credit, claim.computed_credit) == (
        ClaimStatus.APPROVED,
        Decimal("0.75"),
        Decimal("1.00"),
    )
    assert claim.attestation == ATTESTATION_TEXT
    assert claim.inputs_hash.startswith("sha256:")
    assert (claim.engine_version, claim.rule_version) == ("2025.1", "2025.1")
    assert claim.credited_seconds == 53 * 60
    certificate = Certificate.objects.get(claim=claim)
    assert (certificate.version, certificate.status, certificate.credit) == (
        1,
        CertificateStatus.QUEUED,
        Decimal("0.75"),
    )
    assert certificate.verify_url == f"https://cme.test/verify/{certificate.code}/v1/"
    assert len(certificate.code) == 10
    assert len(callbacks) == 1
    assert CmeAuditEntry.objects.filter(action="claim.submitted", object_id=claim.pk).count() == 1


def test_claim_credit_same_inputs_same_hash_as_recompute():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=30)
    evaluate(user, event)

    claim = _claim(user, event, amount="0.50")

    assert claim.inputs_hash == compute_event_credit(user, event).inputs_hash


def test_claim_credit_before_session_end_is_refused():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=30)
    evaluate(user, event)

    codes = _problems(user, event, now=session.starts_at + dt.timedelta(minutes=40))

    assert codes == ["claim_not_open"]
    assert not Claim.objects.exists()


def test_claim_credit_after_window_is_refused():
    event, session = make_event()
    EventCredit.objects.filter(event=event).update(
        claim_closes_at=session.ends_at + dt.timedelta(days=1)
    )
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)

    assert _problems(user, event) == ["claim_window_closed"]


def test_claim_credit_non_physician_asking_ama_is_refused_participation_allowed():
    event, session = make_event()
    nurse = learner(degree=Degree.RN)
    attend(nurse, session, minutes=60)
    evaluate(nurse, event)

    assert _problems(nurse, event) == ["not_eligible_degree"]
    claim = _claim(nurse, event, "PARTICIPATION")
    assert (claim.credit_type, claim.status, claim.degree) == (
        "PARTICIPATION",
        ClaimStatus.APPROVED,
        "RN",
    )


def test_claim_credit_invalid_npi_is_refused():
    event, session = make_event()
    user = learner()
    ProfessionalProfile.objects.filter(user=user).update(npi="1234567890")
    attend(user, session, minutes=60)
    evaluate(user, event)

    assert _problems(user, event) == ["npi_invalid"]


def test_claim_credit_moc_missing_board_id_and_birthday_are_asked_for():
    event, session = make_event(credit_types=("MOC_ABIM",))
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)

    assert _problems(user, event, "MOC_ABIM") == ["birth_mmdd_missing", "board_id_missing"]

    profile = ProfessionalProfile.objects.get(user=user)
    BoardCertification.objects.create(profile=profile, board="ABIM", board_id="123456")
    ProfessionalProfile.objects.filter(pk=profile.pk).update(birth_month=2, birth_day=29)
    assert _claim(user, event, "MOC_ABIM").status == ClaimStatus.APPROVED


def test_claim_credit_without_evaluation_is_refused():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)

    assert _problems(user, event) == ["evaluation_required"]


def test_claim_credit_without_attestation_is_refused():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)

    assert _problems(user, event, attested=False) == ["attestation_required"]


@pytest.mark.parametrize(
    ("amount", "code"),
    [("abc", "amount_invalid"), ("-1", "amount_invalid"), ("0.3", "amount_increment")],
)
def test_claim_credit_bad_amount_is_refused(amount, code):
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)

    assert _problems(user, event, amount=amount) == [code]
    assert not Claim.objects.exists()


def test_claim_credit_over_designated_max_is_refused():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)

    assert _problems(user, event, amount="1.25") == ["amount_over_max"]


def test_claim_credit_over_computed_goes_to_review_then_approval_queues_certificate():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=30)
    evaluate(user, event)
    staff = learner(legal_name="Staff")

    claim = _claim(user, event, amount="1.00")

    assert (claim.status, claim.computed_credit) == (ClaimStatus.NEEDS_REVIEW, Decimal("0.50"))
    assert not Certificate.objects.exists()
    review_claim(claim, approve=True, actor=staff, note="Chat logs show presence.")
    assert Certificate.objects.get(claim=claim).credit == Decimal("1.00")


def test_claim_credit_double_submission_returns_the_first_claim():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)

    first = _claim(user, event, amount="0.75")
    second = _claim(user, event, amount="1.00")

    assert second.pk == first.pk
    assert Claim.objects.get().claimed_credit == Decimal("0.75")
    assert Certificate.objects.count() == 1


def test_claim_credit_faculty_of_own_session_gets_no_credit():
    event, session = make_event()
    user = learner()
    speaker = SpeakerFactory(event=event, user=user)
    session.speakers.add(speaker)
    attend(user, session, minutes=60)
    evaluate(user, event)

    offer = next(o for o in credit_offers(user, event) if o.code == "AMA_PRA_1")

    assert offer.result.credit == Decimal(0)
    assert "faculty_of_session" in offer.result.reasons
    assert _problems(user, event) == ["no_credit"]


def test_credit_offers_break_session_never_counts():
    event, session = make_event()
    pause = SessionFactory(
        event=event,
        hall=session.hall,
        kind=SessionKind.BREAK,
        is_cme_eligible=True,
        starts_at=session.ends_at,
        ends_at=session.ends_at + dt.timedelta(minutes=30),
    )
    user = learner()
    attend(user, pause, minutes=30)

    offer = next(o for o in credit_offers(user, event) if o.code == "AMA_PRA_1")

    assert (offer.minutes, offer.result.credit) == (0, Decimal(0))
    assert offer.result.reasons == ("no_eligible_attendance",)


def test_correct_claim_is_a_new_row_and_a_new_certificate_version_keeps_code(media_root):
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)
    staff = learner(legal_name="Staff")
    claim = _claim(user, event, amount="1.00")
    first = issue_certificate(claim.pk)

    correction = correct_claim(claim, credit="0.75", reason="Left early", actor=staff)
    second = issue_certificate(claim.pk)

    claim.refresh_from_db()
    first.refresh_from_db()
    assert claim.claimed_credit == Decimal("1.00")  # never edited in place
    assert list(ClaimCorrection.objects.values_list("pk", flat=True)) == [correction.pk]
    assert effective_credit(claim) == Decimal("0.75")
    assert (second.version, second.code, second.credit, second.status) == (
        2,
        first.code,
        Decimal("0.75"),
        CertificateStatus.ISSUED,
    )
    assert second.first_issued_at == first.first_issued_at
    assert first.status == CertificateStatus.SUPERSEDED


def test_correct_claim_without_reason_is_refused():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)
    claim = _claim(user, event)

    with pytest.raises(ClaimRefused) as refused:
        correct_claim(claim, credit="0.50", reason=" ", actor=user)

    assert refused.value.codes == ["reason_required"]
    assert not ClaimCorrection.objects.exists()


def test_submit_evaluation_missing_answer_is_refused_and_nothing_saved():
    event, _session = make_event()
    user = learner()
    form = ensure_evaluation_form(event)
    texts = [q.text for q in form.questions.all()]

    with pytest.raises(ClaimRefused):
        submit_evaluation(user, event, {})

    assert texts[-1] == "What will you change in your practice as a result of this activity?"
    assert not evaluation_done(user, event)


def test_claim_credit_after_attended_session_while_later_sessions_are_to_come():
    event, session = make_event(days_ago=1)
    Event.objects.filter(pk=event.pk).update(end_date=event.end_date + dt.timedelta(days=3))
    later = timezone.now() + dt.timedelta(hours=2)
    SessionFactory(
        event=event,
        hall=session.hall,
        is_cme_eligible=True,
        starts_at=later,
        ends_at=later + dt.timedelta(hours=1),
    )
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)

    offer = next(o for o in credit_offers(user, event) if o.code == "AMA_PRA_1")
    claim = _claim(user, event)

    assert (offer.problems, offer.sessions_to_come) == ([], True)
    assert claim.status == ClaimStatus.APPROVED


def test_claim_credit_without_attendance_before_any_session_ended_is_not_open():
    event, session = make_event()

    user = learner()
    offer = next(
        o for o in credit_offers(user, event, now=session.starts_at) if o.code == "AMA_PRA_1"
    )

    # no "no_credit" while the claim is not open: nothing has ended to count yet
    assert [code for code, _ in offer.problems] == ["claim_not_open", "evaluation_required"]


def test_designate_credits_is_idempotent_and_refuses_unknown_types():
    event, _session = make_event(credit_types=())

    designate_credits(event, {"AMA_PRA_1": Decimal("0.75"), "PARTICIPATION": "0.75"})
    designate_credits(event, {"AMA_PRA_1": Decimal("1.00")}, signatory_name="Dr Chair")

    assert sorted(
        EventCredit.objects.filter(event=event).values_list(
            "credit_type", "designated_max", "signatory_name"
        )
    ) == [("AMA_PRA_1", Decimal("1.00"), "Dr Chair"), ("PARTICIPATION", Decimal("0.75"), "")]
    assert event.evaluation_form.questions.count() == 3
    with pytest.raises(ValueError, match="NOPE"):
        designate_credits(event, {"NOPE": Decimal(1)})
