"""The event's evaluation form (with the intended change in practice) and the learner's
answers: once per learner and event, from registered attendees only."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from conference.models import (
    EvaluationAnswer,
    EvaluationForm,
    EvaluationQuestion,
    EvaluationResponse,
    Event,
    QuestionKind,
    Registration,
)
from conference.services.cme.terms import ClaimRefused

DEFAULT_QUESTIONS = (
    (QuestionKind.LIKERT, "The activity met its stated learning objectives."),
    (QuestionKind.LIKERT, "The content was free of commercial bias."),
    (QuestionKind.TEXT, "What will you change in your practice as a result of this activity?"),
)
MAX_ANSWER_LENGTH = 4000


def ensure_evaluation_form(event: Event) -> EvaluationForm:
    """The event's evaluation form; created with the default questions (including the
    intended change in practice) the first time."""
    with transaction.atomic():
        form, created = EvaluationForm.objects.get_or_create(event=event)
        if created:
            EvaluationQuestion.objects.bulk_create(
                EvaluationQuestion(form=form, order=i, kind=kind, text=text)
                for i, (kind, text) in enumerate(DEFAULT_QUESTIONS)
            )
    return form


def submit_evaluation(user: User, event: Event, answers: dict[str, str]) -> EvaluationResponse:
    """Store the learner's answers (keys: question ids); once per learner and event, and only
    from an attendee with an active registration for the event."""
    if not Registration.objects.active().filter(user=user, event=event).exists():
        raise ClaimRefused(
            [("not_registered", "Only attendees registered for this event can evaluate it.")]
        )
    form = ensure_evaluation_form(event)
    existing = EvaluationResponse.objects.filter(form=form, user=user).first()
    if existing:
        return existing
    questions = list(form.questions.all())
    problems = _answer_problems(questions, answers)
    if problems:
        raise ClaimRefused(problems)
    try:
        with transaction.atomic():
            response = EvaluationResponse.objects.create(
                form=form, user=user, submitted_at=timezone.now()
            )
            EvaluationAnswer.objects.bulk_create(
                EvaluationAnswer(
                    response=response, question=q, value=answers.get(str(q.pk), "").strip()
                )
                for q in questions
            )
    except IntegrityError:
        return EvaluationResponse.objects.get(form=form, user=user)
    return response


def _answer_problems(
    questions: list[EvaluationQuestion], answers: dict[str, str]
) -> list[tuple[str, str]]:
    problems = []
    for question in questions:
        value = answers.get(str(question.pk), "").strip()
        if not value:
            if question.required:
                problems.append((f"q{question.pk}", f"Please answer: {question.text}"))
            continue
        allowed = [key for key, _ in question.choice_list()]
        if question.kind != QuestionKind.TEXT and value not in allowed:
            problems.append((f"q{question.pk}", f"Choose one of the options: {question.text}"))
        elif len(value) > MAX_ANSWER_LENGTH:
            problems.append((f"q{question.pk}", "Please keep answers under 4000 characters."))
    return problems
