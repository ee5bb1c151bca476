import pytest

from conference.services import live


@pytest.mark.django_db
def test_entering_a_hall_takes_a_few_queries_whatever_the_user_has(
    hall_setup, django_assert_max_num_queries
):
    live.enter_hall(hall_setup["alice"], hall_setup["hall"].pk, connection="warm")
    # user facts (1 UNION query), feed position, session on now, attendance row
    with django_assert_max_num_queries(5):
        access, state = live.enter_hall(hall_setup["bob"], hall_setup["hall"].pk, connection="c2")
    assert (access.user_id, access.role, access.event_id) == (
        hall_setup["bob"].pk,
        "attendee",
        hall_setup["event"].pk,
    )
    assert state["session"]["id"] == hall_setup["session"].pk
