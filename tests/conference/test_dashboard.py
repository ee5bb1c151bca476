"""The organizer's event dashboard: figures from the records, CSV, time zone and scoping."""

import csv
import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conference.models import (
    AttendanceEvent,
    ChatMessage,
    Claim,
    EventCredit,
    Poll,
    PollOption,
    PollVote,
    Question,
    Recording,
    Registration,
    WatchProgress,
)
from conference.services import dashboard
from tests.factories import UserFactory
from tests.support.cme import evaluate, learner


def proof(user, session, kind, moment, key):
    AttendanceEvent.objects.create(
        user=user,
        session=session,
        hall=session.hall,
        connection="tab",
        kind=kind,
        server_time=moment,
        dedup_key=key,
    )


@pytest.fixture
def busy(world):
    """Alpha's keynote (09:00–10:00 Chicago) with two attendees, questions, chat, a poll, an
    evaluation, a claim and a watched recording; Beta has records too (which must not leak)."""
    session = world.session_a
    people = [learner(legal_name=f"Learner {i}") for i in range(2)]
    for person in people:
        Registration.objects.create(user=person, event=world.event_a)
    start = session.starts_at
    for i, person in enumerate(people):
        proof(person, session, "join", start + dt.timedelta(minutes=1), f"j{i}")
        for minute in range(2, 12):
            proof(
                person, session, "heartbeat", start + dt.timedelta(minutes=minute), f"h{i}-{minute}"
            )
    # the second person stays longer: alone from 09:12 to 09:14
    proof(people[1], session, "heartbeat", start + dt.timedelta(minutes=13), "late")
    Question.objects.create(
        session=session, author=people[0], author_name="L0", text="Why?", status="approved"
    )
    Question.objects.create(
        session=session, author=people[1], author_name="L1", text="How?", status="pending"
    )
    chat = ChatMessage.objects.create(
        hall=session.hall, author=people[0], author_name="L0", text="Hi"
    )
    # Sent during the session: the volume counts chat within the event's days, which "now" is
    # not at every hour of the day.
    ChatMessage.objects.filter(pk=chat.pk).update(created_at=start + dt.timedelta(minutes=5))
    poll = Poll.objects.create(session=session, question="Which drug first?")
    option = PollOption.objects.create(poll=poll, text="A", order=0)
    PollVote.objects.create(poll=poll, option=option, user=people[0])
    evaluate(people[0], world.event_a)
    EventCredit.objects.create(
        event=world.event_a, credit_type="AMA_PRA_1", designated_max=Decimal("1.00")
    )
    Claim.objects.create(
        user=people[0],
        event=world.event_a,
        credit_type="AMA_PRA_1",
        degree="MD",
        credited_seconds=600,
        computed_credit=Decimal("0.25"),
        claimed_credit=Decimal("0.25"),
        designated_max=Decimal("1.00"),
        status="approved",
        attestation="I claim only the credit commensurate with my participation.",
        attested_at=start,
        inputs_hash="x",
        engine_version="1",
        rule_version="1",
    )
    recording = Recording.objects.create(session=session)
    WatchProgress.objects.create(recording=recording, user=people[1], watched_seconds=600)
    # Beta's records
    other = UserFactory()
    proof(other, world.session_b, "join", world.session_b.starts_at, "beta")
    Question.objects.create(
        session=world.session_b, author=other, author_name="B", text="?", status="approved"
    )
    return people


def test_figures_from_the_records(world, busy):
    figures = {figure.key: figure for figure in dashboard.dashboard(world.event_a)}

    presence = figures["presence"]
    assert presence.columns == ["time", "Alpha Hall"]
    day = world.session_a.starts_at.astimezone(world.event_a.tzinfo).date().isoformat()
    assert presence.rows == [[f"{day} 09:00", 2], [f"{day} 09:05", 2], [f"{day} 09:10", 2]]
    assert presence.summary == "Alpha Hall: peak 2"
    assert figures["sessions"].rows == [["Alpha Keynote", 2, 2]]
    assert figures["volume"].rows[0][1] == 2
    assert sum(row[2] for row in figures["volume"].rows) == 1
    assert figures["polls"].rows == [["Which drug first?", "Alpha Keynote", 1]]
    assert figures["evaluations"].summary == "1 evaluations"
    assert figures["evaluations"].rows[0][1] == 4.0
    assert figures["credit"].rows == [["AMA PRA Category 1 Credit™", 1, 0, 0, 0, "0.25"]]
    assert figures["recordings"].rows == [["Alpha Keynote", 1, 10]]
    assert (
        figures["registrations"].rows[-1][3]
        == Registration.objects.filter(event=world.event_a).count()
    )
    for figure in figures.values():
        assert figure.svg.startswith("<svg") and 'role="img"' in figure.svg


def test_dashboard_page_and_csv_for_the_organizer(client, world, busy):
    client.force_login(world.staff_a)
    url = f"/admin/conference/event/{world.event_a.pk}/dashboard/"
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="chart"') == len(dashboard.FIGURES)
    assert "Times in the event's time zone, America/Chicago" in html
    # The moment of computing is in the event's zone too (not the admin's active one).
    shown = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo("America/Chicago"))
    assert f"Computed at {shown:%a} {shown.day} {shown:%b %Y, %H}:" in html
    assert len(queries) < 40

    response = client.get(url, {"csv": "sessions"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["session", "attendees", "questions"], ["Alpha Keynote", "2", "2"]]
    assert client.get(url, {"csv": "nope"}).status_code == 404


def test_dashboard_of_another_organizer_is_not_found(client, world, busy):
    client.force_login(world.staff_a)
    url = f"/admin/conference/event/{world.event_b.pk}/dashboard/"
    response = client.get(url, {"csv": "sessions"})
    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert b"Beta" not in response.content


def test_csv_cells_cannot_run_as_formulas(world, busy):
    world.session_a.title = "=HYPERLINK(1)"
    world.session_a.save()
    from conference.admin.events import _csv_response

    body = _csv_response(dashboard.sessions_ranked(world.event_a), world.event_a).content
    assert b"'=HYPERLINK(1)" in body
