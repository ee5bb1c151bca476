"""Credit type rules and the one function that rounds credit.

A `CreditTypeRule` is plain data: who may earn the type, how time becomes credit (increment,
minimum, rounding mode), what the learner must identify themselves with, and the wording of the
designation statement. The presets follow CME.md; an activity may override any field.
"""

import hashlib
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
from typing import Any

ENGINE_VERSION = "2025.1"

# The values of accounts.models.Degree (kept here so the engine needs no model import; a test
# checks they stay in step).
KNOWN_DEGREES = ("MD", "DO", "RN", "NP", "PA", "PharmD", "other")
PHYSICIAN_DEGREES = ("MD", "DO")

ROUNDING_NEAREST = "nearest"
ROUNDING_DOWN = "down"
ROUNDING_UP = "up"
ROUNDING_MODES = (ROUNDING_NEAREST, ROUNDING_DOWN, ROUNDING_UP)

ID_NPI = "npi"
ID_NABP = "nabp_eprofile_id"
ID_BIRTH_MMDD = "birth_mmdd"
ID_BOARD = "board_id"
ID_KINDS = (ID_NPI, ID_NABP, ID_BIRTH_MMDD, ID_BOARD)

SECONDS_PER_HOUR = 3600

AMA_STATEMENT = (
    "{provider} designates this live activity for a maximum of {max_credits} AMA PRA "
    "Category 1 Credits™. Physicians should claim only the credit commensurate with the extent "
    "of their participation in the activity."
)


@dataclass(frozen=True)
class CreditTypeRule:
    """How one credit type turns attended time into credit.

    `eligible_degrees` empty means every degree is eligible. `max_designated` is the default
    maximum; an activity's designation overrides it. `designation_required` says whether an
    activity must designate a maximum before the type can be offered.
    """

    code: str
    name: str
    increment: Decimal = Decimal("0.25")
    minimum: Decimal = Decimal("0.25")
    rounding: str = ROUNDING_NEAREST
    max_designated: Decimal | None = None
    eligible_degrees: tuple[str, ...] = ()
    required_ids: tuple[str, ...] = ()
    board: str = ""
    reporting_deadline_days: int | None = None
    statement_template: str = ""
    designation_required: bool = True
    version: str = "2025.1"

    def degree_is_eligible(self, degree: str) -> bool:
        return not self.eligible_degrees or degree in self.eligible_degrees


def _moc(board: str, board_name: str) -> CreditTypeRule:
    return CreditTypeRule(
        code=f"MOC_{board}",
        name=f"{board_name} MOC points",
        eligible_degrees=PHYSICIAN_DEGREES,
        required_ids=(ID_BOARD, ID_BIRTH_MMDD),
        board=board,
        reporting_deadline_days=30,
        statement_template=(
            "Successful completion of this CME activity enables the participant to earn up to "
            f"{{max_credits}} MOC points in the {board_name} Maintenance of Certification program."
        ),
    )


PRESETS: dict[str, CreditTypeRule] = {
    rule.code: rule
    for rule in (
        CreditTypeRule(
            code="AMA_PRA_1",
            name="AMA PRA Category 1 Credit™",
            eligible_degrees=PHYSICIAN_DEGREES,
            statement_template=AMA_STATEMENT,
        ),
        CreditTypeRule(
            code="ANCC",
            name="ANCC nursing contact hours",
            eligible_degrees=("RN", "NP"),
            statement_template=(
                "This activity is designated for a maximum of {max_credits} ANCC contact hours."
            ),
        ),
        CreditTypeRule(
            code="ACPE",
            name="ACPE pharmacy contact hours",
            eligible_degrees=("PharmD",),
            required_ids=(ID_NABP, ID_BIRTH_MMDD),
            reporting_deadline_days=60,
            statement_template=(
                "This knowledge-based activity is approved for {max_credits} contact hours "
                "({activity_number})."
            ),
        ),
        CreditTypeRule(
            code="IPCE",
            name="IPCE credits",
            statement_template=(
                "This activity was planned by and for the healthcare team, and learners will "
                "receive a maximum of {max_credits} Interprofessional Continuing Education "
                "(IPCE) credits for learning and change."
            ),
        ),
        CreditTypeRule(
            code="AAFP",
            name="AAFP Prescribed credits",
            eligible_degrees=PHYSICIAN_DEGREES,
            statement_template=(
                "This live activity has been reviewed and is acceptable for up to {max_credits} "
                "Prescribed credit(s) by the American Academy of Family Physicians."
            ),
        ),
        CreditTypeRule(
            code="AOA_1A",
            name="AOA Category 1-A credits",
            eligible_degrees=("DO",),
            statement_template=(
                "{provider} designates this program for a maximum of {max_credits} AOA "
                "Category 1-A credits and will report CME and specialty credits commensurate "
                "with the extent of the physician's participation in this activity."
            ),
        ),
        _moc("ABIM", "American Board of Internal Medicine (ABIM)"),
        _moc("ABP", "American Board of Pediatrics (ABP)"),
        _moc("ABS", "American Board of Surgery (ABS)"),
        CreditTypeRule(
            code="PARTICIPATION",
            name="Certificate of participation",
            designation_required=False,
            statement_template=(
                "This activity was designated for a maximum of {max_credits} AMA PRA Category 1 "
                "Credits™ for physicians; this certificate records participation."
            ),
        ),
    )
}


def rule_with_overrides(code: str, **overrides: Any) -> CreditTypeRule:
    """The preset `code` with some fields replaced (KeyError when there is no such preset)."""
    return replace(PRESETS[code], **overrides)


def parse_codes(text: str, known: tuple[str, ...], what: str) -> tuple[str, ...]:
    """A comma-separated list of codes from `known` (case as in `known`); ValueError names the
    unknown ones."""
    by_lower = {code.lower(): code for code in known}
    codes = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [code for code in codes if code.lower() not in by_lower]
    if unknown:
        raise ValueError(f"Unknown {what}: {', '.join(unknown)} (known: {', '.join(known)}).")
    return tuple(dict.fromkeys(by_lower[code.lower()] for code in codes))


def customised_rule(
    code: str,
    *,
    increment: Decimal | None = None,
    minimum: Decimal | None = None,
    rounding: str = "",
    eligible_degrees: tuple[str, ...] = (),
    required_ids: tuple[str, ...] = (),
    reporting_deadline_days: int | None = None,
) -> CreditTypeRule:
    """The preset `code` with an activity's own values; unchanged when none are given.

    A customised rule's version is the preset's plus a digest of the values, so a claim's
    stored rule version tells which rule computed it.
    """
    given: dict[str, Any] = {
        "increment": increment,
        "minimum": minimum,
        "rounding": rounding,
        "eligible_degrees": tuple(eligible_degrees),
        "required_ids": tuple(required_ids),
        "reporting_deadline_days": reporting_deadline_days,
    }
    overrides = {key: value for key, value in given.items() if value not in (None, "", ())}
    preset = PRESETS[code]
    if not overrides:
        return preset
    digest = hashlib.sha256(repr(sorted(overrides.items())).encode()).hexdigest()[:8]
    return replace(preset, **overrides, version=f"{preset.version}+{digest}")


def round_credit(seconds: int, rule: CreditTypeRule) -> Decimal:
    """Turn attended seconds into credit: hours rounded ONCE to the rule's increment.

    The only place credit is rounded. Exact arithmetic (`Fraction`), never float. "nearest"
    rounds half up: with quarter hours, 7 min 30 s (exactly half a quarter) gives 0.25, which
    sits between the AMA examples 7 min -> 0 and 8 min -> 0.25.
    """
    units = Fraction(seconds, SECONDS_PER_HOUR) / Fraction(rule.increment)
    if rule.rounding == ROUNDING_DOWN:
        whole = floor(units)
    elif rule.rounding == ROUNDING_UP:
        whole = ceil(units)
    else:
        whole = floor(units + Fraction(1, 2))
    return whole * rule.increment


__all__ = [
    "ENGINE_VERSION",
    "ID_KINDS",
    "KNOWN_DEGREES",
    "PRESETS",
    "ROUNDING_MODES",
    "CreditTypeRule",
    "customised_rule",
    "parse_codes",
    "round_credit",
    "rule_with_overrides",
]
