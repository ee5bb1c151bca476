"""Post-tests drawn per attempt: shuffled options stored with the attempt, question pools,
exact scoring over what was shown, the item analysis, and the demo's answer positions."""

import io
import random
import re
from html import unescape

import pytest
from django.core.management import call_command
from django.urls import reverse

from conference.management.commands.seed_demo import POST_TEST_QUESTIONS
from conference.models import PostTest, PostTestAttempt, PostTestDraw
from conference.services import posttests
from tests.factories import MembershipFactory
from tests.support.cme import make_event
from tests.support.posttest import make_test, registered_learner

pytestmark = pytest.mark.django_db


def _setup(**options):
    event, _session = make_event()
    test = make_test(event, **options)
    return event, test, registered_learner(event)


def test_draw_layout_shuffles_every_question_with_the_given_random():
    _event, test, _user = _setup()

    first = posttests.draw_layout(test, rng=random.Random(1))
    second = posttests.draw_layout(test, rng=random.Random(2))

    questions = list(test.questions.all())
    assert [item["question"] for item in first] == [q.pk for q in questions]
    for item, question in zip(first, questions, strict=True):
        assert sorted(item["options"]) == sorted(question.choice_list())
    assert first != second  # a different order for another attempt
    assert first == posttests.draw_layout(test, rng=random.Random(1))


def test_option_order_varies_between_attempts_of_one_learner():
    _event, test, user = _setup(max_attempts=None)

    orders = {
        tuple(tuple(item["options"]) for item in posttests.draw_for(user, test, number))
        for number in range(1, 13)
    }

    # 3*2*3*2 = 36 possible orders: twelve draws all alike would be a broken shuffle
    assert len(orders) > 1


def test_take_page_shows_the_drawn_order_and_a_reload_keeps_it(client):
    _event, test, user = _setup()
    client.force_login(user)
    url = reverse("cme:post-test-take", args=[test.pk])

    first = client.get(url).content.decode()
    again = client.get(url).content.decode()

    def shown(html):
        pattern = r'type="radio" name="q\d+" value="([^"]*)"'
        return [unescape(v) for v in re.findall(pattern, html)]

    (draw,) = PostTestDraw.objects.filter(test=test, user=user)
    assert shown(first) == [option for item in draw.layout for option in item["options"]]
    assert shown(again) == shown(first)


def test_attempt_stores_layout_and_scores_exactly_what_was_shown():
    _event, test, user = _setup()
    layout = posttests.draw_for(user, test, 1, rng=random.Random(7))
    questions = {q.pk: q for q in test.questions.all()}
    # answer with the option shown first, whatever it is
    given = {str(item["question"]): item["options"][0] for item in layout}
    right = sum(
        1 for item in layout if item["options"][0] == questions[item["question"]].correct_answer
    )

    attempt, _ = posttests.submit_attempt(user, test, given, number=1)

    assert attempt.layout == layout
    assert attempt.score_percent == right * 100 / len(layout)
    assert [a["answer"] for a in attempt.answers.values()] == list(given.values())


def test_pool_draws_questions_per_attempt_and_scores_over_them():
    _event, test, user = _setup(pass_percent=100)
    PostTest.objects.filter(pk=test.pk).update(questions_per_attempt=2)
    test.refresh_from_db()

    layout = posttests.draw_for(user, test, 1, rng=random.Random(3))
    drawn = [item["question"] for item in layout]
    by_id = {q.pk: q for q in test.questions.all()}
    all_right = {str(q.pk): q.correct_answer for q in by_id.values()}  # extra answers ignored
    attempt, _ = posttests.submit_attempt(user, test, all_right, number=1)

    assert len(drawn) == 2 and len(set(drawn)) == 2
    assert drawn == sorted(drawn, key=lambda pk: by_id[pk].order)
    assert sorted(attempt.answers) == sorted(str(pk) for pk in drawn)
    assert attempt.passed and attempt.score_percent == 100


def test_pool_missing_a_drawn_answer_is_refused():
    _event, test, user = _setup()
    PostTest.objects.filter(pk=test.pk).update(questions_per_attempt=3)
    test.refresh_from_db()
    layout = posttests.draw_for(user, test, 1)
    given = {str(item["question"]): item["options"][0] for item in layout[:2]}

    with pytest.raises(posttests.PostTestRefused) as refused:
        posttests.submit_attempt(user, test, given, number=1)

    assert [code for code, _ in refused.value.problems] == [f"q{layout[2]['question']}"]
    assert not PostTestAttempt.objects.exists()


def test_pool_larger_than_the_test_is_a_setup_problem():
    _event, test, _user = _setup()
    PostTest.objects.filter(pk=test.pk).update(questions_per_attempt=5)
    test.refresh_from_db()

    assert posttests.setup_problems(test) == ["It draws 5 questions per attempt but has only 4."]


def test_item_analysis_share_correct_and_option_distribution(client):
    event, test, first = _setup(max_attempts=None)
    second, third = registered_learner(event), registered_learner(event)
    question = test.questions.first()  # SGLT2 (correct) / calcium channel blocker / digoxin
    others = {str(q.pk): q.correct_answer for q in test.questions.all()[1:]}
    for user, answer in (
        (first, "An SGLT2 inhibitor"),
        (second, "Digoxin only"),
        (third, "An SGLT2 inhibitor"),
    ):
        posttests.submit_attempt(user, test, {**others, str(question.pk): answer}, number=1)

    (item, *_rest) = posttests.item_analysis(test)
    client.force_login(MembershipFactory(organizer=event.organizer).user)
    html = client.get(f"/admin/conference/posttest/{test.pk}/change/").content.decode()

    assert (item.answered, item.correct, str(item.share_correct)) == (3, 2, "66.7")
    assert item.distribution == [
        ("An SGLT2 inhibitor", 2, True),
        ("A calcium channel blocker", 0, False),
        ("Digoxin only", 1, False),
    ]
    assert 'class="item-analysis"' in html
    assert "<li>An SGLT2 inhibitor ✔: 2 (66%)</li>" in html
    assert "<li>Digoxin only: 1 (33%)</li>" in html


def test_demo_post_test_does_not_put_every_correct_answer_first(settings):
    settings.MACHINE_TIME_ZONE = "UTC"
    positions = [choices.index(correct) for _text, choices, correct in POST_TEST_QUESTIONS]

    call_command("seed_demo", stdout=io.StringIO())
    test = PostTest.objects.get()

    assert set(positions) != {0}
    assert [q.choice_list().index(q.correct_answer) for q in test.questions.all()] == positions
