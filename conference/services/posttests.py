"""Post-tests: questions with one correct option, a pass score announced in advance, a limited
number of attempts (CME.md "Claiming", issue 6).

Each attempt is drawn before it is shown (`draw_for`): the questions (all of them, or
`questions_per_attempt` from the pool) and every question's options in a shuffled order,
stored as a `PostTestDraw` so a reload shows the same; the submitted attempt copies that
layout and is scored over exactly those questions.

An attempt is append-only: the answers, whether each was right (copied at submission, so
later edits of a question do not rewrite history), the layout shown, the score and pass/fail. The form carries
the attempt number it will create: submitting the same form twice (a double click, a repeated
POST, a second tab) finds the attempt of that number and returns it instead of storing another
one; the unique constraint (test, learner, number) decides a race.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from conference.models import (
    EnduringActivity,
    PostTest,
    PostTestAttempt,
    PostTestDraw,
    PostTestQuestion,
    Registration,
)
from conference.services.refusals import Refused

MAX_ANSWER_LENGTH = 300
MIN_CHOICES = 2


class PostTestRefused(Refused):
    """An attempt the rules do not allow; `problems` are (code, message) pairs."""


# Configuration ----------------------------------------------------------------------------


def question_problems(*, choices: str, correct_answer: str) -> list[tuple[str, str]]:
    """Why a question cannot be used, as (field, message): at least two distinct options, and
    the correct answer exactly one of them (admin validation)."""
    options = [line.strip() for line in choices.splitlines() if line.strip()]
    problems = []
    if len(options) < MIN_CHOICES:
        problems.append(("choices", "Give at least two answer options, one per line."))
    if len(set(options)) != len(options):
        problems.append(("choices", "Each answer option must be different."))
    if correct_answer.strip() not in options:
        problems.append(
            (
                "correct_answer",
                "The correct answer must be one of the options, exactly as written.",
            )
        )
    return problems


def setup_problems(test: PostTest) -> list[str]:
    """Why a post-test cannot be taken yet (no questions, a broken question, a pool smaller
    than the questions drawn per attempt)."""
    questions = list(test.questions.all())
    if not questions:
        return ["This post-test has no questions yet."]
    pool = []
    if test.questions_per_attempt and test.questions_per_attempt > len(questions):
        pool = [
            f"It draws {test.questions_per_attempt} questions per attempt but has only "
            f"{len(questions)}."
        ]
    return pool + [
        f"Question “{q.text}”: {problem}"
        for q in questions
        for _field, problem in question_problems(choices=q.choices, correct_answer=q.correct_answer)
    ]


# Who may take it ----------------------------------------------------------------------------


def may_take(user: User, test: PostTest) -> bool:
    """Active registrants of the test's (published) event; when the event's recordings are
    public, anyone signed in may take the test of one of its published enduring activities."""
    if not user.is_authenticated or not test.event.is_published:
        return False
    if Registration.objects.active().filter(user=user, event_id=test.event_id).exists():
        return True
    return (
        test.event.recordings_public
        and EnduringActivity.objects.filter(post_test=test, is_published=True).exists()
    )


# Status --------------------------------------------------------------------------------------


@dataclass
class AttemptStatus:
    """One learner's standing on one post-test."""

    test: PostTest
    attempts: list[PostTestAttempt] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return any(a.passed for a in self.attempts)

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def attempts_left(self) -> int | None:
        """None: unlimited."""
        if self.test.max_attempts is None:
            return None
        return max(self.test.max_attempts - self.used, 0)

    @property
    def next_number(self) -> int:
        return self.used + 1

    @property
    def can_attempt(self) -> bool:
        return not self.passed and self.attempts_left != 0

    @property
    def best(self) -> PostTestAttempt | None:
        return max(self.attempts, key=lambda a: (a.score_percent, -a.number), default=None)

    @property
    def reveal_answers(self) -> bool:
        """Correct answers are shown only once they can no longer help: after passing or when
        no attempt is left."""
        return self.passed or self.attempts_left == 0


def attempt_status(user: User, test: PostTest) -> AttemptStatus:
    attempts = list(PostTestAttempt.objects.filter(test=test, user=user).order_by("number"))
    return AttemptStatus(test=test, attempts=attempts)


def passed_test_ids(user: User, test_ids: set[int]) -> set[int]:
    """Which of these tests the learner has passed (one query)."""
    if not test_ids or not user.is_authenticated:
        return set()
    return set(
        PostTestAttempt.objects.filter(test_id__in=test_ids, user=user, passed=True)
        .values_list("test_id", flat=True)
        .distinct()
    )


def requirement_message(test: PostTest) -> str:
    return f"Pass the post-test (pass score {test.pass_percent}%) to claim this credit."


# Scoring and attempts ------------------------------------------------------------------------


def answer_problems(
    questions: list[PostTestQuestion], answers: dict[str, str]
) -> list[tuple[str, str]]:
    """Every unanswered question and every answer that is not one of its options."""
    problems = []
    for number, question in enumerate(questions, start=1):
        value = (answers.get(str(question.pk)) or "").strip()
        if not value:
            problems.append((f"q{question.pk}", f"Answer question {number}: {question.text}"))
        elif len(value) > MAX_ANSWER_LENGTH or value not in question.choice_list():
            problems.append((f"q{question.pk}", f"Choose one of the options of question {number}."))
    return problems


def score(questions: list[PostTestQuestion], answers: dict[str, str]) -> tuple[Decimal, int]:
    """(percent with two decimals, number correct). Pass/fail compares exact fractions."""
    correct = sum(
        1 for q in questions if (answers.get(str(q.pk)) or "").strip() == q.correct_answer.strip()
    )
    percent = (Decimal(correct * 100) / Decimal(len(questions))).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return percent, correct


def is_pass(test: PostTest, *, correct: int, total: int) -> bool:
    return correct * 100 >= test.pass_percent * total


# Drawing an attempt ---------------------------------------------------------------------------

_RANDOM = random.SystemRandom()


def draw_layout(test: PostTest, *, rng: random.Random | None = None) -> list[dict[str, Any]]:
    """The questions of one attempt (every one, or `questions_per_attempt` drawn from the
    pool, in the test's order) with each one's options shuffled."""
    rng = rng or _RANDOM
    questions = list(test.questions.all())
    if test.questions_per_attempt and test.questions_per_attempt < len(questions):
        chosen = set(rng.sample(range(len(questions)), test.questions_per_attempt))
        questions = [q for n, q in enumerate(questions) if n in chosen]
    layout = []
    for question in questions:
        options = question.choice_list()
        rng.shuffle(options)
        layout.append({"question": question.pk, "options": options})
    return layout


def draw_for(
    user: User, test: PostTest, number: int, *, rng: random.Random | None = None
) -> list[Any]:
    """The layout of attempt `number`: drawn once, then the same on every reload."""
    draw = PostTestDraw.objects.filter(test=test, user=user, number=number).first()
    if draw is not None:
        layout: list[Any] = draw.layout
        return layout
    try:
        with transaction.atomic():
            draw = PostTestDraw.objects.create(
                test=test, user=user, number=number, layout=draw_layout(test, rng=rng)
            )
    except IntegrityError:  # two tabs drew at once: the first one counts
        draw = PostTestDraw.objects.get(test=test, user=user, number=number)
    drawn: list[Any] = draw.layout
    return drawn


def drawn_questions(test: PostTest, layout: list[dict[str, Any]]) -> list[PostTestQuestion]:
    """The layout's questions, in its order (questions deleted since are left out)."""
    by_id = {q.pk: q for q in test.questions.all()}
    return [by_id[item["question"]] for item in layout if item["question"] in by_id]


def submit_attempt(
    user: User,
    test: PostTest,
    answers: dict[str, str],
    *,
    number: int,
    now: datetime | None = None,
) -> tuple[PostTestAttempt, bool]:
    """Store attempt `number` (the number the form was rendered for) with these answers
    (question id -> chosen option). Returns (attempt, created): a repeated submission of the
    same form returns the attempt already stored (created False). Raises `PostTestRefused`
    (nothing stored) for a test that is not usable, no attempts left, an already passed test,
    a stale form or bad answers."""
    status = attempt_status(user, test)
    duplicate = next((a for a in status.attempts if a.number == number), None)
    if duplicate is not None:
        return duplicate, False
    _check_may_attempt(test, status, number)
    layout = draw_for(user, test, number)
    questions = drawn_questions(test, layout)
    problems = answer_problems(questions, answers)
    if problems:
        raise PostTestRefused(problems)
    percent, correct = score(questions, answers)
    record = {
        str(q.pk): {
            "question": q.text,
            "answer": answers[str(q.pk)].strip(),
            "correct": answers[str(q.pk)].strip() == q.correct_answer.strip(),
        }
        for q in questions
    }
    try:
        with transaction.atomic():
            attempt = PostTestAttempt.objects.create(
                test=test,
                user=user,
                number=number,
                answers=record,
                layout=layout,
                score_percent=percent,
                passed=is_pass(test, correct=correct, total=len(questions)),
                submitted_at=now or timezone.now(),
            )
    except IntegrityError:
        # The same form submitted twice at once: the first one was stored.
        return PostTestAttempt.objects.get(test=test, user=user, number=number), False
    return attempt, True


# Item analysis (for the CME coordinator) -----------------------------------------------------


@dataclass(frozen=True)
class ItemAnalysis:
    """One question across every submitted attempt that drew it."""

    question: PostTestQuestion
    answered: int
    correct: int
    distribution: list[tuple[str, int, bool]]  # (option, times chosen, is the correct one)

    @property
    def share_correct(self) -> Decimal | None:
        if not self.answered:
            return None
        return (Decimal(self.correct * 100) / self.answered).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


def item_analysis(test: PostTest) -> list[ItemAnalysis]:
    """Per question: how many attempts answered it, the share correct, and how often each
    option was chosen (answers that are no longer an option are listed after the options)."""
    chosen: dict[str, Counter[str]] = {}
    right: Counter[str] = Counter()
    for answers in PostTestAttempt.objects.filter(test=test).values_list("answers", flat=True):
        for key, answer in answers.items():
            chosen.setdefault(key, Counter())[answer.get("answer", "")] += 1
            right[key] += bool(answer.get("correct"))
    result = []
    for question in test.questions.all():
        counts = chosen.get(str(question.pk), Counter())
        options = question.choice_list()
        rows = [(o, counts.get(o, 0), o == question.correct_answer.strip()) for o in options]
        rows += [(o, n, False) for o, n in sorted(counts.items()) if o not in options]
        result.append(
            ItemAnalysis(
                question=question,
                answered=sum(counts.values()),
                correct=right[str(question.pk)],
                distribution=rows,
            )
        )
    return result


def _check_may_attempt(test: PostTest, status: AttemptStatus, number: int) -> None:
    problems = [("test_not_ready", message) for message in setup_problems(test)]
    if status.passed:
        problems.append(("already_passed", "You have already passed this post-test."))
    elif status.attempts_left == 0:
        problems.append(("no_attempts_left", "You have used all your attempts at this test."))
    elif number != status.next_number:
        problems.append(
            ("stale_form", "This form is out of date (another attempt was submitted); reload it.")
        )
    if problems:
        raise PostTestRefused(problems)
