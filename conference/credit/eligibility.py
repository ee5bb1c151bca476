"""Who may claim a credit type: degree, required learner IDs, live versus enduring."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from accounts.validators import (
    validate_birth_month_day,
    validate_nabp_eprofile_id,
    validate_npi,
)
from conference.credit.rules import ID_BIRTH_MMDD, ID_BOARD, ID_NABP, ID_NPI, CreditTypeRule

LIVE = "live"
ENDURING = "enduring"


@dataclass(frozen=True)
class LearnerIds:
    """The identifiers accreditors and boards ask for (never a birth year)."""

    npi: str = ""
    nabp_eprofile_id: str = ""
    birth_month: int | None = None
    birth_day: int | None = None
    board_ids: tuple[tuple[str, str], ...] = ()

    def board_id(self, board: str) -> str:
        return dict(self.board_ids).get(board, "")


def id_problems(rule: CreditTypeRule, ids: LearnerIds) -> list[str]:
    """Problems that block a claim of `rule`, e.g. ["npi_invalid", "board_id_missing"].

    A required ID that is absent is "<id>_missing"; any ID that is present but malformed is
    "<id>_invalid", required or not (a bad NPI must be fixed before it reaches a report).
    """
    problems: list[str] = []
    checks: tuple[tuple[str, bool, Callable[[], object]], ...] = (
        (ID_NPI, bool(ids.npi), lambda: validate_npi(ids.npi)),
        (
            ID_NABP,
            bool(ids.nabp_eprofile_id),
            lambda: validate_nabp_eprofile_id(ids.nabp_eprofile_id),
        ),
        (
            ID_BIRTH_MMDD,
            ids.birth_month is not None or ids.birth_day is not None,
            lambda: _require_full_birth_mmdd(ids),
        ),
        (ID_BOARD, bool(rule.board and ids.board_id(rule.board)), lambda: None),
    )
    for kind, present, validate in checks:
        if not present:
            if kind in rule.required_ids:
                problems.append(f"{kind}_missing")
            continue
        try:
            validate()
        except ValidationError:
            problems.append(f"{kind}_invalid")
    return problems


def _require_full_birth_mmdd(ids: LearnerIds) -> None:
    validate_birth_month_day(ids.birth_month, ids.birth_day)


def live_and_enduring_conflicts(claims: Iterable[tuple[str, str]]) -> set[str]:
    """Content keys claimed both live and as enduring material (from (content key, format)).

    Nobody earns credit for both a live session and its recording.
    """
    formats: dict[str, set[str]] = {}
    for content, claim_format in claims:
        formats.setdefault(content, set()).add(claim_format)
    return {content for content, seen in formats.items() if {LIVE, ENDURING} <= seen}


def may_claim_format(claims: Iterable[tuple[str, str]], *, content: str, claim_format: str) -> bool:
    """Whether a new claim of `content` in `claim_format` keeps live and enduring apart."""
    return not live_and_enduring_conflicts([*claims, (content, claim_format)])
