import pytest
from django.core.exceptions import ValidationError

from accounts.models import (
    BoardCertification,
    Degree,
    ProfessionalProfile,
    StateLicense,
    User,
)
from accounts.privacy import export_user_data
from accounts.services import register_user, update_profile
from tests.factories import EventFactory, ProfileFactory, RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

PROFILE = {
    "legal_name": "Ada Lovelace",
    "degree": Degree.MD,
    "specialty": "Cardiology",
    "npi": "1234567893",
    "nabp_eprofile_id": "",
    "birth_month": 2,
    "birth_day": 29,
    "consent_share_with_boards": True,
    "consent_share_with_exhibitors": False,
}


def test_register_user_creates_user_and_profile():
    user = register_user(
        email="Ada@Example.org", password="s3cret-pass!", legal_name=" Ada L ", degree="MD"
    )

    assert user.email == "ada@example.org"
    assert user.check_password("s3cret-pass!")
    profile = ProfessionalProfile.objects.get(user=user)
    assert (profile.legal_name, profile.degree) == ("Ada L", "MD")


def test_register_user_duplicate_email_other_case_refused():
    UserFactory(email="ada@example.org")

    with pytest.raises(ValidationError) as caught:
        register_user(email="ADA@example.ORG", password="x-pass-123!", legal_name="A", degree="MD")

    assert list(caught.value.error_dict) == ["email"]
    assert User.objects.count() == 1


def test_register_user_bad_degree_saves_nothing():
    with pytest.raises(ValidationError):
        register_user(email="b@example.org", password="x-pass-123!", legal_name="B", degree="XX")

    assert User.objects.count() == 0


def test_update_profile_saves_everything():
    user = UserFactory()

    update_profile(
        user,
        display_name="Ada",
        profile_data=PROFILE,
        licenses=[("CA", "A123"), ("NY", "N9")],
        boards=[("ABIM", "555")],
    )

    profile = ProfessionalProfile.objects.get(user=user)
    assert {field: getattr(profile, field) for field in PROFILE} == PROFILE
    assert User.objects.get(pk=user.pk).display_name == "Ada"
    assert list(profile.licenses.values_list("state", "number")) == [("CA", "A123"), ("NY", "N9")]
    assert list(profile.boards.values_list("board", "board_id")) == [("ABIM", "555")]


def test_update_profile_replaces_rows():
    profile = ProfileFactory()
    StateLicense.objects.create(profile=profile, state="CA", number="old")
    StateLicense.objects.create(profile=profile, state="TX", number="gone")
    BoardCertification.objects.create(profile=profile, board="ABS", board_id="1")

    update_profile(
        profile.user,
        display_name="",
        profile_data=PROFILE,
        licenses=[("CA", "new"), ("WA", "W1")],
        boards=[],
    )

    assert list(profile.licenses.values_list("state", "number")) == [("CA", "new"), ("WA", "W1")]
    assert list(profile.boards.all()) == []


def test_update_profile_bad_npi_saves_nothing():
    profile = ProfileFactory(legal_name="Before", npi="", user__display_name="Old name")

    with pytest.raises(ValidationError) as caught:
        update_profile(
            profile.user,
            display_name="Changed",
            profile_data={**PROFILE, "npi": "1234567890"},
            licenses=[("CA", "A1")],
            boards=[],
        )

    assert list(caught.value.error_dict) == ["npi"]
    profile.refresh_from_db()
    assert (profile.legal_name, profile.npi) == ("Before", "")
    assert StateLicense.objects.count() == 0
    assert User.objects.get(pk=profile.user.pk).display_name == "Old name"


def test_update_profile_bad_license_rolls_back_profile():
    profile = ProfileFactory(legal_name="Before")

    with pytest.raises(ValidationError):
        update_profile(
            profile.user,
            display_name="x",
            profile_data=PROFILE,
            licenses=[("ZZ", "A1")],
            boards=[],
        )

    profile.refresh_from_db()
    assert profile.legal_name == "Before"
    assert StateLicense.objects.count() == 0


def test_export_user_data_only_own_data():
    other = ProfileFactory(legal_name="Other Person", npi="1245319599")
    StateLicense.objects.create(profile=other, state="TX", number="OTHER")
    BoardCertification.objects.create(profile=other, board="ABS", board_id="OTHER")
    RegistrationFactory(user=other.user)
    mine = ProfileFactory(legal_name="Me Myself", npi="1234567893", birth_month=4, birth_day=1)
    StateLicense.objects.create(profile=mine, state="CA", number="MINE")
    BoardCertification.objects.create(profile=mine, board="ABIM", board_id="MINE")
    event = EventFactory(slug="cardio-2026", title="Cardio 2026")
    registration = RegistrationFactory(user=mine.user, event=event)

    data = export_user_data(mine.user)

    user = mine.user
    summary = ("account", "profile", "state_licenses", "board_certifications", "registrations")
    assert {key: data[key] for key in summary} == {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": user.date_joined.isoformat(),
            "last_login": None,
        },
        "profile": {
            "legal_name": "Me Myself",
            "given_name": "",
            "family_name": "",
            "degree": "MD",
            "specialty": "",
            "npi": "1234567893",
            "nabp_eprofile_id": "",
            "birth_month": 4,
            "birth_day": 1,
            "consent_share_with_boards": False,
            "consent_share_with_exhibitors": False,
            "updated_at": ProfessionalProfile.objects.get(pk=mine.pk).updated_at.isoformat(),
        },
        "state_licenses": [{"state": "CA", "number": "MINE"}],
        "board_certifications": [{"board": "ABIM", "board_id": "MINE"}],
        "registrations": [
            {
                "event": "cardio-2026",
                "event_title": "Cardio 2026",
                "role": "attendee",
                "status": "active",
                "created_at": registration.created_at.isoformat(),
                "cancelled_at": None,
            }
        ],
    }


def test_export_user_data_without_profile():
    user = UserFactory()

    data = export_user_data(user)

    assert (data["profile"], data["state_licenses"], data["registrations"]) == (None, [], [])
