import pytest

from conference.services import live


@pytest.mark.django_db
def test_entering_a_hall_takes_one_query_whatever_the_user_has(
    hall_setup, django_assert_max_num_queries
):
    live.enter_hall(hall_setup["alice"], hall_setup["hall"].pk)  # the venue, cached per process
    # user facts: 1 UNION query (the hall's state and the `join` are shared per batch)
    with django_assert_max_num_queries(1):
        access = live.enter_hall(hall_setup["bob"], hall_setup["hall"].pk)
    assert (access.user_id, access.role, access.event_id) == (
        hall_setup["bob"].pk,
        "attendee",
        hall_setup["event"].pk,
    )


@pytest.mark.django_db
def test_the_hall_now_is_one_read_for_every_user(hall_setup, django_assert_max_num_queries):
    access = live.enter_hall(hall_setup["bob"], hall_setup["hall"].pk)
    # session on now, its speakers, feed position (the stage: one more with live media on)
    with django_assert_max_num_queries(4):
        now = live.hall_now(access.hall_id, access.event_id)
    assert now.session["id"] == hall_setup["session"].pk
    assert "you_moderate" not in now.session
    assert live.session_for(access, now)["you_moderate"] is False
