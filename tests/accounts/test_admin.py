"""The user admin: e-mail based forms, and organizer staff see only their own people."""

import pytest

from accounts.models import User
from tests.factories import (
    MembershipFactory,
    ProfileFactory,
    RegistrationFactory,
    SpeakerFactory,
    UserFactory,
)


@pytest.fixture
def people(db):
    """Staff of one organizer, the people of its events, and people of another organizer."""
    membership = MembershipFactory(user__email="staff@example.org")
    event = RegistrationFactory(
        event__organizer=membership.organizer, user__email="mine@example.org"
    ).event
    SpeakerFactory(event=event, user=UserFactory(email="my-speaker@example.org"))
    RegistrationFactory(user__email="theirs@example.org")
    UserFactory(email="stranger@example.org")
    ProfileFactory(user=User.objects.get(email="mine@example.org"), legal_name="Mine Person")
    ProfileFactory(user=User.objects.get(email="theirs@example.org"), legal_name="Their Person")
    return membership.user


def test_superuser_adds_user_with_email_and_password(client, superuser):
    client.force_login(superuser)

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Person@Example.org",
            "usable_password": "true",
            "password1": "a-long-enough-pass-phrase",
            "password2": "a-long-enough-pass-phrase",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.org")
    assert user.check_password("a-long-enough-pass-phrase")


def test_superuser_cannot_add_duplicate_email(client, superuser):
    UserFactory(email="taken@example.org")
    client.force_login(superuser)

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "TAKEN@example.org",
            "usable_password": "true",
            "password1": "a-long-enough-pass-phrase",
            "password2": "a-long-enough-pass-phrase",
        },
    )

    assert response.context["adminform"].form.errors == {
        "email": ["A user with this e-mail address already exists."]
    }
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1


def test_superuser_changes_user(client, superuser):
    user = UserFactory(email="change-me@example.org")
    client.force_login(superuser)
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")

    response = client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": "change-me@example.org",
            "display_name": "Changed",
            "is_active": "on",
            "date_joined_0": "2030-01-01",
            "date_joined_1": "10:00:00",
            "profile-TOTAL_FORMS": 0,
            "profile-INITIAL_FORMS": 0,
            "profile-MIN_NUM_FORMS": 0,
            "profile-MAX_NUM_FORMS": 1,
        },
    )

    assert page.status_code == 200
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Changed"


def test_organizer_staff_see_only_their_people(client, people):
    client.force_login(people)

    response = client.get("/admin/accounts/user/")

    assert [user.email for user in response.context["cl"].result_list] == [
        "mine@example.org",
        "my-speaker@example.org",
        "staff@example.org",
    ]


def test_organizer_staff_see_only_their_profiles(client, people):
    client.force_login(people)

    response = client.get("/admin/accounts/professionalprofile/")

    assert [p.legal_name for p in response.context["cl"].result_list] == ["Mine Person"]


def test_organizer_staff_cannot_open_other_users(client, people):
    client.force_login(people)
    stranger = User.objects.get(email="theirs@example.org")

    response = client.get(f"/admin/accounts/user/{stranger.pk}/change/")

    assert (response.status_code, response.url) == (302, "/admin/")


def test_organizer_staff_view_their_people_read_only(client, people):
    client.force_login(people)
    mine = User.objects.get(email="mine@example.org")

    page = client.get(f"/admin/accounts/user/{mine.pk}/change/")
    post = client.post(f"/admin/accounts/user/{mine.pk}/change/", {"email": "x@example.org"})
    password = client.get(f"/admin/accounts/user/{mine.pk}/password/")

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert (post.status_code, password.status_code) == (403, 403)
    mine.refresh_from_db()
    assert mine.email == "mine@example.org"


def test_staff_without_membership_cannot_list_users(client, people):
    client.force_login(UserFactory(is_staff=True))

    assert client.get("/admin/accounts/user/").status_code == 403
