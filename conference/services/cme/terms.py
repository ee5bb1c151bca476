"""The words of the CME rules: the attestation, why credit is what it is, what is wrong with a
learner's IDs, and the refusals the CME services raise."""

from __future__ import annotations

from conference.services.refusals import Refused

ATTESTATION_TEXT = (
    "I claim only the credit commensurate with the extent of my participation in the activity."
)

REASON_MESSAGES = {
    "not_eligible_degree": "Your degree is not eligible for this credit type.",
    "no_eligible_attendance": "No attendance was recorded in a credit-eligible session.",
    "below_minimum": "Your attended time is below the minimum for credit.",
    "capped_at_designated_max": "Credit is capped at the designated maximum.",
    "session_cancelled": "A session you attended was cancelled and gives no credit.",
    "faculty_of_session": "Time in sessions you presented does not earn you learner credit.",
    "capped_at_designated_minutes": "Some sessions are capped at their designated minutes.",
}
ID_MESSAGES = {
    "npi_missing": "Your NPI is missing.",
    "npi_invalid": "Your NPI is not valid (check digit).",
    "nabp_eprofile_id_missing": "Your NABP e-Profile ID is missing.",
    "nabp_eprofile_id_invalid": "Your NABP e-Profile ID is not valid (6 or 7 digits).",
    "birth_mmdd_missing": "Your birth month and day are missing.",
    "birth_mmdd_invalid": "Your birth month and day are not a valid date.",
    "board_id_missing": "Your certifying board ID is missing.",
    "board_id_invalid": "Your certifying board ID is not valid.",
}


class ClaimRefused(Refused):
    """A claim that the rules do not allow; `problems` are (code, message) pairs."""


class DesignationRefused(ValueError):
    """A designated maximum above what one learner could earn."""
