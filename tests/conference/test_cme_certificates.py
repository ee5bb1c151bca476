"""Certificates: PDF contents, Unicode and right-to-left names, long titles, the QR code, and the
Celery task's idempotency and crash safety."""

import os
import shutil
import signal
import subprocess
import threading
import time
import unicodedata
import uuid
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from pypdf import PdfReader

from accounts.models import Degree, ProfessionalProfile
from conference import tasks
from conference.celery import create_app
from conference.models import Certificate, CertificateStatus, EventCredit
from conference.services import cme_pdf
from conference.services.cme.certificates import (
    WINDOW_KEY,
    certificate_file,
    collect_waiting_certificates,
    dispatch_certificate,
    issue_certificate,
    queue_certificate,
    render_certificates,
    revoke_certificate,
)
from conference.services.cme.claims import claim_credit, claim_enduring_credit
from conference.services.cme.verification import verify_certificate
from tests.support.cme import ACCREDITATION, attend, evaluate, learner, make_event
from tests.support.process import celery_worker, child_pids

AMA_STATEMENT = (
    "Society of Test Medicine designates this live activity for a maximum of 1.00 AMA PRA "
    "Category 1 Credit™. Physicians should claim only the credit commensurate with the extent "
    "of their participation in the activity."
)


def _approved_claim(*, degree=Degree.MD, legal_name="Grace Hopper", code="AMA_PRA_1", **event_kw):
    event, session = make_event(**event_kw)
    user = learner(degree=degree, legal_name=legal_name)
    attend(user, session, minutes=60)
    evaluate(user, event)
    return claim_credit(user, event, code, amount="1.00", attested=True)


def _text(path: Path) -> str:
    return " ".join(PdfReader(path).pages[0].extract_text().split())


def _files(root: Path) -> list[str]:
    """Every file under the certificates folder, temporary ones included."""
    folder = root / "certificates"
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.django_db
def test_issue_certificate_pdf_has_name_statements_and_code(media_root):
    claim = _approved_claim()

    certificate = issue_certificate(claim.pk)

    path = certificate_file(certificate)
    text = _text(path)
    assert certificate.status == CertificateStatus.ISSUED
    assert path == media_root / "certificates" / f"{certificate.code}-v1.pdf"
    assert "Grace Hopper, MD" in text
    assert AMA_STATEMENT in text
    assert ACCREDITATION in text
    assert certificate.code in text
    assert "Certificate of Credit" in text
    assert "1.00 AMA PRA Category 1 Credit™ claimed (maximum designated: 1.00)" in text
    assert "Live virtual activity" in text
    assert len(PdfReader(path).pages) == 1


@pytest.mark.django_db
def test_issue_certificate_statement_override_printed_verbatim(media_root):
    claim = _approved_claim()
    wording = "The Society designates this live activity for a maximum of 1.00 credits {sic}."
    EventCredit.objects.filter(event=claim.event, credit_type="AMA_PRA_1").update(
        statement_override=wording
    )

    certificate = issue_certificate(claim.pk)

    assert wording in _text(certificate_file(certificate))


@pytest.mark.django_db
def test_issue_certificate_non_physician_gets_participation(media_root):
    claim = _approved_claim(
        degree=Degree.RN, legal_name="Florence Nightingale", code="PARTICIPATION"
    )

    text = _text(certificate_file(issue_certificate(claim.pk)))

    assert "Certificate of Participation" in text
    assert "Florence Nightingale, RN" in text
    assert "designated for a maximum of 1.00 AMA PRA Category 1 Credit™ for physicians" in text


def _fonts_used(path: Path) -> set[str]:
    resources = PdfReader(path).pages[0]["/Resources"]["/Font"]
    names = (str(font.get_object()["/BaseFont"]).split("+")[-1] for font in resources.values())
    return {name.removesuffix("-0") for name in names}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["Zoë Ørsted-Łukasiewicz", "محمد بن عبد الله", "יעל כהן", "王小明", "Ngô Bảo Châu"]
)
def test_issue_certificate_unicode_names_render_with_embedded_fonts(media_root, name):
    claim = _approved_claim(legal_name=name)

    path = certificate_file(issue_certificate(claim.pk))

    fonts = _fonts_used(path)
    assert fonts >= {"DejaVuSerif-Bold"}
    if name == "王小明":
        if cme_pdf._find_font("wqy-microhei.ttc") is None:
            pytest.skip("the CJK fallback needs the Debian package fonts-wqy-microhei")
        assert "WenQuanYiMicroHei" in fonts
        assert name in _text(path)
    if cme_pdf.is_rtl(name):
        # Drawn shaped, in visual order; text extraction puts the right-to-left run back into
        # logical order, so the shaped name reads in its original order.
        assert cme_pdf._RESHAPER.reshape(name) in _text(path)
    # The name itself is in the PDF's text as poppler reads it (not just a font that could
    # draw it): presentation forms of shaped Arabic fold back to the letters under NFKC.
    assert unicodedata.normalize("NFKC", name) in _poppler_text(path)


def _poppler_text(path: Path) -> str:
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return unicodedata.normalize("NFKC", " ".join(result.stdout.split()))


def test_wrap_very_long_title_fits_width_and_keeps_every_word():
    title = " ".join(["Antimicrobial stewardship in the intensive care unit"] * 8)

    lines = cme_pdf.wrap(title, style="Serif-Bold", size=11, width=400)

    assert len(lines) > 3
    assert all(cme_pdf.text_width(line, "Serif-Bold", 11) <= 400 for line in lines)
    assert " ".join(lines) == title


def test_wrap_unbroken_cjk_and_overlong_word_break_within_width():
    lines = cme_pdf.wrap("会议" * 60 + " " + "x" * 300, style="Serif", size=12, width=200)

    assert all(cme_pdf.text_width(line, "Serif", 12) <= 200 for line in lines)
    assert "".join(lines).replace(" ", "") == "会议" * 60 + "x" * 300


@pytest.mark.django_db
def test_issue_certificate_very_long_title_renders_one_page(media_root):
    claim = _approved_claim(title=("Management of sepsis and septic shock in adults " * 6)[:200])

    path = certificate_file(issue_certificate(claim.pk))

    assert len(PdfReader(path).pages) == 1
    assert "Management of sepsis and septic shock in adults" in _text(path)


@pytest.mark.django_db
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftoppm)")
def test_issue_certificate_qr_decodes_to_verify_url(media_root, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    claim = _approved_claim()
    certificate = issue_certificate(claim.pk)

    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "150",
            "-singlefile",
            certificate_file(certificate),
            tmp_path / "page",
        ],
        check=True,
        timeout=60,
    )
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))]

    assert decoded == [certificate.verify_url]
    assert certificate.verify_url.endswith(f"/verify/{certificate.code}/v1/")


@pytest.mark.django_db
def test_issue_certificate_task_run_twice_gives_one_certificate(media_root):
    claim = _approved_claim()

    tasks.issue_certificate.apply(args=[claim.pk]).get()
    first = Certificate.objects.get(claim=claim)
    tasks.issue_certificate.apply(args=[claim.pk]).get()

    again = Certificate.objects.get(claim=claim)
    assert (again.pk, again.status, again.issued_at) == (first.pk, "issued", first.issued_at)
    assert _files(media_root) == [f"{first.code}-v1.pdf"]


@pytest.mark.django_db
def test_issue_certificate_crash_mid_render_leaves_no_file_and_retry_succeeds(
    media_root, monkeypatch
):
    claim = _approved_claim()
    real_render = cme_pdf.render_certificate

    def crash_after_partial_write(data, stream):
        stream.write(b"%PDF-1.4 half a certificate")
        raise RuntimeError("worker died mid-render")

    monkeypatch.setattr(cme_pdf, "render_certificate", crash_after_partial_write)
    with pytest.raises(RuntimeError):
        issue_certificate(claim.pk)

    failed = Certificate.objects.get(claim=claim)
    assert (failed.status, failed.file_path) == (CertificateStatus.FAILED, "")
    assert "worker died mid-render" in failed.error
    assert _files(media_root) == []

    monkeypatch.setattr(cme_pdf, "render_certificate", real_render)
    issued = issue_certificate(claim.pk)

    assert (issued.pk, issued.status, issued.error) == (failed.pk, CertificateStatus.ISSUED, "")
    assert _files(media_root) == [f"{issued.code}-v1.pdf"]
    assert PdfReader(certificate_file(issued)).pages


@pytest.mark.django_db
def test_issue_certificate_after_killed_worker_removes_leftover_partial(media_root):
    claim = _approved_claim()
    certificate = Certificate.objects.get(claim=claim)
    partial = media_root / "certificates" / ".partial"
    partial.mkdir(parents=True)
    (partial / f"{certificate.code}-v1.pdf.dead0001.partial").write_bytes(b"%PDF-1.4 half")

    issue_certificate(claim.pk)

    assert _files(media_root) == [f"{certificate.code}-v1.pdf"]
    assert list(partial.iterdir()) == []


@pytest.mark.django_db
def test_queue_certificate_after_name_change_supersedes_and_keeps_code(media_root):
    claim = _approved_claim(legal_name="Grace Hopper")
    first = issue_certificate(claim.pk)
    ProfessionalProfile.objects.filter(user=claim.user).update(legal_name="Grace Brewster Hopper")

    queued = queue_certificate(claim)
    second = issue_certificate(claim.pk)

    first.refresh_from_db()
    assert queued.pk == second.pk
    assert (second.version, second.code, second.learner_name) == (
        2,
        first.code,
        "Grace Brewster Hopper",
    )
    assert second.first_issued_at == first.first_issued_at
    assert first.status == CertificateStatus.SUPERSEDED
    assert queue_certificate(claim) is None  # nothing changed: no third version
    assert "first issued" in _text(certificate_file(second))


@pytest.mark.django_db
def test_revoke_certificate_shows_revoked_on_verification(media_root):
    claim = _approved_claim()
    certificate = issue_certificate(claim.pk)
    staff = learner(legal_name="Staff")

    revoke_certificate(claim, reason="Attendance was falsified", actor=staff)

    info = verify_certificate(certificate.code)
    assert (info["status"], info["revoked_reason"]) == ("revoked", "Attendance was falsified")
    assert queue_certificate(claim) is None


def test_render_certificate_is_a_pdf_without_database():
    data = cme_pdf.CertificateData(
        learner_name="Test Name",
        degree="DO",
        activity_title="Title",
        start_date=__import__("datetime").date(2025, 5, 1),
        end_date=__import__("datetime").date(2025, 5, 2),
        provider="Provider",
        credit_type_name="AOA Category 1-A credits",
        credit_code="AOA_1A",
        credit=Decimal("2.25"),
        designated_max=Decimal("3.00"),
        designation_statement="Statement.",
        accreditation_statement="",
        participation=False,
        ama_max=None,
        credited_minutes=135,
        signatory_name="",
        signatory_title="",
        issued_on=__import__("datetime").date(2025, 5, 3),
        first_issued_on=__import__("datetime").date(2025, 5, 3),
        version=1,
        code="ABCDEFGHJK",
        verify_url="https://example.org/verify/ABCDEFGHJK/",
    )
    buffer = BytesIO()

    cme_pdf.render_certificate(data, buffer)

    assert buffer.getvalue().startswith(b"%PDF-")
    assert "2.25 AOA Category 1-A credits claimed" in " ".join(
        PdfReader(BytesIO(buffer.getvalue())).pages[0].extract_text().split()
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_issue_certificate_through_real_worker(media_root, restore_default_app, sent_tasks):
    claim = _approved_claim()  # its own dispatch is recorded: the test sends the task twice
    celery_app = create_app(broker_url=settings.REDIS_URL)
    queue = f"test-cme-{uuid.uuid4().hex[:10]}"
    finished: list[str] = []
    both_ran = threading.Event()

    def count_run(sender=None, task_id=None, **_):
        if getattr(sender, "name", None) == tasks.issue_certificate.name:
            finished.append(task_id)
            if len(finished) == 2:
                both_ran.set()

    task_postrun.connect(count_run, weak=False)
    try:
        with start_worker(
            celery_app, perform_ping_check=False, queues=[queue], shutdown_timeout=20
        ):
            for _ in range(2):
                celery_app.tasks[tasks.issue_certificate.name].apply_async(
                    args=[claim.pk], queue=queue
                )
            assert both_ran.wait(30), f"the worker ran {len(finished)} of the 2 tasks in 30 s"
    finally:
        task_postrun.disconnect(count_run)

    certificate = Certificate.objects.get(claim=claim)
    assert certificate.status == CertificateStatus.ISSUED
    assert _files(media_root) == [f"{certificate.code}-v1.pdf"]


@pytest.mark.django_db
def test_render_certificates_batch_failure_marks_one_failed_and_retry_renders_it(
    media_root, monkeypatch
):
    event_and_session = make_event()
    claims = []
    for name in ("Ann Able", "Ben Broken", "Cat Calm"):
        user = learner(legal_name=name)
        attend(user, event_and_session[1], minutes=60)
        evaluate(user, event_and_session[0])
        claims.append(
            claim_credit(user, event_and_session[0], "AMA_PRA_1", amount="1.00", attested=True)
        )
    real_render = cme_pdf.render_certificate

    def fail_for_ben(data, stream):
        if data.learner_name == "Ben Broken":
            raise OSError("disk hiccup")
        real_render(data, stream)

    monkeypatch.setattr(cme_pdf, "render_certificate", fail_for_ben)
    with pytest.raises(OSError, match="disk hiccup"):
        render_certificates([c.pk for c in claims])

    statuses = dict(Certificate.objects.values_list("learner_name", "status"))
    assert statuses == {"Ann Able": "issued", "Ben Broken": "failed", "Cat Calm": "issued"}
    monkeypatch.setattr(cme_pdf, "render_certificate", real_render)
    render_certificates([c.pk for c in claims])
    assert set(Certificate.objects.values_list("status", flat=True)) == {"issued"}
    assert len(_files(media_root)) == 3


@pytest.mark.django_db
def test_issue_certificate_emails_the_learner_once(
    media_root, mailoutbox, django_capture_on_commit_callbacks
):
    claim = _approved_claim()

    with django_capture_on_commit_callbacks(execute=True):
        certificate = issue_certificate(claim.pk)
    with django_capture_on_commit_callbacks(execute=True):
        issue_certificate(claim.pk)

    assert [m.to for m in mailoutbox] == [[claim.user.email]]
    assert certificate.code in mailoutbox[0].body
    assert f"/cme/events/{claim.event.slug}/" in mailoutbox[0].body


# What a committed claim sends to have its certificate rendered (a window's collector, or the
# certificate's own task where rows cannot be locked without waiting).
DISPATCHED_TASKS = {"conference.collect_waiting_certificates", "conference.issue_certificate"}


def _bulk_claims(count: int) -> list[int]:
    event, session = make_event()
    ids = []
    for i in range(count):
        user = learner(legal_name=f"Learner {i}")
        attend(user, session, minutes=60)
        evaluate(user, event)
        ids.append(claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True).pk)
    return ids


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_gives_exactly_one_certificate_each(
    media_root, tmp_path, sent_tasks
):
    claim_ids = _bulk_claims(60)  # the claims' own dispatch is recorded: the test sends the batch
    queue = f"test-kill-{uuid.uuid4().hex[:10]}"
    with celery_worker(queue, tmp_path / "worker.log", MEDIA_ROOT=str(media_root)) as worker:
        celery_app = create_app(broker_url=settings.REDIS_URL)
        celery_app.tasks["conference.issue_certificates"].apply_async(args=[claim_ids], queue=queue)
        issued = Certificate.objects.filter(claim_id__in=claim_ids, status="issued")
        folder = media_root / "certificates"
        deadline = time.monotonic() + 60
        while len(list(folder.glob("*.pdf"))) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        children = child_pids(worker.pid)
        rendered_before_kill = len(list(folder.glob("*.pdf")))
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)  # the child renders a batch; the parent re-queues
        killed_at = issued.count()
        deadline = time.monotonic() + 90
        while issued.count() < len(claim_ids) and time.monotonic() < deadline:
            time.sleep(0.2)

    codes = list(Certificate.objects.filter(claim_id__in=claim_ids).values_list("code", "status"))
    assert (killed_at, 5 <= rendered_before_kill < len(claim_ids)) == (0, True)
    assert len(codes) == len(claim_ids)
    assert {status for _, status in codes} == {"issued"}
    assert _files(media_root) == sorted(f"{code}-v1.pdf" for code, _ in codes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_issue_certificate_renders_waiting_batch_once_on_postgres(media_root, sent_tasks):
    claim_ids = _bulk_claims(3)  # on commit the claims dispatched: recorded, never sent
    assert {name for name, _, _ in sent_tasks} <= DISPATCHED_TASKS
    Certificate.objects.filter(claim_id__in=claim_ids).update(status=CertificateStatus.QUEUED)

    first = issue_certificate(claim_ids[0])
    rows = Certificate.objects.filter(claim_id__in=claim_ids)
    statuses_after_first = sorted(rows.values_list("status", flat=True))
    again = [issue_certificate(claim_id) for claim_id in claim_ids[1:]]

    assert first.status == CertificateStatus.ISSUED
    assert statuses_after_first == [CertificateStatus.ISSUED] * 3
    assert [c.version for c in again] == [1, 1]
    assert sorted(rows.values_list("status", flat=True)) == [CertificateStatus.ISSUED] * 3
    assert len(list((media_root / "certificates").glob("*.pdf"))) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_issue_certificate_skips_one_another_worker_holds(media_root, sent_tasks):
    import psycopg

    claim_ids = _bulk_claims(2)
    assert {name for name, _, _ in sent_tasks} <= DISPATCHED_TASKS
    Certificate.objects.filter(claim_id__in=claim_ids).update(status=CertificateStatus.QUEUED)
    held = Certificate.objects.get(claim_id=claim_ids[1])
    database = settings.DATABASES["default"]
    dsn = f"host={database['HOST']} port={database['PORT']} user={database['USER']} "
    with psycopg.connect(dsn + f"dbname={database['NAME']}") as other_worker:
        other_worker.execute(
            "SELECT id FROM conference_certificate WHERE id = %s FOR UPDATE", [held.pk]
        )

        assert issue_certificate(claim_ids[1]).status == CertificateStatus.QUEUED
        assert issue_certificate(claim_ids[0]).status == CertificateStatus.ISSUED

    held.refresh_from_db()
    assert held.status == CertificateStatus.QUEUED


@pytest.mark.django_db
def test_issue_certificate_email_for_enduring_claim_links_the_activity(
    media_root, mailoutbox, django_capture_on_commit_callbacks
):
    from conference.services import posttests
    from tests.support.posttest import answers, make_enduring, ready_recording, registered_learner

    event, session = make_event()
    activity = make_enduring(session)
    ready_recording(session)
    user = registered_learner(event)
    evaluate(user, event)
    posttests.submit_attempt(user, activity.post_test, answers(activity.post_test), number=1)
    claim = claim_enduring_credit(user, activity, "AMA_PRA_1", attested=True)

    with django_capture_on_commit_callbacks(execute=True):
        issue_certificate(claim.pk)

    (message,) = mailoutbox
    assert f"/cme/enduring/{activity.pk}/" in message.body


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_claims_within_a_window_send_one_collector_and_batches_render_each_once(media_root):
    from django.core.cache import cache

    cache.delete(WINDOW_KEY)
    claim_ids = _bulk_claims(3)  # each claim's commit dispatched: the first opened the window
    Certificate.objects.filter(claim_id__in=claim_ids).update(status=CertificateStatus.QUEUED)

    opened_again = [dispatch_certificate(claim_id) for claim_id in claim_ids]
    batches = collect_waiting_certificates()  # the window's task (closes the window)
    reopened = dispatch_certificate(claim_ids[0])
    first = render_certificates(batches[0])
    second = render_certificates(batches[0])  # a repeated batch renders nothing again

    assert opened_again == [False, False, False]
    assert reopened is True
    assert batches == [claim_ids]
    assert {c.status for c in first.values()} == {CertificateStatus.ISSUED}
    assert [c.version for c in second.values()] == [1, 1, 1]
    assert len(_files(media_root)) == 3
    cache.delete(WINDOW_KEY)
