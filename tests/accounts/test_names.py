"""Given and family names: their own profile fields; existing legal names split once by the
data migration and flagged for the learner to confirm."""

import importlib

import pytest
from django.apps import apps

from accounts.models import ProfessionalProfile
from accounts.services import update_profile
from tests.factories import ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("accounts.migrations.0003_profile_given_family_names")


def test_data_migration_splits_legal_names_and_flags_them_for_review():
    guessed = ProfileFactory(legal_name="Gabriel García Márquez")
    kept = ProfileFactory(legal_name="Ada Lovelace", given_name="Ada", family_name="Lovelace")
    nameless = ProfileFactory(legal_name="")

    migration.split_legal_names(apps, None)

    rows = {
        p.pk: (p.given_name, p.family_name, p.name_needs_review)
        for p in ProfessionalProfile.objects.all()
    }
    assert rows == {
        guessed.pk: ("Gabriel García", "Márquez", True),
        kept.pk: ("Ada", "Lovelace", False),
        nameless.pk: ("", "", False),
    }


def test_saving_the_names_in_the_profile_confirms_them():
    user = UserFactory()
    ProfileFactory(
        user=user,
        legal_name="Gabriel García Márquez",
        given_name="Gabriel García",
        family_name="Márquez",
        name_needs_review=True,
    )

    profile = update_profile(
        user,
        display_name="",
        profile_data={"given_name": "Gabriel", "family_name": "García Márquez"},
        licenses=[],
        boards=[],
    )

    assert (profile.given_name, profile.family_name, profile.name_needs_review) == (
        "Gabriel",
        "García Márquez",
        False,
    )
