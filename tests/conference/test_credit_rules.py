"""Credit type presets, eligibility helpers and the one rounding function."""

from dataclasses import replace
from decimal import Decimal

import pytest

from accounts.models import Degree
from conference.credit import PRESETS, round_credit, rule_with_overrides
from conference.credit.eligibility import (
    ENDURING,
    LIVE,
    LearnerIds,
    id_problems,
    live_and_enduring_conflicts,
    may_claim_format,
)
from conference.credit.engine import REASON_NOT_ELIGIBLE
from conference.credit.rules import KNOWN_DEGREES

AMA = PRESETS["AMA_PRA_1"]


@pytest.mark.parametrize(
    ("minutes", "credit"),
    [(7, "0"), (8, "0.25"), (52, "0.75"), (53, "1.00"), (60, "1.00"), (0, "0"), (90, "1.5")],
)
def test_round_credit_ama_examples(minutes, credit):
    assert round_credit(minutes * 60, AMA) == Decimal(credit)


def test_round_credit_nearest_tie_goes_up():
    # 7 min 30 s is exactly half a quarter hour: "nearest" rounds half up.
    assert round_credit(7 * 60 + 30, AMA) == Decimal("0.25")
    assert round_credit(7 * 60 + 29, AMA) == Decimal("0")
    assert round_credit(22 * 60 + 30, AMA) == Decimal("0.50")


def test_round_credit_down_and_up_modes():
    down = replace(AMA, rounding="down")
    up = replace(AMA, rounding="up")
    assert [round_credit(s, down) for s in (899, 900, 2699)] == [
        0,
        Decimal("0.25"),
        Decimal("0.50"),
    ]
    assert [round_credit(s, up) for s in (0, 1, 901)] == [0, Decimal("0.25"), Decimal("0.50")]


def test_round_credit_returns_decimal_multiple_of_increment():
    tenth = replace(AMA, increment=Decimal("0.1"))
    value = round_credit(20 * 60, tenth)
    assert (type(value), value) == (Decimal, Decimal("0.3"))


def test_presets_cover_the_standard_credit_types():
    assert sorted(PRESETS) == sorted(
        [
            "AMA_PRA_1",
            "ANCC",
            "ACPE",
            "IPCE",
            "AAFP",
            "AOA_1A",
            "MOC_ABIM",
            "MOC_ABP",
            "MOC_ABS",
            "PARTICIPATION",
        ]
    )
    assert {(r.increment, r.minimum) for r in PRESETS.values()} == {
        (Decimal("0.25"), Decimal("0.25"))
    }


def test_presets_deadlines_and_required_ids():
    assert PRESETS["ACPE"].reporting_deadline_days == 60
    assert PRESETS["ACPE"].required_ids == ("nabp_eprofile_id", "birth_mmdd")
    assert PRESETS["MOC_ABIM"].reporting_deadline_days == 30
    assert PRESETS["MOC_ABIM"].required_ids == ("board_id", "birth_mmdd")
    assert PRESETS["MOC_ABIM"].board == "ABIM"
    assert PRESETS["AMA_PRA_1"].eligible_degrees == ("MD", "DO")
    assert PRESETS["PARTICIPATION"].designation_required is False


def test_ama_statement_template_is_the_accreditor_wording():
    text = AMA.statement_template.format(provider="Society X", max_credits="3.25")
    assert text == (
        "Society X designates this live activity for a maximum of 3.25 AMA PRA Category 1 "
        "Credits™. Physicians should claim only the credit commensurate with the extent of "
        "their participation in the activity."
    )


def test_rule_with_overrides_keeps_the_other_fields():
    rule = rule_with_overrides("AMA_PRA_1", minimum=Decimal("1"), rounding="down")
    assert rule == replace(AMA, minimum=Decimal("1"), rounding="down")


def test_known_degrees_match_accounts_degree():
    assert tuple(Degree.values) == KNOWN_DEGREES


@pytest.mark.parametrize(
    ("degree", "problems"),
    [("MD", []), ("DO", []), ("RN", ["not_eligible_degree"]), ("PharmD", ["not_eligible_degree"])],
)
def test_degree_problems_ama_only_physicians(degree, problems):
    assert ([] if AMA.degree_is_eligible(degree) else [REASON_NOT_ELIGIBLE]) == problems
    assert PRESETS["PARTICIPATION"].degree_is_eligible(degree)


def test_id_problems_invalid_npi_reported_even_when_not_required():
    assert id_problems(AMA, LearnerIds(npi="1234567890")) == ["npi_invalid"]
    assert id_problems(AMA, LearnerIds(npi="1234567893")) == []


def test_id_problems_acpe_needs_nabp_and_birth_mmdd():
    acpe = PRESETS["ACPE"]
    assert id_problems(acpe, LearnerIds()) == ["nabp_eprofile_id_missing", "birth_mmdd_missing"]
    assert id_problems(acpe, LearnerIds(nabp_eprofile_id="12", birth_month=2, birth_day=30)) == [
        "nabp_eprofile_id_invalid",
        "birth_mmdd_invalid",
    ]
    assert id_problems(acpe, LearnerIds(nabp_eprofile_id="123456", birth_month=4)) == [
        "birth_mmdd_invalid"
    ]


def test_id_problems_29_february_birthday_is_valid():
    acpe = PRESETS["ACPE"]
    ids = LearnerIds(nabp_eprofile_id="1234567", birth_month=2, birth_day=29)
    assert id_problems(acpe, ids) == []


def test_id_problems_moc_needs_the_board_of_the_rule():
    moc = PRESETS["MOC_ABIM"]
    other_board = LearnerIds(birth_month=2, birth_day=29, board_ids=(("ABP", "998877"),))
    assert id_problems(moc, other_board) == ["board_id_missing"]
    right_board = replace(other_board, board_ids=(("ABIM", "123456"),))
    assert id_problems(moc, right_board) == []


def test_live_and_enduring_conflicts_same_content():
    claims = [("talk-1", LIVE), ("talk-1", ENDURING), ("talk-2", LIVE), ("talk-3", ENDURING)]
    assert live_and_enduring_conflicts(claims) == {"talk-1"}


def test_may_claim_format_refuses_recording_after_live():
    claims = [("talk-1", LIVE)]
    assert may_claim_format(claims, content="talk-1", claim_format=ENDURING) is False
    assert may_claim_format(claims, content="talk-1", claim_format=LIVE) is True
    assert may_claim_format(claims, content="talk-2", claim_format=ENDURING) is True
