import pytest
from django.core.exceptions import ValidationError

from accounts.validators import validate_birth_month_day, validate_nabp_eprofile_id, validate_npi


@pytest.mark.parametrize("npi", ["1234567893", "1245319599"])
def test_validate_npi_valid_check_digit(npi):
    assert validate_npi(npi) is None


@pytest.mark.parametrize(
    ("npi", "code"),
    [
        ("1234567890", "npi_check"),
        ("123456789", "npi_format"),
        ("abcdefghij", "npi_format"),
        ("3234567893", "npi_format"),
    ],
)
def test_validate_npi_invalid_refused(npi, code):
    with pytest.raises(ValidationError) as caught:
        validate_npi(npi)
    assert caught.value.code == code


@pytest.mark.parametrize(("month", "day"), [(2, 29), (4, 30), (12, 31), (1, 1), (None, None)])
def test_validate_birth_month_day_valid(month, day):
    assert validate_birth_month_day(month, day) is None


@pytest.mark.parametrize(
    ("month", "day", "message"),
    [
        (4, 31, "April has no day 31."),
        (2, 30, "February has no day 30."),
        (13, 1, "The month of birth must be between 1 and 12."),
        (5, None, "Give both the month and the day of birth, or neither."),
        (None, 5, "Give both the month and the day of birth, or neither."),
    ],
)
def test_validate_birth_month_day_invalid_refused(month, day, message):
    with pytest.raises(ValidationError) as caught:
        validate_birth_month_day(month, day)
    assert caught.value.messages == [message]


@pytest.mark.parametrize("value", ["123456", "1234567"])
def test_validate_nabp_eprofile_id_valid(value):
    assert validate_nabp_eprofile_id(value) is None


@pytest.mark.parametrize("value", ["12345", "12345678", "12a4567", ""])
def test_validate_nabp_eprofile_id_invalid_refused(value):
    with pytest.raises(ValidationError):
        validate_nabp_eprofile_id(value)
