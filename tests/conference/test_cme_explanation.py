"""The learner's "How was this computed" and the admin's segments: gaps with their times,
never a false "leave without join"."""

import datetime as dt
import html

import pytest
from django.utils import timezone

from conference.models import AttendanceEvent
from conference.services.cme.case import compute_event_credit
from conference.services.cme.claims import claim_credit
from conference.services.cme.explain import explain_credit
from tests.factories import MembershipFactory
from tests.support.cme import attend, evaluate, learner, make_event

pytestmark = pytest.mark.django_db


def _rows(user, session, *events):
    AttendanceEvent.objects.bulk_create(
        AttendanceEvent(
            user=user,
            session=session,
            hall=session.hall,
            connection=connection,
            kind=kind,
            server_time=session.starts_at + dt.timedelta(seconds=offset),
            dedup_key=f"gap-{user.pk}-{n}",
        )
        for n, (kind, offset, connection) in enumerate(events)
    )


def _clock(session, offset):
    moment = session.starts_at + dt.timedelta(seconds=offset)
    return timezone.localtime(moment, session.event.tzinfo).strftime("%H:%M:%S")


def test_leave_91_seconds_after_join_shows_zero_length_segment_and_gap(client):
    event, session = make_event()
    user = learner()
    _rows(user, session, ("join", 600, "phone"), ("leave", 691, "phone"))
    client.force_login(user)

    page = html.unescape(client.get(f"/cme/events/{event.slug}/").content.decode())

    explanation = explain_credit(compute_event_credit(user, event), event)
    (line,) = explanation.sessions
    (segment,) = line.segments
    assert (segment.start, segment.end, segment.seconds) == (
        _clock(session, 600),
        _clock(session, 600),
        0,
    )
    assert segment.closed == (
        f"closed at the last proof of presence, {_clock(session, 600)}: nothing was received "
        f"until the leave at {_clock(session, 691)}, 91 s later (more than the 90 s allowed)"
    )
    assert explanation.ignored == [
        f"{_clock(session, 691)} leave: not counted (after a gap closed the segment; it "
        "counts again from the next join)"
    ]
    assert "How was this computed?" in page
    assert segment.closed in page
    assert "without a join" not in page
    assert "leave_without_join" not in page


def test_explanation_lists_leave_and_tabs_counted_once():
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=30)
    attend(user, session, minutes=20, start_offset=10, connection="tab-2")

    explanation = explain_credit(compute_event_credit(user, event), event)

    (line,) = explanation.sessions
    assert [(s.connection, s.closed) for s in line.segments] == [
        ("tab-1", "you left"),
        ("tab-2", "you left"),
    ]
    assert (line.attended_minutes, line.credited_minutes) == ("30.00", "30.00")
    assert explanation.credited_minutes == "30.00"


def test_admin_claim_page_shows_the_gap(client):
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=53)
    _rows(user, session, ("join", 3300, "tab-9"), ("leave", 3400, "tab-9"))
    evaluate(user, event)
    claim = claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)
    client.force_login(MembershipFactory(organizer=event.organizer).user)

    page = client.get(f"/admin/conference/claim/{claim.pk}/change/").content.decode()

    start = _clock(session, 3300)
    assert f"{start}–{start} (heartbeat_gap: no proof {start}–{_clock(session, 3400)}, 100 s)" in (
        html.unescape(page)
    )
