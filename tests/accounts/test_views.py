import json
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import BoardCertification, ProfessionalProfile, StateLicense, User
from tests.factories import PASSWORD, ProfileFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "New.Person@Example.org",
    "legal_name": "New Person",
    "degree": "RN",
    "password1": "A-long-unusual-pass-42",
    "password2": "A-long-unusual-pass-42",
}


def _errors(response, form="form"):
    return response.context[form].errors


@pytest.mark.parametrize(
    ("name", "template"),
    [
        ("accounts:signup", "accounts/signup.html"),
        ("accounts:login", "registration/login.html"),
        ("accounts:password_reset", "registration/password_reset_form.html"),
        ("accounts:password_reset_done", "registration/password_reset_done.html"),
    ],
)
def test_anonymous_pages_render(client, name, template):
    response = client.get(reverse(name))

    assert response.status_code == 200
    assert response.templates[0].name == template


@pytest.mark.parametrize(
    ("name", "template"),
    [
        ("accounts:profile", "accounts/profile.html"),
        ("accounts:my-data", "accounts/my_data.html"),
        ("accounts:password_change", "registration/password_change_form.html"),
        ("accounts:password_change_done", "registration/password_change_done.html"),
    ],
)
def test_member_pages_render(logged_in_client, name, template):
    response = logged_in_client.get(reverse(name))

    assert response.status_code == 200
    assert response.templates[0].name == template


def test_password_reset_bad_link_explains(client):
    response = client.get(
        reverse("accounts:password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad-token"})
    )

    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "This link no longer works" in response.content.decode()


# --- sign-up -----------------------------------------------------------------------------------


def test_signup_creates_account_logs_in_and_redirects_to_profile(client):
    response = client.post(reverse("accounts:signup"), SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    user = User.objects.get()
    assert user.email == "new.person@example.org"
    assert (user.profile.legal_name, user.profile.degree) == ("New Person", "RN")
    assert client.get(reverse("accounts:profile")).context["user"] == user


def test_signup_duplicate_email_other_case_refused(client):
    UserFactory(email="new.person@example.org")

    response = client.post(
        reverse("accounts:signup"), {**SIGNUP, "email": "NEW.PERSON@example.ORG"}
    )

    assert response.status_code == 200
    assert _errors(response) == {
        "email": ["An account with this e-mail address already exists. Log in instead."]
    }
    assert User.objects.count() == 1


def test_signup_password_mismatch_refused(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "password2": "Something-else-42"})

    assert response.status_code == 200
    assert _errors(response) == {"password2": ["The two passwords differ."]}
    assert User.objects.count() == 0


def test_signup_weak_password_refused(client):
    response = client.post(
        reverse("accounts:signup"), {**SIGNUP, "password1": "12345678", "password2": "12345678"}
    )

    assert list(_errors(response)) == ["password2"]
    assert User.objects.count() == 0


# --- login / logout ----------------------------------------------------------------------------


def test_login_email_in_other_case_works(client):
    user = UserFactory(email="doc@example.org")

    response = client.post(
        reverse("accounts:login"), {"username": "DOC@Example.ORG", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("conference:event-list")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_wrong_password_clear_error(client):
    UserFactory(email="doc@example.org")

    response = client.post(
        reverse("accounts:login"), {"username": "doc@example.org", "password": "wrong"}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "That e-mail address and password do not match an account."
    ]
    assert "_auth_user_id" not in client.session


def test_login_safe_next_honoured(client):
    UserFactory(email="doc@example.org")

    response = client.post(
        reverse("accounts:login"),
        {"username": "doc@example.org", "password": PASSWORD, "next": "/accounts/profile/"},
    )

    assert response["Location"] == "/accounts/profile/"


@pytest.mark.parametrize("next_url", ["https://evil.example.com/", "//evil.example.com/x"])
def test_login_unsafe_next_ignored(client, next_url):
    UserFactory(email="doc@example.org")

    response = client.post(
        reverse("accounts:login"),
        {"username": "doc@example.org", "password": PASSWORD, "next": next_url},
    )

    assert response["Location"] == reverse("conference:event-list")


def test_logout_get_refused(logged_in_client, user):
    response = logged_in_client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert logged_in_client.session["_auth_user_id"] == str(user.pk)


def test_logout_post_logs_out(logged_in_client):
    response = logged_in_client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in logged_in_client.session


# --- profile -----------------------------------------------------------------------------------


def _profile_post(**overrides):
    data = {
        "display_name": "Dr Ada",
        "legal_name": "Ada Lovelace",
        "degree": "MD",
        "specialty": "Cardiology",
        "npi": "1234567893",
        "nabp_eprofile_id": "",
        "birth_month": "2",
        "birth_day": "29",
        "consent_share_with_boards": "on",
        "licenses-TOTAL_FORMS": "2",
        "licenses-INITIAL_FORMS": "0",
        "licenses-0-state": "CA",
        "licenses-0-number": "A12345",
        "licenses-1-state": "NY",
        "licenses-1-number": "N-9",
        "boards-TOTAL_FORMS": "1",
        "boards-INITIAL_FORMS": "0",
        "boards-0-board": "ABIM",
        "boards-0-board_id": "778899",
    }
    data.update(overrides)
    return data


def test_profile_requires_login(client):
    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_profile_edit_saves_profile_licenses_and_boards(logged_in_client, user):
    response = logged_in_client.post(reverse("accounts:profile"), _profile_post())

    assert response.status_code == 302
    profile = ProfessionalProfile.objects.get(user=user)
    assert (profile.legal_name, profile.npi, profile.birth_month, profile.birth_day) == (
        "Ada Lovelace",
        "1234567893",
        2,
        29,
    )
    assert (profile.consent_share_with_boards, profile.consent_share_with_exhibitors) == (
        True,
        False,
    )
    assert User.objects.get(pk=user.pk).display_name == "Dr Ada"
    assert list(profile.licenses.values_list("state", "number")) == [
        ("CA", "A12345"),
        ("NY", "N-9"),
    ]
    assert list(profile.boards.values_list("board", "board_id")) == [("ABIM", "778899")]


def test_profile_edit_deletes_checked_license(client):
    profile = ProfileFactory()
    kept = StateLicense.objects.create(profile=profile, state="CA", number="KEEP")
    dropped = StateLicense.objects.create(profile=profile, state="TX", number="DROP")
    client.force_login(profile.user)
    data = _profile_post(
        **{
            "licenses-TOTAL_FORMS": "3",
            "licenses-INITIAL_FORMS": "2",
            "licenses-0-id": str(kept.pk),
            "licenses-0-state": "CA",
            "licenses-0-number": "KEEP",
            "licenses-1-id": str(dropped.pk),
            "licenses-1-state": "TX",
            "licenses-1-number": "DROP",
            "licenses-1-DELETE": "on",
            "licenses-2-state": "",
            "licenses-2-number": "",
        }
    )

    response = client.post(reverse("accounts:profile"), data)

    assert response.status_code == 302
    assert list(profile.licenses.values_list("state", "number")) == [("CA", "KEEP")]


def test_profile_edit_bad_npi_saves_nothing(logged_in_client, user):
    response = logged_in_client.post(reverse("accounts:profile"), _profile_post(npi="1234567890"))

    assert response.status_code == 200
    assert _errors(response) == {"npi": ["This NPI's check digit is wrong; please re-check it."]}
    assert ProfessionalProfile.objects.count() == 0
    assert StateLicense.objects.count() == 0
    assert BoardCertification.objects.count() == 0
    assert User.objects.get(pk=user.pk).display_name == user.display_name


def test_profile_edit_31_april_refused(logged_in_client):
    response = logged_in_client.post(
        reverse("accounts:profile"), _profile_post(birth_month="4", birth_day="31")
    )

    assert response.status_code == 200
    assert _errors(response) == {"birth_day": ["April has no day 31."]}
    assert ProfessionalProfile.objects.count() == 0


def test_profile_edit_bad_nabp_refused(logged_in_client):
    response = logged_in_client.post(
        reverse("accounts:profile"), _profile_post(nabp_eprofile_id="12ab")
    )

    assert _errors(response) == {"nabp_eprofile_id": ["An NABP e-Profile ID is 6 or 7 digits."]}
    assert ProfessionalProfile.objects.count() == 0


def test_profile_edit_duplicate_state_refused(logged_in_client):
    response = logged_in_client.post(
        reverse("accounts:profile"), _profile_post(**{"licenses-1-state": "CA"})
    )

    assert response.status_code == 200
    assert response.context["licenses"].non_form_errors() == ["List each state only once."]
    assert StateLicense.objects.count() == 0


def test_profile_page_shows_existing_licenses(client):
    profile = ProfileFactory()
    StateLicense.objects.create(profile=profile, state="OR", number="OR-777")
    client.force_login(profile.user)

    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 200
    assert [form.instance.number for form in response.context["licenses"].initial_forms] == [
        "OR-777"
    ]


# --- password change and reset -----------------------------------------------------------------


def test_password_change_works(logged_in_client, user):
    response = logged_in_client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Another-long-pass-77",
            "new_password2": "Another-long-pass-77",
        },
    )

    assert response["Location"] == reverse("accounts:password_change_done")
    assert User.objects.get(pk=user.pk).check_password("Another-long-pass-77")


def test_password_reset_sends_one_email_with_working_link(client):
    user = UserFactory(email="doc@example.org")

    response = client.post(reverse("accounts:password_reset"), {"email": "DOC@example.org"})

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert (message.to, message.subject) == (["doc@example.org"], "Reset your MedVenue password")
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Fresh-long-pass-99", "new_password2": "Fresh-long-pass-99"},
    )
    assert response["Location"] == reverse("accounts:password_reset_complete")
    assert User.objects.get(pk=user.pk).check_password("Fresh-long-pass-99")


def test_password_reset_unknown_address_looks_the_same(client):
    UserFactory(email="doc@example.org")

    known = client.post(reverse("accounts:password_reset"), {"email": "doc@example.org"})
    unknown = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert [message.to for message in mail.outbox] == [["doc@example.org"]]


# --- my data -----------------------------------------------------------------------------------


def test_export_requires_login(client):
    response = client.get(reverse("accounts:export"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_export_downloads_only_own_data(client):
    other = ProfileFactory(legal_name="Other Person")
    StateLicense.objects.create(profile=other, state="TX", number="OTHER-LIC")
    RegistrationFactory(user=other.user)
    mine = ProfileFactory(legal_name="Me Myself")
    StateLicense.objects.create(profile=mine, state="CA", number="MY-LIC")
    registration = RegistrationFactory(user=mine.user)
    client.force_login(mine.user)

    response = client.get(reverse("accounts:export"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="medvenue-my-data-')
    data = json.loads(response.content)
    assert data["account"]["email"] == mine.user.email
    assert data["profile"]["legal_name"] == "Me Myself"
    assert data["state_licenses"] == [{"state": "CA", "number": "MY-LIC"}]
    assert [row["event"] for row in data["registrations"]] == [registration.event.slug]
    body = response.content.decode()
    assert other.user.email not in body
    assert "OTHER-LIC" not in body
    assert "Other Person" not in body


def test_my_data_page_links_to_export(logged_in_client):
    response = logged_in_client.get(reverse("accounts:my-data"))

    assert response.status_code == 200
    assert reverse("accounts:export") in response.content.decode()
