"""The worker fault of the suite on the production broker (RabbitMQ): approved claims, their
certificates queued through the admin action's service, the first worker SIGKILLed while it
renders, and the checks that every certificate was issued within 60 s of the kill, with no
staff action, exactly one per claim."""

import threading
import time
from concurrent.futures import Future

from django.db import connection

from conference.celery import app as project_app
from conference.celery import create_app
from conference.models import Certificate, CertificateStatus, Claim
from conference.services.cme.certificates import issue_certificates
from conference.services.cme.claims import claim_credit
from tests.faults import harness
from tests.support.cme import attend, evaluate, learner, make_event


def approved_claims(count: int) -> list[int]:
    event, session = make_event()
    ids = []
    for i in range(count):
        user = learner(legal_name=f"Learner {i}")
        attend(user, session, minutes=60)
        evaluate(user, event)
        ids.append(claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True).pk)
    return ids


def approved_claims_in_background(count: int) -> Future:
    """`approved_claims` on a thread of its own (about 0.25 s of database round trips a claim):
    the suite builds them while its processes start and its first faults run. The factories'
    sequences are not thread-safe: the caller creates no users until the result is taken."""
    future: Future = Future()

    def build():
        try:
            future.set_result(approved_claims(count))
        except BaseException as error:  # handed to the caller by future.result()
            future.set_exception(error)
        finally:
            connection.close()

    threading.Thread(target=build, name="approved-claims", daemon=True).start()
    return future


def certificate_rows(claim_ids) -> list[tuple[int, str, str]]:
    return list(
        Certificate.objects.filter(claim_id__in=claim_ids).values_list("claim_id", "code", "status")
    )


class CertificateBatch:
    """Certificates of `claim_ids` issued in bulk on RabbitMQ while a worker is SIGKILLed."""

    def __init__(self, claim_ids, broker_url, workers, media_root):
        self.claim_ids = claim_ids
        self.broker_url = broker_url
        self.workers = workers
        self.folder = media_root / "certificates"
        self.figures: dict = {"claims": len(claim_ids)}
        self.killed_at: float | None = None

    def send(self) -> None:
        """Queue the claims' certificates (the admin action's service) on the suite's vhost."""
        rabbit = create_app(broker_url=self.broker_url)
        rabbit.set_current()
        rabbit.set_default()
        try:
            sent = issue_certificates(Claim.objects.filter(pk__in=self.claim_ids))
        finally:
            project_app.set_current()
            project_app.set_default()
        assert sorted(sent) == sorted(self.claim_ids)

    def kill_a_worker_while_rendering(self) -> None:
        """SIGKILL the first worker (and its pool process) once it runs a batch and at least
        ten certificates are on disk: it dies in the middle of a batch."""
        victim = self.workers[0]
        harness.wait_for(
            lambda: (
                len(list(self.folder.glob("*.pdf"))) >= 10
                and "Task conference.issue_certificates"
                in victim.log_path.read_text(errors="replace")
            ),
            120,
            0.02,
            "the first worker renders",
        )
        self.figures["rendered_at_kill"] = len(list(self.folder.glob("*.pdf")))
        victim.kill()
        self.killed_at = time.monotonic()

    def wait_all_issued(self, timeout: float = 60) -> dict:
        issued = Certificate.objects.filter(
            claim_id__in=self.claim_ids, status=CertificateStatus.ISSUED
        )
        try:
            harness.wait_for(
                lambda: issued.count() == len(self.claim_ids),
                max(0.0, timeout - (time.monotonic() - self.killed_at)),
                0.2,
                "every certificate issued within 60 s of the kill",
            )
        finally:
            self.figures["issued"] = issued.count()
        self.figures["all_issued_seconds_after_kill"] = round(time.monotonic() - self.killed_at, 1)
        return self.figures

    def assert_exactly_one_each(self) -> None:
        rows = certificate_rows(self.claim_ids)
        assert sorted(claim for claim, _, _ in rows) == sorted(self.claim_ids)  # one per claim
        assert {status for _, _, status in rows} == {CertificateStatus.ISSUED}
        # Every file, temporary ones included: a killed render leaves nothing behind.
        files = sorted(
            str(p.relative_to(self.folder)) for p in self.folder.rglob("*") if p.is_file()
        )
        assert files == sorted(f"{code}-v1.pdf" for _, code, _ in rows)
