"""Attendee CME pages, certificate downloads (object permissions), verification and transcript."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import BoardCertification, Degree, ProfessionalProfile, StateLicense
from conference.models import Certificate, Claim, ClaimStatus, EvaluationResponse, Registration
from conference.services.cme.certificates import issue_certificate, revoke_certificate
from conference.services.cme.claims import claim_credit
from conference.services.cme.evaluations import ensure_evaluation_form
from conference.services.cme.printed import certificate_data
from conference.services.cme.transcript import transcript_rows
from tests.factories import DisclosureFactory, MembershipFactory, OrganizerFactory, SpeakerFactory
from tests.support.cme import attend, evaluate, learner, make_event

pytestmark = pytest.mark.django_db

SECRET_NPI = "1234567893"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _issued(*, legal_name="Grace Hopper", event_kw=None):
    """A learner with identifiers that must never leak, and an issued certificate."""
    event, session = make_event(**(event_kw or {}))
    user = learner(legal_name=legal_name, npi=SECRET_NPI, birth_month=2, birth_day=29)
    profile = ProfessionalProfile.objects.get(user=user)
    StateLicense.objects.create(profile=profile, state="CA", number="LIC-SECRET-77")
    BoardCertification.objects.create(profile=profile, board="ABIM", board_id="BOARD-SECRET-42")
    attend(user, session, minutes=60)
    evaluate(user, event)
    claim = claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)
    return user, event, issue_certificate(claim.pk)


def test_my_cme_page_shows_minutes_credit_and_reasons(client):
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=7)
    client.force_login(user)

    response = client.get(reverse("cme:event", kwargs={"event_slug": event.slug}))

    html = response.content.decode()
    assert response.status_code == 200
    assert "7 min</strong> of credit-eligible attendance" in html
    assert "Your attended time is below the minimum for credit." in html
    assert 'data-problem="evaluation_required"' in html
    assert "What will you change in your practice" in html


def test_my_cme_page_asks_for_missing_ids_with_profile_link(client):
    event, session = make_event(credit_types=("ACPE",))
    user = learner(degree=Degree.PHARMD)
    attend(user, session, minutes=60)
    client.force_login(user)

    html = client.get(reverse("cme:event", kwargs={"event_slug": event.slug})).content.decode()

    assert "Your NABP e-Profile ID is missing." in html
    assert "Your birth month and day are missing." in html
    assert reverse("accounts:profile") in html


@pytest.mark.parametrize("registration", [None, "cancelled", "other-event"])
def test_evaluation_from_someone_not_registered_is_refused_and_nothing_saved(client, registration):
    event, _session = make_event()
    user = learner()
    if registration == "cancelled":
        Registration.objects.create(user=user, event=event, status="cancelled")
    elif registration == "other-event":
        Registration.objects.create(user=user, event=make_event()[0])
    client.force_login(user)
    form = ensure_evaluation_form(event)
    answers = {
        f"q{q.pk}": "5" if q.kind == "likert" else '=HYPERLINK("http://x")'
        for q in form.questions.all()
    }

    response = client.post(
        reverse("cme:evaluation", kwargs={"event_slug": event.slug}), answers, follow=True
    )

    assert "Only attendees registered for this event can evaluate it." in (
        response.content.decode()
    )
    assert EvaluationResponse.objects.count() == 0


def test_my_cme_page_requires_login(client):
    event, _session = make_event()

    response = client.get(reverse("cme:event", kwargs={"event_slug": event.slug}))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_claim_flow_through_pages(client, django_capture_on_commit_callbacks, settings):
    settings.MEDVENUE_SITE_URL = ""
    event, session = make_event()
    user = learner()
    Registration.objects.create(user=user, event=event)
    attend(user, session, minutes=45)
    client.force_login(user)
    form = ensure_evaluation_form(event)
    answers = {
        f"q{q.pk}": "5" if q.kind == "likert" else "Screen earlier." for q in form.questions.all()
    }

    client.post(reverse("cme:evaluation", kwargs={"event_slug": event.slug}), answers)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("cme:claim", kwargs={"event_slug": event.slug}),
            {"credit_type": "AMA_PRA_1", "amount": "0.75", "attest": "yes"},
            follow=True,
        )

    html = response.content.decode()
    assert EvaluationResponse.objects.filter(user=user).count() == 1
    claim = Claim.objects.get(user=user)
    assert (claim.claimed_credit, claim.status) == (Decimal("0.75"), ClaimStatus.APPROVED)
    assert "your certificate is being prepared" in html
    assert '<meta http-equiv="refresh"' in html
    # The site address of the settings (unset: the `make run` address), never the request's.
    verify_url = Certificate.objects.get(claim=claim).verify_url
    assert verify_url.startswith("http://127.0.0.1:8000/verify/")


def test_claim_page_refusal_shows_reasons_and_saves_nothing(client):
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    client.force_login(user)

    response = client.post(
        reverse("cme:claim", kwargs={"event_slug": event.slug}),
        {"credit_type": "AMA_PRA_1", "amount": "1.00"},
        follow=True,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Complete the evaluation first." in html
    assert "Please attest" in html
    assert not Claim.objects.exists()


def test_claim_page_unknown_credit_type_is_a_clear_error(client):
    event, _session = make_event()
    user = learner()
    client.force_login(user)

    response = client.post(
        reverse("cme:claim", kwargs={"event_slug": event.slug}),
        {"credit_type": "NOPE", "amount": "x"},
        follow=True,
    )

    assert response.status_code == 200
    assert "This event does not offer that credit." in response.content.decode()


def test_download_certificate_by_owner(client, media_root):
    user, _event, certificate = _issued()
    client.force_login(user)

    response = client.get(reverse("cme:certificate-download", args=[certificate.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert "Grace Hopper" in PdfReader(io.BytesIO(body)).pages[0].extract_text()


def test_download_certificate_other_learner_gets_404(client, media_root):
    _owner, _event, certificate = _issued()
    other_user, _other_event, other_certificate = _issued(legal_name="Other Person")
    client.force_login(other_user)

    response = client.get(reverse("cme:certificate-download", args=[certificate.pk]))

    assert response.status_code == 404
    assert (
        client.get(reverse("cme:certificate-download", args=[other_certificate.pk])).status_code
        == 200
    )


def test_download_certificate_staff_of_organizer_only(client, media_root):
    _owner, event, certificate = _issued()
    own_staff = MembershipFactory(organizer=event.organizer).user
    own_moderator = MembershipFactory(organizer=event.organizer, role="moderator").user
    foreign_staff = MembershipFactory(organizer=OrganizerFactory()).user

    client.force_login(own_moderator)
    assert client.get(reverse("cme:certificate-download", args=[certificate.pk])).status_code == 404
    client.force_login(foreign_staff)
    assert client.get(reverse("cme:certificate-download", args=[certificate.pk])).status_code == 404
    client.force_login(own_staff)
    assert client.get(reverse("cme:certificate-download", args=[certificate.pk])).status_code == 200


def test_download_certificate_anonymous_redirects_to_login(client, media_root):
    _owner, _event, certificate = _issued()

    response = client.get(reverse("cme:certificate-download", args=[certificate.pk]))

    assert response.status_code == 302


def test_certificate_files_not_served_by_media_url(client, media_root):
    _owner, _event, certificate = _issued()

    response = client.get(f"/media/{certificate.file_path}")

    assert response.status_code == 404


def test_verify_page_shows_status_name_and_credits_never_ids(client, media_root):
    _user, event, certificate = _issued()

    response = client.get(reverse("cme-verify", args=[certificate.code]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="valid"' in html
    assert "Grace Hopper, MD" in html
    assert event.title in html
    assert (
        '1.00 <em class="credit-phrase">AMA\u00a0PRA\u00a0Category\u00a01\u00a0Credit™</em>'
    ) in html
    for secret in (SECRET_NPI, "LIC-SECRET-77", "BOARD-SECRET-42", "02-29", "29 Feb"):
        assert secret not in html


def test_verify_json_has_exactly_the_public_fields(client, media_root):
    _user, event, certificate = _issued()

    data = client.get(reverse("cme-verify", args=[certificate.code]), {"format": "json"}).json()

    assert data == {
        "code": certificate.code,
        "status": "valid",
        "version": 1,
        "name": "Grace Hopper",
        "degree": "MD",
        "activity": event.title,
        "provider": "Society of Test Medicine",
        "activity_start": event.start_date.isoformat(),
        "activity_end": event.end_date.isoformat(),
        "credit_type": "AMA PRA Category 1 Credit™",
        "credits": "1.00",
        "first_issued": timezone.localdate(certificate.first_issued_at, event.tzinfo).isoformat(),
        "issued": timezone.localdate(certificate.issued_at, event.tzinfo).isoformat(),
        "revoked_reason": "",
    }


def test_verify_dates_are_the_days_the_certificate_prints_in_the_event_zone(client, media_root):
    _user, _event, certificate = _issued(event_kw={"timezone": "Pacific/Kiritimati"})  # UTC+14
    late_evening_utc = dt.datetime(2025, 5, 3, 22, 30, tzinfo=dt.UTC)  # 4 May in the event's zone
    Certificate.objects.filter(pk=certificate.pk).update(
        first_issued_at=late_evening_utc, issued_at=late_evening_utc
    )
    certificate.refresh_from_db()

    data = client.get(reverse("cme-verify", args=[certificate.code]), {"format": "json"}).json()
    printed = certificate_data(certificate)

    assert (data["first_issued"], data["issued"]) == ("2025-05-04", "2025-05-04")
    assert printed.first_issued_on == dt.date(2025, 5, 4)


def test_verify_unknown_code_is_plain_not_found(client, media_root):
    _issued()

    response = client.get(reverse("cme-verify", args=["ZZZZZZZZZZ"]))
    as_json = client.get(reverse("cme-verify", args=["ZZZZZZZZZZ"]), {"format": "json"})

    assert response.status_code == 404
    assert "Not found" in response.content.decode()
    assert "Grace Hopper" not in response.content.decode()
    assert (as_json.status_code, as_json.json()) == (404, {"status": "not_found"})


def test_verify_is_rate_limited(client, media_root):
    for _ in range(30):
        assert client.get(reverse("cme-verify", args=["ZZZZZZZZZZ"])).status_code == 404

    response = client.get(reverse("cme-verify", args=["ZZZZZZZZZZ"]))

    assert response.status_code == 429


def test_transcript_csv_lists_credits_across_events(client, media_root):
    user, event, _certificate = _issued()
    second_event, session = make_event(days_ago=5)
    attend(user, session, minutes=30)
    evaluate(user, second_event)
    claim_credit(user, second_event, "AMA_PRA_1", amount="0.50", attested=True)
    _other, _other_event, _other_certificate = _issued(legal_name="Not Me")
    client.force_login(user)

    response = client.get(reverse("cme:transcript-csv"))

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:6] == [
        "activity",
        "provider",
        "start_date",
        "end_date",
        "credit_type",
        "credits",
    ]
    assert sorted((r[0], r[5]) for r in rows[1:]) == sorted(
        [(event.title, "1.00"), (second_event.title, "0.50")]
    )


def test_transcript_pdf_has_name_and_total(client, media_root):
    user, event, _certificate = _issued()
    client.force_login(user)

    response = client.get(reverse("cme:transcript-pdf"))

    text = " ".join(PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert response["Content-Type"] == "application/pdf"
    assert "Grace Hopper" in text
    assert event.title in text
    assert "Total AMA PRA Category 1 Credit™: 1.00" in text


def test_reissue_after_name_change_queues_new_version_with_same_code(client, media_root):
    user, event, certificate = _issued()
    ProfessionalProfile.objects.filter(user=user).update(legal_name="Grace B. Hopper")
    client.force_login(user)
    page = reverse("cme:event", kwargs={"event_slug": event.slug})

    assert "Your legal name has changed" in client.get(page).content.decode()
    client.post(reverse("cme:reissue", kwargs={"event_slug": event.slug}))

    versions = list(
        Certificate.objects.filter(claim=certificate.claim).values_list(
            "version", "code", "learner_name", "status"
        )
    )
    assert versions == [
        (2, certificate.code, "Grace B. Hopper", "queued"),
        (1, certificate.code, "Grace Hopper", "issued"),
    ]


def test_my_cme_page_shows_faculty_disclosures(client):
    event, _session = make_event()
    DisclosureFactory(speaker=SpeakerFactory(event=event, name="Dr Paid"), company="Acme Pharma")
    SpeakerFactory(event=event, name="Dr Clean", has_nothing_to_disclose=True)
    client.force_login(learner())

    html = client.get(reverse("cme:event", kwargs={"event_slug": event.slug})).content.decode()

    assert "Dr Paid, MD</strong>:\n      Acme Pharma (Consultant)" in html
    assert "Dr Clean, MD</strong>:\n      nothing to disclose" in html


def test_transcript_leaves_out_revoked_certificates(client, media_root):
    user, _event, certificate = _issued()
    second_event, session = make_event(days_ago=5)
    attend(user, session, minutes=30)
    evaluate(user, second_event)
    claim_credit(user, second_event, "AMA_PRA_1", amount="0.50", attested=True)
    revoke_certificate(certificate.claim, reason="Duplicate", actor=user)

    rows = transcript_rows(user)

    assert [(r.event_title, r.credit) for r in rows] == [(second_event.title, Decimal("0.50"))]


def test_evaluation_errors_show_next_to_each_question_and_keep_answers(client):
    event, _session = make_event()
    user = learner()
    Registration.objects.create(user=user, event=event)
    client.force_login(user)
    questions = list(ensure_evaluation_form(event).questions.all())
    likert = next(q for q in questions if q.kind == "likert")
    text = next(q for q in questions if q.kind == "text")
    answers = {f"q{likert.pk}": "4", f"q{text.pk}": ""}

    response = client.post(
        reverse("cme:evaluation", kwargs={"event_slug": event.slug}), answers, follow=True
    )

    html = response.content.decode()
    missing = [q for q in questions if (q.required and f"q{q.pk}" not in answers) or q == text]
    assert f'<p class="field-error" id="q{text.pk}-error">Please answer: {text.text}</p>' in html
    assert html.count('class="field-error"') == len(missing)
    assert f'name="q{likert.pk}" value="4" checked' in html
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        f"The evaluation is not sent yet: {len(missing)} answers need your attention "
        "(marked below)."
    ]
    assert not EvaluationResponse.objects.exists()
    # shown once: the next visit starts clean
    again = client.get(reverse("cme:event", kwargs={"event_slug": event.slug})).content.decode()
    assert 'class="field-error"' not in again
