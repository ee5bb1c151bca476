"""Builders for CME tests: an event whose credit-eligible session has ended, attendance rows
as the live hall writes them, learners with profiles."""

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from accounts.models import Degree
from conference.models import AttendanceEvent, EventCredit, Registration, SessionKind
from conference.services.cme.evaluations import ensure_evaluation_form, submit_evaluation
from tests.factories import (
    EventFactory,
    HallFactory,
    ProfileFactory,
    SessionFactory,
    UserFactory,
)

ACCREDITATION = (
    "The Society of Test Medicine is accredited by the Accreditation Council for Continuing "
    "Medical Education (ACCME) to provide continuing medical education for physicians."
)
_keys = itertools.count()


def make_event(*, days_ago: int = 2, credit_types=("AMA_PRA_1", "PARTICIPATION"), **kwargs):
    """A published event that ran `days_ago` days ago with one 60-minute CME session 09:00."""
    start = timezone.now().date() - dt.timedelta(days=days_ago)
    event = EventFactory(
        start_date=start,
        end_date=start,
        cme_provider="Society of Test Medicine",
        accreditation_statement=ACCREDITATION,
        **kwargs,
    )
    hall = HallFactory()
    session = SessionFactory(
        event=event,
        hall=hall,
        is_cme_eligible=True,
        designated_minutes=60,
        kind=SessionKind.SEMINAR,
    )
    for code in credit_types:
        EventCredit.objects.create(
            event=event,
            credit_type=code,
            designated_max=Decimal("1.00"),
            signatory_name="Dr. Ada Chair",
        )
    return event, session


def attend(user, session, *, minutes: int, start_offset: int = 0, connection: str = "tab-1"):
    """Join at session start + `start_offset` minutes, heartbeat each minute, leave after
    `minutes`."""
    start = session.starts_at + dt.timedelta(minutes=start_offset)
    rows = [("join", start)]
    rows += [("heartbeat", start + dt.timedelta(minutes=m)) for m in range(1, minutes)]
    rows.append(("leave", start + dt.timedelta(minutes=minutes)))
    AttendanceEvent.objects.bulk_create(
        AttendanceEvent(
            user=user,
            session=session,
            hall=session.hall,
            connection=connection,
            kind=kind,
            server_time=moment,
            dedup_key=f"test-{next(_keys)}",
        )
        for kind, moment in rows
    )


def learner(*, degree=Degree.MD, legal_name="Grace Hopper", **profile):
    user = UserFactory()
    ProfileFactory(user=user, degree=degree, legal_name=legal_name, **profile)
    return user


def evaluate(user, event):
    """Submit the event's evaluation as a registered attendee (registering `user` if needed)."""
    Registration.objects.get_or_create(user=user, event=event)
    form = ensure_evaluation_form(event)
    answers = {
        str(q.pk): ("4" if q.kind == "likert" else "Start sepsis bundles earlier.")
        for q in form.questions.all()
    }
    return submit_evaluation(user, event, answers)
