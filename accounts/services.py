"""Account rules: sign-up and profile changes (export and erasure: `accounts.privacy`)."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import BoardCertification, ProfessionalProfile, StateLicense, User

DUPLICATE_EMAIL_MESSAGE = "An account with this e-mail address already exists. Log in instead."

PROFILE_FIELDS = (
    "legal_name",
    "given_name",
    "family_name",
    "degree",
    "specialty",
    "npi",
    "nabp_eprofile_id",
    "birth_month",
    "birth_day",
    "consent_share_with_boards",
    "consent_share_with_exhibitors",
)


def email_is_taken(email: str) -> bool:
    return User.objects.filter(email__iexact=email.strip()).exists()


def register_user(*, email: str, password: str, legal_name: str, degree: str) -> User:
    """Create a user and their professional profile; e-mail addresses ignore case.

    Raises ValidationError (keyed by field) when the address is taken or the profile is invalid.
    """
    if email_is_taken(email):
        raise ValidationError({"email": DUPLICATE_EMAIL_MESSAGE}, code="duplicate_email")
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email.strip(), password=password)
            profile = ProfessionalProfile(user=user, legal_name=legal_name.strip(), degree=degree)
            profile.full_clean()
            profile.save()
    except IntegrityError:
        raise ValidationError({"email": DUPLICATE_EMAIL_MESSAGE}, code="duplicate_email") from None
    return user


def _locked_profile(user: User) -> ProfessionalProfile:
    profile = ProfessionalProfile.objects.select_for_update().filter(user=user).first()
    return profile or ProfessionalProfile(user=user)


def _replace_rows(
    profile: ProfessionalProfile,
    model: type[StateLicense] | type[BoardCertification],
    rows: Iterable[tuple[str, str]],
    *,
    key_field: str,
    value_field: str,
) -> None:
    """Make the profile's rows of `model` exactly `rows` (pairs of key and identifier)."""
    wanted = dict(rows)
    model.objects.filter(profile=profile).exclude(**{f"{key_field}__in": wanted}).delete()
    existing = {getattr(row, key_field): row for row in model.objects.filter(profile=profile)}
    for key, value in wanted.items():
        row = existing.get(key) or model(profile=profile, **{key_field: key})
        setattr(row, value_field, value.strip())
        row.full_clean()
        row.save()


@transaction.atomic
def update_profile(
    user: User,
    *,
    display_name: str,
    profile_data: Mapping[str, Any],
    licenses: Iterable[tuple[str, str]],
    boards: Iterable[tuple[str, str]],
) -> ProfessionalProfile:
    """Save the user's display name, profile, state licenses and board certifications at once.

    `licenses` are (state, license number) pairs and `boards` (board, board ID) pairs; rows not
    listed are removed. Anything invalid raises ValidationError and nothing is saved.
    """
    profile = _locked_profile(user)
    for field in PROFILE_FIELDS:
        if field in profile_data:
            setattr(profile, field, profile_data[field])
    if "given_name" in profile_data or "family_name" in profile_data:
        # The learner has seen (and saved) the names: an automatic split is confirmed.
        profile.name_needs_review = not (profile.given_name.strip() and profile.family_name.strip())
    profile.full_clean()
    profile.save()
    user.display_name = display_name.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name"])
    _replace_rows(profile, StateLicense, licenses, key_field="state", value_field="number")
    _replace_rows(profile, BoardCertification, boards, key_field="board", value_field="board_id")
    return profile
