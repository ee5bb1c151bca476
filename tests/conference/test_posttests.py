"""Post-tests: scoring, attempt limits, double submission, pages, the live claim requirement,
admin validation and scoping."""

from decimal import Decimal

import pytest
from django.urls import reverse

from conference.models import PostTestAttempt
from conference.services import posttests
from conference.services.cme.claims import claim_credit
from conference.services.cme.terms import ClaimRefused
from tests.support.cme import attend, evaluate, learner, make_event
from tests.support.posttest import answers, make_test, registered_learner

pytestmark = pytest.mark.django_db


def _setup(**test_options):
    event, session = make_event()
    test = make_test(event, **test_options)
    return event, session, test, registered_learner(event)


# Scoring and attempts -----------------------------------------------------------------------


def test_attempt_scores_and_passes_at_the_pass_score():
    _event, _session, test, user = _setup(pass_percent=75)

    attempt, created = posttests.submit_attempt(user, test, answers(test, wrong=1), number=1)

    assert created
    assert (attempt.number, attempt.score_percent, attempt.passed) == (1, Decimal("75.00"), True)
    first = next(iter(attempt.answers.values()))
    assert first["correct"] is False and first["question"] == test.questions.first().text


def test_attempt_below_pass_score_fails_with_exact_fraction():
    _event, _session, test, user = _setup(pass_percent=67, questions=_three_questions())

    attempt, _ = posttests.submit_attempt(user, test, answers(test, wrong=1), number=1)

    assert attempt.score_percent == Decimal("66.67")
    assert attempt.passed is False


def _three_questions():
    from tests.support.posttest import QUESTIONS

    return QUESTIONS[:3]


def test_attempts_stop_at_max_attempts():
    _event, _session, test, user = _setup(max_attempts=2)
    posttests.submit_attempt(user, test, answers(test, wrong=4), number=1)
    posttests.submit_attempt(user, test, answers(test, wrong=4), number=2)

    with pytest.raises(posttests.PostTestRefused) as refused:
        posttests.submit_attempt(user, test, answers(test), number=3)

    assert refused.value.codes == ["no_attempts_left"]
    assert PostTestAttempt.objects.filter(user=user).count() == 2
    assert posttests.attempt_status(user, test).reveal_answers


def test_no_attempt_after_passing():
    _event, _session, test, user = _setup()
    posttests.submit_attempt(user, test, answers(test), number=1)

    with pytest.raises(posttests.PostTestRefused) as refused:
        posttests.submit_attempt(user, test, answers(test), number=2)

    assert refused.value.codes == ["already_passed"]


def test_same_form_submitted_twice_stores_one_attempt():
    _event, _session, test, user = _setup()

    first, created_first = posttests.submit_attempt(user, test, answers(test, wrong=3), number=1)
    again, created_again = posttests.submit_attempt(user, test, answers(test), number=1)

    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk and again.passed is False
    assert PostTestAttempt.objects.filter(user=user).count() == 1


def test_stale_form_number_is_refused():
    _event, _session, test, user = _setup()

    with pytest.raises(posttests.PostTestRefused) as refused:
        posttests.submit_attempt(user, test, answers(test), number=5)

    assert refused.value.codes == ["stale_form"]
    assert not PostTestAttempt.objects.exists()


def test_missing_and_unknown_answers_store_nothing():
    _event, _session, test, user = _setup()
    given = answers(test)
    first, second = list(test.questions.all())[:2]
    del given[str(first.pk)]
    given[str(second.pk)] = "Something else entirely"

    with pytest.raises(posttests.PostTestRefused) as refused:
        posttests.submit_attempt(user, test, given, number=1)

    assert refused.value.codes == [f"q{first.pk}", f"q{second.pk}"]
    assert not PostTestAttempt.objects.exists()


def test_test_without_questions_cannot_be_taken():
    event, _session = make_event()
    test = make_test(event, questions=())
    user = registered_learner(event)

    with pytest.raises(posttests.PostTestRefused) as refused:
        posttests.submit_attempt(user, test, {}, number=1)

    assert refused.value.codes == ["test_not_ready"]


def test_question_problems_name_every_mistake():
    assert posttests.question_problems(choices="Only one", correct_answer="Other") == [
        ("choices", "Give at least two answer options, one per line."),
        ("correct_answer", "The correct answer must be one of the options, exactly as written."),
    ]
    assert posttests.question_problems(choices="A\nA", correct_answer="A") == [
        ("choices", "Each answer option must be different.")
    ]
    assert posttests.question_problems(choices="A\nB\n", correct_answer=" B ") == []


# Pages ---------------------------------------------------------------------------------------


def test_intro_page_announces_pass_score_and_attempts_before_starting(client):
    _event, _session, test, user = _setup(pass_percent=80, max_attempts=3)
    client.force_login(user)

    html = client.get(reverse("cme:post-test", args=[test.pk])).content.decode()

    assert "<strong>80%</strong> of the questions" in html
    assert "3 of 3 left" in html
    assert reverse("cme:post-test-take", args=[test.pk]) in html


def test_taking_page_submits_and_shows_result_without_answers_before_passing(client):
    _event, _session, test, user = _setup(pass_percent=80, max_attempts=3)
    client.force_login(user)
    form = client.get(reverse("cme:post-test-take", args=[test.pk])).content.decode()
    assert 'name="attempt" value="1"' in form
    data = {f"q{k}": v for k, v in answers(test, wrong=2).items()} | {"attempt": "1"}

    response = client.post(reverse("cme:post-test-take", args=[test.pk]), data, follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("cme:post-test-result", args=[test.pk, 1])
    assert "Not passed: you scored 50% and the pass score is 80%." in html
    assert "2 attempts left." in html
    assert "the correct answer is" not in html
    assert "An SGLT2 inhibitor" not in html


def test_double_post_of_the_form_creates_one_attempt(client):
    _event, _session, test, user = _setup()
    client.force_login(user)
    data = {f"q{k}": v for k, v in answers(test).items()} | {"attempt": "1"}
    url = reverse("cme:post-test-take", args=[test.pk])

    client.post(url, data)
    second = client.post(url, data, follow=True)

    assert PostTestAttempt.objects.filter(user=user, test=test).count() == 1
    assert "already submitted" in second.content.decode()


def test_bad_form_shows_errors_keeps_answers_and_stores_nothing(client):
    _event, _session, test, user = _setup()
    client.force_login(user)
    given = answers(test)
    first = test.questions.first()
    data = {f"q{k}": v for k, v in given.items() if k != str(first.pk)} | {"attempt": "1"}
    data[f"q{test.questions.last().pk}"] = "<script>alert(1)</script>"

    response = client.post(reverse("cme:post-test-take", args=[test.pk]), data)

    html = response.content.decode()
    assert response.status_code == 400
    assert f"Answer question 1: {first.text}" in html
    assert "Choose one of the options of question 4." in html
    assert "<script>alert(1)</script>" not in html
    second = list(test.questions.all())[1]
    assert f'value="{second.correct_answer}" required checked' in html
    assert not PostTestAttempt.objects.exists()


def test_result_reveals_correct_answers_after_passing(client):
    _event, _session, test, user = _setup(pass_percent=70)
    posttests.submit_attempt(user, test, answers(test, wrong=1), number=1)
    client.force_login(user)

    html = client.get(reverse("cme:post-test-result", args=[test.pk, 1])).content.decode()

    assert "Passed (pass score 70%)" in html
    assert "the correct answer is <strong>An SGLT2 inhibitor</strong>" in html


def test_unregistered_user_may_not_take_the_test(client):
    _event, _session, test, _user = _setup()
    client.force_login(learner(legal_name="Not Registered"))

    assert client.get(reverse("cme:post-test", args=[test.pk])).status_code == 403
    response = client.post(
        reverse("cme:post-test-take", args=[test.pk]),
        {f"q{k}": v for k, v in answers(test).items()} | {"attempt": "1"},
    )
    assert response.status_code == 403
    assert not PostTestAttempt.objects.exists()


def test_another_learners_attempt_is_not_found(client):
    event, _session, test, user = _setup()
    posttests.submit_attempt(user, test, answers(test), number=1)
    other = registered_learner(event, legal_name="Someone Else")
    client.force_login(other)

    assert client.get(reverse("cme:post-test-result", args=[test.pk, 1])).status_code == 404


# The live claim requirement -----------------------------------------------------------------


def test_live_claim_waits_for_a_passed_post_test(client, media_root):
    event, session, test, user = _setup(pass_percent=80)
    event.credits.filter(credit_type="AMA_PRA_1").update(post_test=test)
    attend(user, session, minutes=60)
    evaluate(user, event)

    with pytest.raises(ClaimRefused) as refused:
        claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)
    assert refused.value.problems == [
        ("post_test_required", "Pass the post-test (pass score 80%) to claim this credit.")
    ]
    client.force_login(user)
    html = client.get(reverse("cme:event", args=[event.slug])).content.decode()
    assert reverse("cme:post-test", args=[test.pk]) in html
    assert "Pass the post-test (pass score 80%) to claim this credit." in html
    participation = claim_credit(user, event, "PARTICIPATION", amount="1.00", attested=True)
    assert participation.status == "approved"

    posttests.submit_attempt(user, test, answers(test), number=1)
    claim = claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)

    assert (claim.credit_type, claim.status, claim.claimed_credit) == (
        "AMA_PRA_1",
        "approved",
        Decimal("1.00"),
    )


# Admin ---------------------------------------------------------------------------------------

POST_TESTS = "/admin/conference/posttest/"


def _staff_of(event):
    from tests.factories import MembershipFactory

    return MembershipFactory(organizer=event.organizer).user


def _question_post(event, *, choices, correct):
    return {
        "event": str(event.pk),
        "title": "Sepsis post-test",
        "instructions": "",
        "pass_percent": "70",
        "max_attempts": "3",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-order": "0",
        "questions-0-text": "Sepsis bundle within",
        "questions-0-choices": choices,
        "questions-0-correct_answer": correct,
    }


def test_admin_refuses_a_correct_answer_that_is_not_an_option(client):
    event, _session = make_event()
    client.force_login(_staff_of(event))

    response = client.post(
        f"{POST_TESTS}add/", _question_post(event, choices="1 hour\n6 hours", correct="3 hours")
    )

    assert response.status_code == 200
    assert "The correct answer must be one of the options, exactly as written." in (
        response.content.decode()
    )
    assert not event.post_tests.exists()


def test_admin_refuses_a_single_option(client):
    event, _session = make_event()
    client.force_login(_staff_of(event))

    response = client.post(
        f"{POST_TESTS}add/", _question_post(event, choices="1 hour", correct="1 hour")
    )

    assert "Give at least two answer options, one per line." in response.content.decode()
    assert not event.post_tests.exists()


def test_admin_saves_a_valid_test_and_warns_when_it_has_no_questions(client):
    event, _session = make_event()
    client.force_login(_staff_of(event))

    client.post(
        f"{POST_TESTS}add/", _question_post(event, choices="1 hour\n6 hours", correct="1 hour")
    )
    empty = _question_post(event, choices="", correct="") | {"questions-TOTAL_FORMS": "0"}
    response = client.post(f"{POST_TESTS}add/", empty, follow=True)

    saved = list(event.post_tests.order_by("pk"))
    assert [t.questions.count() for t in saved] == [1, 0]
    assert "Learners cannot take this test yet: This post-test has no questions yet." in (
        response.content.decode()
    )


def test_admin_lists_only_own_organizers_tests(client):
    mine_event, _ = make_event()
    theirs_event, _ = make_event()
    mine = make_test(mine_event)
    theirs = make_test(theirs_event)
    theirs.title = "Their secret test"
    theirs.save()
    client.force_login(_staff_of(mine_event))

    html = client.get(POST_TESTS).content.decode()

    assert f"{POST_TESTS}{mine.pk}/change/" in html
    assert "Their secret test" not in html
    assert client.get(f"{POST_TESTS}{theirs.pk}/change/").status_code == 302
    attempts = client.get("/admin/conference/posttestattempt/").status_code
    assert attempts == 200


def test_event_credit_post_test_choices_are_the_events_tests(client):
    event, _session = make_event()
    own = make_test(event)
    other_event, _ = make_event(organizer=event.organizer)
    sibling = make_test(other_event)
    sibling.title = "Sibling event test"
    sibling.save()
    foreign = make_test(make_event()[0])
    foreign.title = "Foreign organizer test"
    foreign.save()
    credit = event.credits.get(credit_type="AMA_PRA_1")
    client.force_login(_staff_of(event))
    url = f"/admin/conference/eventcredit/{credit.pk}/change/"

    html = client.get(url).content.decode()

    assert f'<option value="{own.pk}">' in html
    assert "Sibling event test" not in html and "Foreign organizer test" not in html


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tabs_submitting_at_once_store_one_attempt():
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection

    _event, _session, test, user = _setup()
    barrier = Barrier(2)

    def submit(wrong):
        try:
            barrier.wait(timeout=10)
            attempt, created = posttests.submit_attempt(
                user, test, answers(test, wrong=wrong), number=1
            )
            return attempt.pk, created
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(submit, [0, 4]))

    assert len({pk for pk, _ in outcomes}) == 1
    assert sorted(created for _, created in outcomes) == [False, True]
    assert PostTestAttempt.objects.filter(user=user, test=test).count() == 1
