"""Certificate throughput: the full Celery pipeline against the bare renderer.

    .venv/bin/python bench/certificates.py [--claims 2000] [--concurrency 2]
        [--database-url postgres://postgres@127.0.0.1:5432/medvenue_cme_bench]
        [--redis-url redis://127.0.0.1:6379/10]

In one run, on PostgreSQL + Redis:

1. recreates the bench database (migrations), and creates one event with N approved claims,
   each with a queued certificate (bulk inserts, not timed);
2. ceiling: renders the same N certificates with the bare renderer in a loop in this process
   (data loaded beforehand, PDFs written to memory);
3. pipeline: starts a real `celery worker` (prefork, `--concurrency` processes), waits until it
   answers a ping, dispatches the N claims' certificates one by one exactly as a claim does
   after commit (`cme.certificates.dispatch_certificate`: the first opens a window and sends one delayed
   `conference.collect_waiting_certificates`, which sends the waiting ones as batches) and
   waits until every certificate row is `issued` (each task loads its rows, renders,
   writes the file atomically, marks the row, audits and e-mails through the console backend);
   then the same for N other claims sent as `conference.issue_certificates` batches in one
   group (as the admin's bulk action does);
4. prints certificates per second for each, per worker process, the ratio to the bare
   renderer, and the workers' CPU per certificate (robust to other load on the machine).

Figures are printed; they are recorded in docs/cme-claims.md.
"""

import argparse
import io
import os
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from support import (
    cpu_seconds,
    recreate_database,
    setup_django,
    start_worker,
    stop_worker,
    wait_for_worker,
)


def create_claims(count: int) -> list[int]:
    """One event with `count` approved claims, each with a queued certificate."""
    from django.utils import timezone

    from accounts.models import ProfessionalProfile, User
    from conference.models import (
        Certificate,
        Claim,
        ClaimStatus,
        Event,
        EventCredit,
        Organizer,
    )
    from conference.services.cme.certificates import new_code
    from conference.services.cme.terms import ATTESTATION_TEXT

    organizer = Organizer.objects.create(name="Bench Society of Medicine", slug="bench")
    today = timezone.now().date() - timedelta(days=1)
    event = Event.objects.create(
        organizer=organizer,
        slug="bench-congress",
        title="Bench Congress on Sepsis, Shock and Critical Care Medicine 2025",
        start_date=today,
        end_date=today,
        is_published=True,
        cme_provider="Bench Society of Medicine",
        accreditation_statement=(
            "The Bench Society of Medicine is accredited by the Accreditation Council for "
            "Continuing Medical Education (ACCME) to provide continuing medical education for "
            "physicians."
        ),
    )
    EventCredit.objects.create(
        event=event, credit_type="AMA_PRA_1", designated_max=Decimal("6.00"), signatory_name="Dr B"
    )
    users = User.objects.bulk_create(
        User(email=f"learner{i}@bench.example", password="!") for i in range(count)
    )
    ProfessionalProfile.objects.bulk_create(
        ProfessionalProfile(user=u, legal_name=f"Learner Nümber {i}", degree="MD")
        for i, u in enumerate(users)
    )
    now = timezone.now()
    claims = Claim.objects.bulk_create(
        Claim(
            user=u,
            event=event,
            credit_type="AMA_PRA_1",
            degree="MD",
            credited_seconds=3600 * 5,
            computed_credit=Decimal("5.00"),
            claimed_credit=Decimal("5.00"),
            designated_max=Decimal("6.00"),
            status=ClaimStatus.APPROVED,
            attestation=ATTESTATION_TEXT,
            attested_at=now,
            inputs_hash="sha256:bench",
            engine_version="bench",
            rule_version="bench",
        )
        for u in users
    )
    codes = set()
    while len(codes) < count:
        codes.add(new_code())
    Certificate.objects.bulk_create(
        Certificate(
            claim=c,
            version=1,
            code=code,
            learner_name=f"Learner Nümber {i}",
            degree="MD",
            credit=c.claimed_credit,
            verify_url=f"https://cme.example.org/verify/{code}/",
        )
        for i, (c, code) in enumerate(zip(claims, sorted(codes), strict=True))
    )
    return [c.pk for c in claims]


def bare_rate(claim_ids: list[int]) -> tuple[float, float]:
    from conference.models import Certificate
    from conference.services import cme_pdf
    from conference.services.cme.printed import certificate_data

    certificates = Certificate.objects.filter(claim_id__in=claim_ids).select_related(
        "claim__event__organizer"
    )
    data = [certificate_data(c) for c in certificates]
    cme_pdf.render_certificate(data[0], io.BytesIO())  # fonts loaded once, as in a worker
    started, cpu = time.perf_counter(), time.process_time()
    for item in data:
        cme_pdf.render_certificate(item, io.BytesIO())
    cpu_each = (time.process_time() - cpu) / len(data)
    return len(data) / (time.perf_counter() - started), cpu_each


def send_tasks(claim_ids: list[int], batch: int) -> None:
    """Per claim (`batch` 1: what each claim does after commit) or batches (as the admin's
    bulk action does, one Celery group)."""
    from celery import group

    from conference.services.cme.certificates import dispatch_certificate
    from conference.tasks import issue_certificates

    if batch <= 1:
        for claim_id in claim_ids:
            dispatch_certificate(claim_id)
        return
    chunks = [claim_ids[i : i + batch] for i in range(0, len(claim_ids), batch)]
    group(issue_certificates.s(chunk) for chunk in chunks).apply_async()


def pipeline_rate(claim_ids: list[int], concurrency: int, batch: int) -> tuple[float, float, float]:
    """Certificates per second through a real worker, seconds spent sending, worker CPU
    seconds per certificate."""
    from conference.models import Certificate

    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept for the worker's whole life
        prefix="cert-bench-worker-", suffix=".log", delete=False
    )
    worker = start_worker(log, concurrency=concurrency)
    try:
        wait_for_worker()
        cpu = cpu_seconds(worker.pid)
        started = time.perf_counter()
        send_tasks(claim_ids, batch)
        sent = time.perf_counter() - started
        issued = Certificate.objects.filter(claim_id__in=claim_ids, status="issued")
        while issued.count() < len(claim_ids):
            if worker.poll() is not None:
                raise SystemExit(f"the worker died; see {log.name}")
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        cpu_each = (cpu_seconds(worker.pid) - cpu) / len(claim_ids)
        return len(claim_ids) / elapsed, sent, cpu_each
    finally:
        stop_worker(worker)


def report(label: str, result: tuple[float, float, float], bare: tuple[float, float], n: int):
    rate, sent, cpu_each = result
    bare_rate_, bare_cpu = bare
    concurrency = ARGS.concurrency
    per_process = rate / concurrency
    print(
        f"{label}: {rate:7.1f} certificates/s with {concurrency} worker processes "
        f"({per_process:.1f} per process; sending {n} took {sent:.2f} s)\n"
        f"    ratio per worker process / bare: {per_process / bare_rate_:.2f} (target >= 0.70)\n"
        f"    CPU per certificate in the workers {cpu_each * 1000:.1f} ms vs bare "
        f"{bare_cpu * 1000:.1f} ms (CPU ratio {bare_cpu / cpu_each:.2f})\n"
        f"    10,000 certificates at this rate: {10000 / rate:.0f} s (target < 300 s)",
        flush=True,
    )


ARGS = argparse.Namespace()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--batch", type=int, default=25, help="claims per bulk task")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/medvenue_cme_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.parse_args(namespace=ARGS)
    n = ARGS.claims

    media = tempfile.mkdtemp(prefix="medvenue-cert-bench-")
    recreate_database(ARGS.database_url)
    setup_django(ARGS.database_url, ARGS.redis_url, MEDIA_ROOT=media)
    import redis

    redis.Redis.from_url(ARGS.redis_url).flushdb()
    claim_ids = create_claims(2 * n)
    print(f"{n} claims per run on {ARGS.database_url}, broker {ARGS.redis_url}", flush=True)

    bare = bare_rate(claim_ids[:n])
    print(f"bare renderer, 1 process: {bare[0]:7.1f} certificates/s", flush=True)
    # Bulk first: it renders only the claims it names, while the claim flow's window collects
    # every certificate still waiting (which must then be exactly its own N).
    batched = pipeline_rate(claim_ids[n:], ARGS.concurrency, ARGS.batch)
    report(f"bulk, {ARGS.batch} claims per task (admin action)", batched, bare, n)
    single = pipeline_rate(claim_ids[:n], ARGS.concurrency, 1)
    report("per claim, batched over the claim window (claim flow)", single, bare, n)
    files = len(list(Path(media, "certificates").glob("*.pdf")))
    print(f"{files} certificate files written for {2 * n} claims", flush=True)


if __name__ == "__main__":
    main()
