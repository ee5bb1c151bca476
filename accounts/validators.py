"""Validators for the learner identifiers that accreditors and boards ask for."""

import calendar

from django.core.exceptions import ValidationError

# The NPI check digit is a Luhn digit computed over the 9 leading digits prefixed with the
# card issuer identifier 80840 (CMS, "NPI Check Digit").
_NPI_PREFIX = "80840"


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_npi(value: str) -> None:
    if len(value) != 10 or not value.isdigit():
        raise ValidationError("An NPI is exactly 10 digits.", code="npi_format")
    if value[0] not in "12":
        raise ValidationError("An NPI starts with 1 or 2.", code="npi_format")
    if not luhn_is_valid(_NPI_PREFIX + value):
        raise ValidationError(
            "This NPI's check digit is wrong; please re-check it.", code="npi_check"
        )


def validate_nabp_eprofile_id(value: str) -> None:
    if not value.isdigit() or not 6 <= len(value) <= 7:
        raise ValidationError("An NABP e-Profile ID is 6 or 7 digits.", code="nabp_format")


def validate_birth_month_day(month: int | None, day: int | None) -> None:
    """Month and day come together; 29 February is a valid birthday (leap year 2000)."""
    if month is None and day is None:
        return
    if month is None or day is None:
        raise ValidationError("Give both the month and the day of birth, or neither.")
    if not 1 <= month <= 12:
        raise ValidationError("The month of birth must be between 1 and 12.")
    if not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise ValidationError(f"{calendar.month_name[month]} has no day {day}.")
