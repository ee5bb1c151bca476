"""Reporting: the PARS learner file of an activity (ACCME), only for learners who consented.

Each learner row is validated on its own: a learner whose data an accreditor would reject is
listed with the reasons instead of breaking the whole file.
"""

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from accounts.models import ProfessionalProfile
from accounts.validators import validate_birth_month_day, validate_npi
from conference.models import Claim, ClaimStatus, EventCredit
from conference.services.cme import effective_credit
from conference.services.credit.rules import ID_BIRTH_MMDD, ID_BOARD, PRESETS

PARS_COLUMNS = (
    "activity_id",
    "completion_date",
    "first_name",
    "last_name",
    "birth_month",
    "birth_day",
    "license_state",
    "license_id",
    "npi",
    "credits",
    "credit_type",
    "certifying_board",
    "board_id",
)


@dataclass(frozen=True)
class ParsProblem:
    learner: str
    email: str
    problems: tuple[str, ...]


def split_name(legal_name: str) -> tuple[str, str]:
    """First and last name: the last word is the last name."""
    parts = legal_name.split()
    if len(parts) < 2:
        return (parts[0] if parts else "", "")
    return " ".join(parts[:-1]), parts[-1]


def _birth_problems(profile: ProfessionalProfile, required: bool) -> list[str]:
    if profile.birth_month is None and profile.birth_day is None:
        return ["birth month/day missing"] if required else []
    try:
        validate_birth_month_day(profile.birth_month, profile.birth_day)
    except ValidationError:
        return ["birth month/day invalid"]
    return []


def _identity_problems(profile: ProfessionalProfile, licenses: list) -> list[str]:
    if profile.npi:
        try:
            validate_npi(profile.npi)
        except ValidationError:
            return ["NPI invalid"]
        return []
    return [] if licenses else ["neither an NPI nor a state license"]


def _row_and_problems(event_credit: EventCredit, claim: Claim) -> tuple[list[str], list[str]]:
    rule = PRESETS[claim.credit_type]
    profile = claim.user.profile
    licenses = list(profile.licenses.all())
    boards = {b.board: b.board_id for b in profile.boards.all()}
    first, last = split_name(profile.legal_name)
    problems = [] if last else ["first and last name needed"]
    problems += _identity_problems(profile, licenses)
    problems += _birth_problems(profile, ID_BIRTH_MMDD in rule.required_ids)
    board_id = boards.get(rule.board, "") if rule.board else ""
    if ID_BOARD in rule.required_ids and not board_id:
        problems.append(f"{rule.board} board ID missing")
    if not event_credit.activity_number:
        problems.append("the activity has no activity ID")
    license_row = licenses[0] if licenses else None
    row = [
        event_credit.activity_number,
        claim.event.end_date.isoformat(),
        first,
        last,
        str(profile.birth_month or ""),
        str(profile.birth_day or ""),
        license_row.state if license_row else "",
        license_row.number if license_row else "",
        profile.npi,
        format(effective_credit(claim), ".2f"),
        claim.credit_type,
        rule.board,
        board_id,
    ]
    return row, problems


def pars_learner_file(event_credit: EventCredit) -> tuple[str, list[ParsProblem]]:
    """CSV text of the valid, consenting learners and the problems of the others."""
    claims = (
        Claim.objects.filter(
            event=event_credit.event,
            credit_type=event_credit.credit_type,
            status=ClaimStatus.APPROVED,
            user__profile__consent_share_with_boards=True,
        )
        .select_related("event", "user__profile")
        .prefetch_related("user__profile__licenses", "user__profile__boards", "corrections")
        .order_by("user__profile__legal_name", "pk")
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(PARS_COLUMNS)
    problems: list[ParsProblem] = []
    for claim in claims:
        row, row_problems = _row_and_problems(event_credit, claim)
        if row_problems:
            problems.append(
                ParsProblem(claim.user.profile.legal_name, claim.user.email, tuple(row_problems))
            )
        else:
            writer.writerow(row)
    return buffer.getvalue(), problems
