"""The CME credit engine: attendance events -> segments -> minutes -> credit, per credit type.

Pure and deterministic (no database, no clock). The claim and certificate services build a
`CreditCase` from the database and store the result's `inputs_hash` and rule version.
"""

from conference.credit.attendance import AttendanceEvent, Segment
from conference.credit.eligibility import (
    LearnerIds,
    id_problems,
    live_and_enduring_conflicts,
    may_claim_format,
)
from conference.credit.engine import (
    CreditCase,
    CreditResult,
    Learner,
    SessionSpec,
    compute_credit,
    inputs_hash,
)
from conference.credit.explain import CreditInputError, describe_result, explain_text, parse_case
from conference.credit.rules import (
    ENGINE_VERSION,
    PRESETS,
    CreditTypeRule,
    round_credit,
    rule_with_overrides,
)

__all__ = [
    "ENGINE_VERSION",
    "PRESETS",
    "AttendanceEvent",
    "CreditCase",
    "CreditInputError",
    "CreditResult",
    "CreditTypeRule",
    "Learner",
    "LearnerIds",
    "Segment",
    "SessionSpec",
    "compute_credit",
    "describe_result",
    "explain_text",
    "id_problems",
    "inputs_hash",
    "live_and_enduring_conflicts",
    "may_claim_format",
    "parse_case",
    "round_credit",
    "rule_with_overrides",
]
