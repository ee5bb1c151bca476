"""The main views of the seeded demo in headless Chromium, as a newcomer following the README
sees them: the programme with Live now and a personal agenda with a conflict, My events, the
evaluation, My CME with the certificate, the organizer's session timing (End now) and the
dashboard. Each view must render without a console error; with MEDVENUE_SCREENSHOTS=1 the
pictures in docs/screenshots/ are refreshed from here."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from conference.models import Certificate, Claim, Event, FavouriteSession, Session, SessionKind
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.evaluations import ensure_evaluation_form
from tests.conference.test_demo_path import be_in_hall
from tests.e2e.conftest import PageErrors, _logged_in_context

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def demo(transactional_db, settings, media_root):
    settings.MACHINE_TIME_ZONE = "America/Chicago"
    call_command("seed_demo", "--if-empty", stdout=io.StringIO())
    event = Event.objects.get(slug="cardio-update-live")
    now = timezone.now()
    sessions = list(
        Session.objects.filter(event=event, ends_at__gt=now, is_cancelled=False)
        .exclude(kind=SessionKind.BREAK)
        .order_by("starts_at", "hall__order")
    )
    live = next(s for s in sessions if s.starts_at <= now and s.is_cme_eligible)
    # A personal agenda with a conflict: the live session and another one overlapping it.
    clash = next(
        (s for s in sessions if s.pk != live.pk and s.starts_at < live.ends_at),
        None,
    )
    physician = User.objects.get(email="physician@medvenue.test")
    for session in filter(None, [live, clash]):
        FavouriteSession.objects.get_or_create(user=physician, session=session)
    return {
        "event": event,
        "live": live,
        "clash": clash,
        "physician": physician,
        "staff": User.objects.get(email="staff@medvenue.test"),
    }


def test_demo_main_views(chromium, live_server, demo, screenshots):
    errors = PageErrors()
    event, live, physician = demo["event"], demo["live"], demo["physician"]

    context = _logged_in_context(chromium, live_server, physician)
    page = errors.attach(context.new_page())
    page.goto(f"{live_server.url}{event.get_absolute_url()}")
    assert page.locator(".badge-live-now").first.is_visible()
    assert page.locator(f"a[href$='/venue/{live.hall.slug}/?join=1']").first.is_visible()
    if demo["clash"] is not None:
        assert page.locator(".badge-conflict").first.is_visible()
    page.screenshot(path=str(screenshots / "programme.png"), full_page=True)

    page.goto(f"{live_server.url}/my/events/")
    assert page.get_by_text(live.title).first.is_visible()
    page.screenshot(path=str(screenshots / "my-events-agenda.png"), full_page=True)

    # Eight minutes in the hall, then the organizer ends the session now (README path).
    now = timezone.now()
    if now - live.starts_at < dt.timedelta(minutes=9):
        Session.objects.filter(pk=live.pk).update(starts_at=now - dt.timedelta(minutes=9))
    be_in_hall(physician, live, now - dt.timedelta(minutes=8), 8)
    staff_context = _logged_in_context(chromium, live_server, demo["staff"])
    staff = errors.attach(staff_context.new_page())
    staff.goto(f"{live_server.url}/admin/conference/session/{live.pk}/timing/end/")
    assert staff.get_by_text("attendees can claim credit for it right away").is_visible()
    staff.screenshot(path=str(screenshots / "admin-end-now.png"), full_page=True)
    staff.locator("#content form [type=submit]").first.click()
    staff.wait_for_load_state()

    # The physician evaluates and claims in the browser.
    page.goto(f"{live_server.url}/cme/events/{event.slug}/")
    page.screenshot(path=str(screenshots / "my-cme-evaluation.png"), full_page=True)
    form = ensure_evaluation_form(event)
    for question in form.questions.all():
        if question.kind == "likert":
            page.check(f"[name='q{question.pk}'][value='5']")
        else:
            page.fill(f"[name='q{question.pk}']", "Check potassium before starting.")
    page.locator("form[action$='/evaluation/'] [type=submit]").click()
    page.wait_for_load_state()
    claim_form = page.locator("form[action$='/claim/']").first
    claim_form.locator("input[name='attest']").check()
    claim_form.locator("[type=submit]").click()
    page.wait_for_load_state()
    claim = Claim.objects.get(user=physician, event=event)
    issue_certificate(claim.pk)  # what the worker's task does
    assert Certificate.objects.get(claim=claim).status == "issued"
    page.goto(f"{live_server.url}/cme/events/{event.slug}/")
    assert page.get_by_text("0.25").first.is_visible()
    page.screenshot(path=str(screenshots / "my-cme-certificate.png"), full_page=True)

    staff.goto(f"{live_server.url}/admin/conference/event/{event.pk}/dashboard/")
    assert staff.locator("svg").first.is_visible()
    staff.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)
    context.close()
    staff_context.close()
    assert errors == []
