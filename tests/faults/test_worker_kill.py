"""The production broker (RabbitMQ): a Celery worker SIGKILLed mid-batch of certificates loses
nothing and doubles nothing — the other worker issues every certificate within 60 s of the kill,
with no staff action, exactly one per claim."""

import json
import time

import pytest

from conference.celery import app as project_app
from conference.celery import create_app
from conference.models import Certificate, CertificateStatus, Claim
from conference.services import cme
from tests.conference.cme_support import attend, evaluate, learner, make_event
from tests.faults import harness

pytestmark = [pytest.mark.django_db(transaction=True)]

CLAIMS = 150


def approved_claims(count: int) -> list[int]:
    event, session = make_event()
    ids = []
    for i in range(count):
        user = learner(legal_name=f"Learner {i}")
        attend(user, session, minutes=60)
        evaluate(user, event)
        ids.append(cme.claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True).pk)
    return ids


def certificate_rows(claim_ids) -> list[tuple[int, str, str]]:
    return list(
        Certificate.objects.filter(claim_id__in=claim_ids).values_list("claim_id", "code", "status")
    )


def issue_batch_and_kill_a_worker(claim_ids, broker_url, workers, media_root) -> dict:
    """Queue the claims' certificates on RabbitMQ (the admin action's service), SIGKILL the
    first worker while it renders, and wait for every certificate; the figures."""
    rabbit = create_app(broker_url=broker_url)
    rabbit.set_current()
    rabbit.set_default()
    try:
        sent = cme.issue_certificates(Claim.objects.filter(pk__in=claim_ids))
    finally:
        project_app.set_current()
        project_app.set_default()
    assert sorted(sent) == sorted(claim_ids)
    folder = media_root / "certificates"
    victim = workers[0]
    harness.wait_for(
        lambda: (
            len(list(folder.glob("*.pdf"))) >= 10
            and "Task conference.issue_certificates" in victim.log_path.read_text(errors="replace")
        ),
        120,
        0.02,
        "the first worker renders",
    )
    rendered_at_kill = len(list(folder.glob("*.pdf")))
    victim.kill()
    killed = time.monotonic()
    issued = Certificate.objects.filter(claim_id__in=claim_ids, status=CertificateStatus.ISSUED)
    harness.wait_for(
        lambda: issued.count() == len(claim_ids), 60, 0.2, "every certificate issued after the kill"
    )
    return {
        "claims": len(claim_ids),
        "rendered_at_kill": rendered_at_kill,
        "all_issued_seconds_after_kill": round(time.monotonic() - killed, 1),
    }


def assert_exactly_one_each(claim_ids, media_root) -> None:
    rows = certificate_rows(claim_ids)
    assert sorted(claim for claim, _, _ in rows) == sorted(claim_ids)  # one row per claim
    assert {status for _, _, status in rows} == {CertificateStatus.ISSUED}
    folder = media_root / "certificates"
    # Every file, temporary ones included: a killed render leaves nothing behind.
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == sorted(f"{code}-v1.pdf" for _, code, _ in rows)


def test_worker_sigkilled_mid_batch_every_certificate_issued_once(
    tmp_path, broker_url, redis_server
):
    claim_ids = approved_claims(CLAIMS)
    media_root = tmp_path / "media"
    env = harness.production_env(
        name="workers", redis_url=redis_server.url, broker_url=broker_url, data_dir=tmp_path
    )
    workers = [harness.Worker(f"w{i}", env, tmp_path / f"worker-{i}.log") for i in (1, 2)]
    figures = {}
    try:
        for worker in workers:
            worker.start()
        figures = issue_batch_and_kill_a_worker(claim_ids, broker_url, workers, media_root)
    finally:
        print(f"\nfault suite, worker SIGKILL: {json.dumps(figures)}")
        for worker in workers:
            worker.stop()
    assert_exactly_one_each(claim_ids, media_root)
