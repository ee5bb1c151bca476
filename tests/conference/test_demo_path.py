"""The README's "credit and a certificate in 15 minutes" path on the seeded demo, page by page:
a live session on the programme, 8 minutes in its hall, "End now" in admin, the evaluation, the
claim, the certificate. (The 8 minutes of hall attendance are written as the live layer writes
them: a join and a heartbeat a minute.)"""

import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from conference.models import (
    AttendanceEvent,
    Certificate,
    CertificateStatus,
    Claim,
    Event,
    Session,
    SessionKind,
)
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.evaluations import ensure_evaluation_form

_keys = itertools.count()


def be_in_hall(user, session, start, minutes: int) -> None:
    moments = [("join", start)] + [
        ("heartbeat", start + dt.timedelta(minutes=m)) for m in range(1, minutes + 1)
    ]
    for kind, moment in moments:
        AttendanceEvent.objects.create(
            user=user,
            session=session,
            hall=session.hall,
            connection="tab-1",
            kind=kind,
            server_time=moment,
            dedup_key=f"demo-{next(_keys)}",
        )


@pytest.mark.django_db
def test_readme_path_credit_and_certificate_in_fifteen_minutes(
    client, settings, media_root, django_capture_on_commit_callbacks
):
    settings.MACHINE_TIME_ZONE = "America/Chicago"
    call_command("seed_demo", "--if-empty", stdout=io.StringIO())
    event = Event.objects.get(slug="cardio-update-live")
    physician = User.objects.get(email="physician@medvenue.test")
    staff = User.objects.get(email="staff@medvenue.test")
    now = timezone.now()

    # 1. The programme marks a CME session on now, with "Join in the venue".
    client.force_login(physician)
    programme = client.get(event.get_absolute_url()).content.decode()
    live = (
        Session.objects.filter(event=event, starts_at__lte=now, ends_at__gt=now)
        .exclude(kind=SessionKind.BREAK)
        .filter(is_cme_eligible=True)
        .order_by("hall__order")
        .first()
    )
    assert live is not None
    assert "Live now" in programme
    assert f"/events/{event.slug}/venue/{live.hall.slug}/?join=1" in programme

    # 2. Eight minutes in the hall, ending now. (Just after the hour the session on now began
    # less than 8 minutes ago; a newcomer then simply stays longer. Here its start moves back so
    # that the test needs no waiting.)
    if now - live.starts_at < dt.timedelta(minutes=9):
        Session.objects.filter(pk=live.pk).update(starts_at=now - dt.timedelta(minutes=9))
        live.refresh_from_db()
    be_in_hall(physician, live, now - dt.timedelta(minutes=8), 8)

    # 3. The organizer ends the session now; the page said what that does first.
    client.force_login(staff)
    url = f"/admin/conference/session/{live.pk}/timing/end/"
    assert "attendees can claim credit for it right away" in client.get(url).content.decode()
    assert client.post(url).status_code == 302

    # 4. The physician evaluates, attests and claims; the worker renders the certificate.
    client.force_login(physician)
    form = ensure_evaluation_form(event)
    answers = {f"q{q.pk}": "5" if q.kind == "likert" else "Check K+." for q in form.questions.all()}
    client.post(f"/cme/events/{event.slug}/evaluation/", answers)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            f"/cme/events/{event.slug}/claim/",
            {"credit_type": "AMA_PRA_1", "amount": "0.25", "attest": "yes"},
            follow=True,
        )
    said = [str(message) for message in response.context["messages"]]
    assert said[-2:] == [
        "Thank you: your evaluation is recorded.",
        "Your claim is recorded; your certificate is being prepared.",
    ]

    claim = Claim.objects.get(user=physician, event=event, credit_type="AMA_PRA_1")
    assert (claim.claimed_credit, claim.status) == (Decimal("0.25"), "approved")
    assert Certificate.objects.get(claim=claim).status == CertificateStatus.QUEUED
    issue_certificate(claim.pk)  # what the worker's task does
    certificate = Certificate.objects.get(claim=claim)
    assert certificate.status == CertificateStatus.ISSUED
    download = client.get(f"/cme/certificates/{certificate.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert client.get(f"/verify/{certificate.code}/").status_code == 200
