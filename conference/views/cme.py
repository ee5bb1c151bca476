"""Attendee CME pages: my credit per event, evaluation, claim, certificate download, transcript,
and the public certificate verification page. Rules live in the `conference.services.cme`
package; each view loads the learner's case once (`cme.learner.load_learner`)."""

import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from hashlib import sha256

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts import throttle
from accounts.models import User
from accounts.throttle import client_ip
from conference.models import (
    Certificate,
    CertificateStatus,
    Claim,
    CreditType,
    EnduringActivity,
    Event,
    PostTest,
    PostTestAttempt,
)
from conference.services import cme_pdf, posttests, spreadsheets, statements
from conference.services.cme import case as credit_case
from conference.services.cme import certificates as cme_certificates
from conference.services.cme import claims as claiming
from conference.services.cme import enduring as enduring_service
from conference.services.cme import evaluations, verification
from conference.services.cme import explain as credit_explain
from conference.services.cme import learner as learners
from conference.services.cme import offers as cme_offers
from conference.services.cme import transcript as transcripts
from conference.services.cme.terms import ATTESTATION_TEXT, ClaimRefused

VERIFY_LIMIT_PER_MINUTE = 30


def _learner(request: HttpRequest) -> User:
    """The signed-in learner of a view behind `login_required`."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _event(slug: str) -> Event:
    return get_object_or_404(Event.objects.published().select_related("organizer"), slug=slug)


@login_required
@require_GET
def my_cme(request: HttpRequest, event_slug: str) -> HttpResponse:
    event = _event(event_slug)
    user = _learner(request)
    learner = learners.load_learner(user, event)
    offers = cme_offers.credit_offers(user, event, learner=learner)
    form = evaluations.ensure_evaluation_form(event) if offers else None
    certificates = {
        offer.code: cme_certificates.current_certificate(offer.claim)
        for offer in offers
        if offer.claim
    }
    rows = [(offer, certificates.get(offer.code)) for offer in offers]
    pending = any(c and c.status == CertificateStatus.QUEUED for c in certificates.values())
    context = {
        "event": event,
        "rows": rows,
        "evaluation_form": form,
        "questions": list(form.questions.all()) if form else [],
        "evaluation_done": learner.evaluated,
        "attestation": ATTESTATION_TEXT,
        "refresh": pending,
        "name_changed": _name_changed(learner.name, certificates.values()),
        "speakers": list(event.speakers.prefetch_related("disclosures")) if offers else [],
        "enduring_activities": list(enduring_service.published_activities(event)),
        "explanation": credit_explain.explain_credit(
            credit_case.compute_event_credit(user, event, learner=learner), event
        )
        if offers
        else None,
    }
    return render(request, "cme/my_cme.html", context)


def _name_changed(name: str, certificates: Iterable[Certificate | None]) -> bool:
    return any(
        c and c.status == CertificateStatus.ISSUED and c.learner_name != name for c in certificates
    )


@contextmanager
def _refusal_shown(request: HttpRequest) -> Iterator[None]:
    """Run the block; when the rules refuse what it does, show each problem as an error message
    (the rest of the block, e.g. its success message, does not run)."""
    try:
        yield
    except ClaimRefused as refused:
        for _, message in refused.problems:
            messages.error(request, message)


EVALUATION_FEEDBACK = "medvenue_evaluation_feedback"


def _keep_evaluation_feedback(request, event, answers: dict[str, str], problems) -> None:
    """For the page the learner returns to: each problem next to its question (codes "q<id>"),
    the others as messages, and the answers given so nothing is typed twice."""
    fields = {code: text for code, text in problems if code.startswith("q")}
    for code, text in problems:
        if code not in fields:
            messages.error(request, text)
    if fields:
        count = len(fields)
        messages.error(
            request,
            f"The evaluation is not sent yet: {count} answer{'s' if count > 1 else ''} "
            "need your attention (marked below).",
        )
    request.session[EVALUATION_FEEDBACK] = {
        "event": event.slug,
        "errors": fields,
        "answers": {f"q{key}": value[:4000] for key, value in answers.items()},
    }


@login_required
@require_POST
def submit_evaluation(request: HttpRequest, event_slug: str) -> HttpResponse:
    event = _event(event_slug)
    answers = {
        key.removeprefix("q"): request.POST.get(key, "")
        for key in request.POST
        if key.startswith("q")
    }
    try:
        evaluations.submit_evaluation(_learner(request), event, answers)
    except ClaimRefused as refused:
        _keep_evaluation_feedback(request, event, answers, refused.problems)
    else:
        messages.success(request, "Thank you: your evaluation is recorded.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=False):
        return redirect(back)
    return redirect("cme:event", event_slug=event.slug)


@login_required
@require_POST
def claim(request: HttpRequest, event_slug: str) -> HttpResponse:
    event = _event(event_slug)
    with _refusal_shown(request):
        created = claiming.claim_credit(
            _learner(request),
            event,
            request.POST.get("credit_type", ""),
            amount=request.POST.get("amount", ""),
            attested=request.POST.get("attest") == "yes",
        )
        messages.success(request, _claim_message(created))
    return redirect("cme:event", event_slug=event.slug)


def _claim_message(created: Claim) -> str:
    if created.additions.exists():
        return "The sessions are added to your claim; a new certificate version is being prepared."
    if created.status == "needs_review":
        return "Your claim is above the computed credit and waits for staff review."
    return "Your claim is recorded; your certificate is being prepared."


@login_required
@require_POST
def reissue(request: HttpRequest, event_slug: str) -> HttpResponse:
    """Issue new certificate versions after a change of the learner's legal name."""
    event = _event(event_slug)
    user = _learner(request)
    name = learners.learner_name(user)
    for own in Claim.objects.filter(user=user, event=event, status="approved"):
        cme_certificates.queue_certificate(own, name=name)
    messages.success(request, "New certificates with your current name are being prepared.")
    return redirect("cme:event", event_slug=event.slug)


@login_required
@require_GET
def download_certificate(request: HttpRequest, certificate_id: int) -> FileResponse:
    """Only the learner and the organizer's staff; anyone else gets "not found"."""
    certificate = (
        Certificate.objects.select_related("claim__event").filter(pk=certificate_id).first()
    )
    if certificate is None or not cme_certificates.may_download(request.user, certificate):
        raise Http404("No such certificate.")
    path = cme_certificates.certificate_file(certificate)
    if path is None:
        raise Http404("This certificate is not ready yet.")
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=f"certificate-{certificate.code}-v{certificate.version}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _activity(activity_id: int) -> EnduringActivity:
    """A published enduring activity of a published event (anything else: not found)."""
    return get_object_or_404(
        EnduringActivity.objects.select_related(
            "session__event__organizer", "post_test__event"
        ).filter(is_published=True, session__event__in=Event.objects.published()),
        pk=activity_id,
    )


@login_required
@require_GET
def enduring(request: HttpRequest, activity_id: int) -> HttpResponse:
    """An enduring-material activity (a session's recording offered for credit): dates,
    designations, disclosures, the recording, the post-test and the claim."""
    activity = _activity(activity_id)
    event = activity.session.event
    user = _learner(request)
    learner = learners.load_learner(user, event)
    overview = enduring_service.enduring_overview(user, activity, learner=learner)
    certificates = {
        offer.code: cme_certificates.current_certificate(offer.claim)
        for offer in overview.offers
        if offer.claim
    }
    form = evaluations.ensure_evaluation_form(event)
    context = {
        "activity": activity,
        "event": event,
        "overview": overview,
        "evaluation_form": form,
        "questions": list(form.questions.all()),
        "evaluation_done": learner.evaluated,
        "evaluation_next": reverse("cme:enduring", kwargs={"activity_id": activity.pk}),
        "rows": [(offer, certificates.get(offer.code)) for offer in overview.offers],
        "attestation": ATTESTATION_TEXT,
        "refresh": any(c and c.status == CertificateStatus.QUEUED for c in certificates.values()),
        "speakers": list(activity.session.speakers.prefetch_related("disclosures")),
        "accreditation": statements.event_accreditation_statement(event, CreditType.AMA_PRA_1),
    }
    return render(request, "cme/enduring.html", context)


@login_required
@require_POST
def enduring_claim(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _activity(activity_id)
    with _refusal_shown(request):
        claiming.claim_enduring_credit(
            _learner(request),
            activity,
            request.POST.get("credit_type", ""),
            attested=request.POST.get("attest") == "yes",
        )
        messages.success(request, "Your claim is recorded; your certificate is being prepared.")
    return redirect("cme:enduring", activity_id=activity.pk)


def _post_test(request: HttpRequest, test_id: int) -> PostTest:
    """The test, if the learner may take it; 404 for unknown tests or unpublished events."""
    test = get_object_or_404(
        PostTest.objects.select_related("event").filter(event__in=Event.objects.published()),
        pk=test_id,
    )
    if not posttests.may_take(_learner(request), test):
        raise PermissionDenied("Only registered attendees of the event may take its post-test.")
    return test


def _post_test_context(request: HttpRequest, test: PostTest, **extra) -> dict:
    return {
        "test": test,
        "event": test.event,
        "status": posttests.attempt_status(_learner(request), test),
        "setup_problems": posttests.setup_problems(test),
        "activities": list(
            EnduringActivity.objects.filter(post_test=test, is_published=True).select_related(
                "session"
            )
        ),
        **extra,
    }


@login_required
@require_GET
def post_test(request: HttpRequest, test_id: int) -> HttpResponse:
    """Before starting: the pass score, the number of questions and the attempts left."""
    test = _post_test(request, test_id)
    pool = test.questions.count()
    drawn = min(test.questions_per_attempt or pool, pool)
    context = _post_test_context(request, test, question_count=drawn, pool_size=pool)
    return render(request, "cme/post_test.html", context)


@login_required
def take_post_test(request: HttpRequest, test_id: int) -> HttpResponse:
    """The questions (GET) and their submission (POST). The form carries the number of the
    attempt it creates, so submitting it twice stores one attempt."""
    test = _post_test(request, test_id)
    user = _learner(request)
    status = posttests.attempt_status(user, test)
    if request.method == "POST":
        answers = {
            key.removeprefix("q"): request.POST.get(key, "")
            for key in request.POST
            if key.startswith("q") and key[1:].isdigit()
        }
        try:
            number = int(request.POST.get("attempt", ""))
        except ValueError:
            number = 0
        try:
            attempt, created = posttests.submit_attempt(user, test, answers, number=number)
        except posttests.PostTestRefused as refused:
            shown = number if number == status.next_number else status.next_number
            context = _post_test_context(
                request,
                test,
                items=_question_items(user, test, shown, answers, dict(refused.problems)),
                errors=[message for _, message in refused.problems],
                number=shown,
            )
            return render(request, "cme/post_test_take.html", context, status=400)
        if not created:
            messages.info(request, "This attempt was already submitted; here is its result.")
        return redirect("cme:post-test-result", test_id=test.pk, number=attempt.number)
    if request.method != "GET":
        return HttpResponse(status=405)
    if not status.can_attempt or posttests.setup_problems(test):
        return redirect("cme:post-test", test_id=test.pk)
    number = status.next_number
    context = _post_test_context(
        request,
        test,
        items=_question_items(user, test, number, {}, {}),
        errors=[],
        number=number,
    )
    return render(request, "cme/post_test_take.html", context)


def _question_items(
    user: User, test: PostTest, number: int, answers: dict[str, str], errors: dict[str, str]
) -> list:
    """The questions drawn for attempt `number`, each with its options in the drawn order
    (and whether the learner had chosen it, so a form sent back with errors keeps the
    answers) and its error."""
    layout = posttests.draw_for(user, test, number)
    by_id = {q.pk: q for q in posttests.drawn_questions(test, layout)}
    return [
        {
            "question": by_id[item["question"]],
            "options": [
                (option, answers.get(str(item["question"]), "") == option)
                for option in item["options"]
            ],
            "error": errors.get(f"q{item['question']}", ""),
        }
        for item in layout
        if item["question"] in by_id
    ]


@login_required
@require_GET
def post_test_result(request: HttpRequest, test_id: int, number: int) -> HttpResponse:
    """One of the learner's own attempts (anyone else's: not found)."""
    test = _post_test(request, test_id)
    user = _learner(request)
    attempt = get_object_or_404(PostTestAttempt, test=test, user=user, number=number)
    status = posttests.attempt_status(user, test)
    context = _post_test_context(request, test, attempt=attempt, status=status)
    context["answers"] = list(attempt.answers.values()) if status.reveal_answers else []
    if status.reveal_answers:
        correct = {str(q.pk): q.correct_answer for q in test.questions.all()}
        context["answers"] = [
            {**answer, "correct_answer": correct.get(key, "")}
            for key, answer in attempt.answers.items()
        ]
    return render(request, "cme/post_test_result.html", context)


@login_required
@require_GET
def transcript(request: HttpRequest) -> HttpResponse:
    rows = transcripts.transcript_rows(_learner(request))
    return render(request, "cme/transcript.html", {"rows": rows})


TRANSCRIPT_COLUMNS = (
    "activity",
    "provider",
    "start_date",
    "end_date",
    "credit_type",
    "credits",
    "designated_max",
    "certificate_status",
    "certificate_code",
    "format",
)


@login_required
@require_GET
def transcript_csv(request: HttpRequest) -> HttpResponse:
    rows = (
        [
            row.event_title,
            row.provider,
            row.start_date,
            row.end_date,
            row.credit_type,
            f"{row.credit:.2f}",
            f"{row.designated_max:.2f}",
            row.status,
            row.certificate_code,
            row.activity_format,
        ]
        for row in transcripts.transcript_rows(_learner(request))
    )
    text = spreadsheets.csv_text(TRANSCRIPT_COLUMNS, rows)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cme-transcript.csv"'
    return response


@login_required
@require_GET
def transcript_pdf(request: HttpRequest) -> HttpResponse:
    user = _learner(request)
    buffer = io.BytesIO()
    cme_pdf.render_transcript(
        learners.learner_name(user),
        transcripts.transcript_rows(user),
        buffer,
        generated=timezone.now(),
    )
    response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="cme-transcript.pdf"'
    return response


def _verify_allowed(request: HttpRequest) -> bool:
    digest = sha256(client_ip(request).encode()).hexdigest()[:32]
    key = f"cme-verify:{digest}:{int(timezone.now().timestamp() // 60)}"
    return throttle.hit(key, window=120) <= VERIFY_LIMIT_PER_MINUTE


@require_GET
def verify(request: HttpRequest, code: str, version: int | None = None) -> HttpResponse:
    """Public: is this certificate genuine? Never shows NPI, licenses, board IDs or birthdays."""
    wants_json = request.GET.get("format") == "json"
    if not _verify_allowed(request):
        if wants_json:
            return JsonResponse({"error": "too many requests, try again in a minute"}, status=429)
        return render(request, "cme/verify.html", {"limited": True, "code": code}, status=429)
    info = verification.verify_certificate(code[:32], version=version)
    status = 200 if info else 404
    if wants_json:
        return JsonResponse(info or {"status": "not_found"}, status=status)
    return render(request, "cme/verify.html", {"info": info, "code": code[:32]}, status=status)
