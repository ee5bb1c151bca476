"""Builders for post-test and enduring-material tests: a test with questions, a registered
learner, an enduring activity on a session with a READY recording."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from conference.models import (
    EnduringActivity,
    EnduringCredit,
    PostTest,
    PostTestQuestion,
    Recording,
    RecordingStatus,
)
from tests.factories import RegistrationFactory
from tests.support.cme import learner

QUESTIONS = (
    (
        "First-line therapy for HFrEF includes",
        "An SGLT2 inhibitor\nA calcium channel blocker\nDigoxin only",
        "An SGLT2 inhibitor",
    ),
    ("Target LDL-C after an ACS", "Below 1.4 mmol/L\nBelow 3.0 mmol/L", "Below 1.4 mmol/L"),
    (
        "CHA2DS2-VASc of 2 in a man suggests",
        "Anticoagulation\nNo therapy\nAspirin",
        "Anticoagulation",
    ),
    ("Troponin is a marker of", "Myocardial injury\nRenal failure only", "Myocardial injury"),
)


def make_test(event, *, pass_percent=70, max_attempts=3, questions=QUESTIONS):
    test = PostTest.objects.create(
        event=event,
        title="Cardiology post-test",
        pass_percent=pass_percent,
        max_attempts=max_attempts,
    )
    for order, (text, choices, correct) in enumerate(questions):
        PostTestQuestion.objects.create(
            test=test, order=order, text=text, choices=choices, correct_answer=correct
        )
    return test


def answers(test, *, wrong: int = 0) -> dict[str, str]:
    """Answers to every question, the first `wrong` of them wrong."""
    result = {}
    for index, question in enumerate(test.questions.all()):
        if index < wrong:
            result[str(question.pk)] = next(
                c for c in question.choice_list() if c != question.correct_answer
            )
        else:
            result[str(question.pk)] = question.correct_answer
    return result


def registered_learner(event, **kwargs):
    user = learner(**kwargs)
    RegistrationFactory(user=user, event=event)
    return user


def ready_recording(session, *, duration="120.000"):
    return Recording.objects.create(
        session=session,
        status=RecordingStatus.READY,
        published_dir="gen-1",
        generation=1,
        duration_seconds=Decimal(duration),
        ready_at=timezone.now(),
    )


def make_enduring(
    session,
    *,
    test=None,
    release_days=0,
    expiry_days=365,
    published=True,
    credits=(("AMA_PRA_1", "1.00"), ("PARTICIPATION", "1.00")),
):
    today = timezone.localdate(timezone.now(), session.event.tzinfo)
    activity = EnduringActivity.objects.create(
        session=session,
        title="Heart failure update (on demand)",
        release_date=today + dt.timedelta(days=release_days),
        review_date=today + dt.timedelta(days=release_days),
        expiry_date=today + dt.timedelta(days=release_days + expiry_days),
        post_test=test or make_test(session.event),
        is_published=published,
    )
    for code, amount in credits:
        EnduringCredit.objects.create(
            activity=activity, credit_type=code, designated_max=Decimal(amount)
        )
    return activity
