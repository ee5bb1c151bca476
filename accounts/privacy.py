"""A person's rights over their data: the complete export and the erasure of their account.

`accounts` knows only its own models, so the apps above it (`conference`) take part through a
`PrivacyContributor` they register in their `AppConfig.ready()`: the files that belong to a
person (certificate PDFs), what erasure must keep and why, and how their own rows are erased.

The export walks the model registry: every table with a foreign key to the user, plus the rows
that belong to those rows (a profile's licences, a claim's certificates and corrections, an
evaluation's answers), so a new table holding personal data is exported without being listed
here. Keys to *other* people in those rows are left out.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from accounts.models import BoardCertification, ProfessionalProfile, StateLicense, User
from accounts.services import PROFILE_FIELDS

if TYPE_CHECKING:
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.db.models import ForeignObjectRel

EXPORT_FORMAT = "medvenue-personal-data/2"
ERASED_NAME = "Erased learner"
ERASED_EMAIL_DOMAIN = "erased.invalid"


@dataclass(frozen=True)
class Retained:
    """Something erasure keeps: what, why, and for how long."""

    what: str
    reason: str
    period: str


class PrivacyContributor(Protocol):
    def files(self, user: User) -> Iterable[tuple[str, Path | bytes]]:
        """(name in the zip, path on disk or the content) of the person's files."""

    def retained(self) -> list[Retained]:
        """What erasure keeps of this app's data."""

    def erased(self) -> list[str]:
        """What erasure removes of this app's data (shown before confirming)."""

    def erase(self, user: User) -> None:
        """Remove or pseudonymise this app's rows of `user` (inside the erasure transaction)."""


_contributors: list[PrivacyContributor] = []


def register_contributor(contributor: PrivacyContributor) -> None:
    if contributor not in _contributors:
        _contributors.append(contributor)


# Export -------------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _is_user_key(field: models.Field) -> bool:
    return bool(
        field.is_relation
        and (field.many_to_one or field.one_to_one)
        and field.related_model is User
    )


def _row(instance: models.Model, user: User) -> dict[str, Any]:
    """The row's columns; keys to another person are left out (their data is not ours)."""
    data = {}
    for field in instance._meta.concrete_fields:
        value = field.value_from_object(instance)
        if _is_user_key(field) and value not in (None, user.pk):
            continue
        if field.name == "password":
            continue
        data[field.attname if field.is_relation else field.name] = _json_value(value)
    return data


def personal_tables() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with a foreign key to User, with the names of those keys."""
    found = []
    for model in apps.get_models():
        keys = [f.name for f in model._meta.concrete_fields if _is_user_key(f)]
        if keys:
            found.append((model, keys))
    return found


def _owned_by(field: models.Field | ForeignObjectRel | GenericForeignKey) -> bool:
    """A key from a child to a row that belongs to the person (deleting the person would
    delete or block the row), not a mere mention such as "created by"."""
    if not isinstance(field, models.ForeignObject):
        return False  # keys to the person (`personal_tables`) are always foreign keys
    return field.remote_field.on_delete in (models.CASCADE, models.PROTECT)


def _children(model: type[models.Model]) -> list[tuple[type[models.Model], str]]:
    return [
        (relation.field.model, relation.field.name)
        for relation in model._meta.related_objects
        if relation.one_to_many and not _is_user_key(relation.field)
    ]


def export_tables(user: User) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that holds the person's data, keyed "app_label.Model"."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for model, keys in personal_tables():
        query = models.Q()
        for key in keys:
            query |= models.Q(**{key: user})
        rows = list(model._default_manager.filter(query).order_by("pk"))
        tables[model._meta.label] = [_row(row, user) for row in rows]
        owned = [k for k in keys if _owned_by(model._meta.get_field(k))]
        if not owned:
            continue
        parents = model._default_manager.filter(**{owned[0]: user}).values("pk")
        for child, field in _children(model):
            child_rows = child._default_manager.filter(**{f"{field}__in": parents}).order_by("pk")
            tables.setdefault(child._meta.label, [])
            known = {row["id"] for row in tables[child._meta.label] if "id" in row}
            tables[child._meta.label] += [
                _row(row, user) for row in child_rows if row.pk not in known
            ]
    return dict(sorted(tables.items()))


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _summary(user: User) -> dict[str, Any]:
    profile = ProfessionalProfile.objects.filter(user=user).first()
    licenses = StateLicense.objects.filter(profile__user=user).order_by("state")
    boards = BoardCertification.objects.filter(profile__user=user).order_by("board")
    registrations = user.registrations.select_related("event").order_by("created_at", "pk")
    return {
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "profile": None
        if profile is None
        else {
            **{field: getattr(profile, field) for field in PROFILE_FIELDS},
            "updated_at": _iso(profile.updated_at),
        },
        "state_licenses": [{"state": row.state, "number": row.number} for row in licenses],
        "board_certifications": [{"board": row.board, "board_id": row.board_id} for row in boards],
        "registrations": [
            {
                "event": registration.event.slug,
                "event_title": registration.event.title,
                "role": registration.role,
                "status": registration.status,
                "created_at": _iso(registration.created_at),
                "cancelled_at": _iso(registration.cancelled_at),
            }
            for registration in registrations
        ],
    }


def personal_files(user: User) -> list[tuple[str, Path | bytes]]:
    return [item for contributor in _contributors for item in contributor.files(user)]


def export_user_data(user: User) -> dict[str, Any]:
    """Everything MedVenue keeps about `user`, JSON-ready: a readable summary (account,
    profile, licences, boards, registrations), every table row by table, and the names of the
    person's files (in the zip download)."""
    return {
        "format": EXPORT_FORMAT,
        "generated_at": timezone.now().isoformat(),
        **_summary(user),
        "tables": export_tables(user),
        "files": [name for name, _path in personal_files(user)],
    }


def export_zip(user: User) -> bytes:
    """The export as a zip: `my-data.json` and the person's files (certificate PDFs and
    signed credentials)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        data = export_user_data(user)
        archive.writestr("my-data.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name, content in personal_files(user):
            if isinstance(content, bytes):
                archive.writestr(name, content)
            else:
                archive.write(content, name)
    return buffer.getvalue()


# Erasure ------------------------------------------------------------------------------------

ACCOUNT_ERASED = [
    "your e-mail address, display name and password (the account can no longer sign in)",
    "your legal, given and family names, specialty, NPI, NABP e-Profile ID, birth month and "
    "day, and consents",
    "your state licences and board certifications",
    "your e-mail preferences",
]


def erasure_plan() -> dict[str, list]:
    """What erasure removes and what it keeps (with reason and period), for the page."""
    erased = list(ACCOUNT_ERASED)
    retained: list[Retained] = []
    for contributor in _contributors:
        erased += contributor.erased()
        retained += contributor.retained()
    return {"erased": erased, "retained": retained}


def erased_email(user: User) -> str:
    return f"erased-{user.pk}@{ERASED_EMAIL_DOMAIN}"


def is_erased(user: User) -> bool:
    return user.email.endswith(f"@{ERASED_EMAIL_DOMAIN}")


@transaction.atomic
def erase_account(user: User) -> None:
    """Deactivate the account and pseudonymise it: personal fields are replaced, licences and
    boards removed, and each app erases or pseudonymises its own rows. What accreditation
    requires is kept (see `erasure_plan`). Signing in is impossible afterwards and every
    session of the account ends (its password hash changes)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    profile = ProfessionalProfile.objects.filter(user=user).first()
    if profile is not None:
        StateLicense.objects.filter(profile=profile).delete()
        BoardCertification.objects.filter(profile=profile).delete()
        profile.legal_name = ERASED_NAME
        profile.given_name = ""
        profile.family_name = ""
        profile.name_needs_review = False
        profile.specialty = ""
        profile.npi = ""
        profile.nabp_eprofile_id = ""
        profile.birth_month = None
        profile.birth_day = None
        profile.consent_share_with_boards = False
        profile.consent_share_with_exhibitors = False
        profile.save()
    for contributor in _contributors:
        contributor.erase(user)
    user.email = erased_email(user)
    user.display_name = ERASED_NAME
    user.agenda_reminder_emails = False
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.last_login = None
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
