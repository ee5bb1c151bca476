"""PARS learner file: consenting learners only, problems per learner instead of a broken file."""

import csv
import io
import zipfile

import openpyxl
import pytest

from accounts.models import ProfessionalProfile, StateLicense
from conference.models import EventCredit
from conference.services.cme.claims import claim_credit
from conference.services.cme.reports import PARS_COLUMNS, completion_dates, pars_learner_file
from tests.factories import MembershipFactory
from tests.support.cme import attend, evaluate, learner, make_event

pytestmark = pytest.mark.django_db

VALID_NPI = "1234567893"


def _claimant(event, session, *, legal_name, consent=True, npi=VALID_NPI, names=None):
    given, _, family = legal_name.rpartition(" ")
    given, family = names or (given, family)
    user = learner(
        legal_name=legal_name,
        npi=npi,
        consent_share_with_boards=consent,
        given_name=given,
        family_name=family,
    )
    attend(user, session, minutes=60)
    evaluate(user, event)
    claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)
    return user


def _world():
    event, session = make_event()
    EventCredit.objects.filter(event=event).update(activity_number="202512345")
    good = _claimant(event, session, legal_name="Ada Lovelace")
    licensed = _claimant(event, session, legal_name="Mary Seacole", npi="")
    StateLicense.objects.create(
        profile=ProfessionalProfile.objects.get(user=licensed), state="NY", number="A12345"
    )
    _claimant(event, session, legal_name="Hidden Person", consent=False)
    bad = _claimant(event, session, legal_name="Cher", npi="")
    _claimant(
        event, session, legal_name="Gabriel García Márquez", names=("Gabriel", "García Márquez")
    )
    guessed = _claimant(event, session, legal_name="Ana de la Cruz")
    ProfessionalProfile.objects.filter(user=guessed).update(name_needs_review=True)
    ProfessionalProfile.objects.filter(user=good).update(birth_month=2, birth_day=29)
    return event, EventCredit.objects.get(event=event, credit_type="AMA_PRA_1"), (bad, guessed)


def test_pars_learner_file_consenting_valid_rows_and_problems_per_learner():
    event, event_credit, (bad, guessed) = _world()

    text, problems = pars_learner_file(event_credit)

    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(PARS_COLUMNS)
    completion = event.end_date.isoformat()
    assert rows[1:] == [
        [
            "202512345",
            completion,
            "Gabriel",
            "García Márquez",
            "",
            "",
            "",
            "",
            VALID_NPI,
            "1.00",
            "AMA_PRA_1",
            "",
            "",
        ],
        [
            "202512345",
            completion,
            "Ada",
            "Lovelace",
            "2",
            "29",
            "",
            "",
            VALID_NPI,
            "1.00",
            "AMA_PRA_1",
            "",
            "",
        ],
        [
            "202512345",
            completion,
            "Mary",
            "Seacole",
            "",
            "",
            "NY",
            "A12345",
            "",
            "1.00",
            "AMA_PRA_1",
            "",
            "",
        ],
    ]
    assert [(p.email, p.problems) for p in problems] == [
        (
            bad.email,
            ("given and family names missing in the profile", "neither an NPI nor a state license"),
        ),
        (
            guessed.email,
            (
                "given and family names were split automatically from the legal name; the "
                "learner must confirm them in the profile",
            ),
        ),
    ]


def test_completion_date_is_each_learners_own():
    import datetime as dt

    from tests.factories import SessionFactory

    event, first = make_event()
    event.end_date = event.start_date + dt.timedelta(days=1)
    event.save()
    second = SessionFactory(
        event=event,
        hall=first.hall,
        starts_at=first.starts_at + dt.timedelta(days=1),
        ends_at=first.ends_at + dt.timedelta(days=1),
        is_cme_eligible=True,
    )
    day_one, both = learner(), learner()
    attend(day_one, first, minutes=30)
    attend(both, first, minutes=30)
    attend(both, second, minutes=90)  # runs past the end: cut at the session's end

    dates = completion_dates(event, {day_one.pk, both.pk})

    assert dates == {day_one.pk: event.start_date, both.pk: event.end_date}


def test_pars_admin_page_lists_problems_and_downloads_csv(client):
    event, event_credit, (bad, _guessed) = _world()
    client.force_login(MembershipFactory(organizer=event.organizer).user)
    url = f"/admin/conference/eventcredit/{event_credit.pk}/pars/"

    page = client.get(url).content.decode()
    download = client.get(url, {"download": "csv"})

    assert "<strong>3</strong> learner row(s) ready" in page
    assert bad.email in page
    assert "Hidden Person" not in page
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert "Lovelace" in download.content.decode()
    assert "Hidden" not in download.content.decode()


def test_pars_admin_page_other_organizer_is_not_found(client):
    _event, event_credit, _bad = _world()
    other_event, _session = make_event()
    client.force_login(MembershipFactory(organizer=other_event.organizer).user)

    response = client.get(f"/admin/conference/eventcredit/{event_credit.pk}/pars/")

    assert response.status_code == 302


def test_audit_pack_zip_has_every_record_of_the_event_only(client):
    event, event_credit, _bad = _world()
    other_event, other_session = make_event()
    outsider = _claimant(other_event, other_session, legal_name="Other Event Person")
    client.force_login(MembershipFactory(organizer=event.organizer).user)

    response = client.get(f"/admin/conference/eventcredit/{event_credit.pk}/audit-pack/")

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(n.split("/", 1)[1] for n in archive.namelist())
    assert names == [
        "attendance.csv",
        "audit_trail.csv",
        "certificates.csv",
        "claims.csv",
        "corrections.csv",
        "evaluation_free_text.csv",
        "evaluation_summary.csv",
    ]
    claims = list(csv.DictReader(io.StringIO(archive.read(f"{event.slug}/claims.csv").decode())))
    assert len(claims) == 6
    assert all(row["inputs_hash"].startswith("sha256:") for row in claims)
    attendance = archive.read(f"{event.slug}/attendance.csv").decode()
    assert attendance.count("\n") == 1 + 6 * 61
    summary = list(
        csv.DictReader(io.StringIO(archive.read(f"{event.slug}/evaluation_summary.csv").decode()))
    )
    assert [(row["answers"], row["mean"]) for row in summary] == [
        ("6", "4.00"),
        ("6", "4.00"),
        ("6", ""),
    ]
    everything = b"".join(archive.read(n) for n in archive.namelist()).decode()
    assert outsider.email not in everything
    assert VALID_NPI not in everything


def test_pars_admin_excel_has_learners_and_problems_sheets(client):
    event, event_credit, (bad, guessed) = _world()
    client.force_login(MembershipFactory(organizer=event.organizer).user)

    response = client.get(
        f"/admin/conference/eventcredit/{event_credit.pk}/pars/", {"download": "xlsx"}
    )

    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    learners = [list(r) for r in workbook["Learners"].iter_rows(values_only=True)]
    problems = [list(r) for r in workbook["Problems"].iter_rows(values_only=True)]
    assert learners[0] == list(PARS_COLUMNS)
    assert [(r[3], r[8]) for r in learners[1:]] == [
        ("García Márquez", VALID_NPI),
        ("Lovelace", VALID_NPI),
        ("Seacole", None),
    ]
    assert [p[:2] for p in problems[1:]] == [["Cher", bad.email], ["Ana de la Cruz", guessed.email]]


def test_attendance_admin_page_per_learner_and_session(client):
    event, session = make_event()
    early = learner(legal_name="Early Leaver")
    attend(early, session, minutes=7)
    full = learner(legal_name="Full Stayer")
    attend(full, session, minutes=60)
    _other_event, other_session = make_event()
    attend(learner(legal_name="Elsewhere Person"), other_session, minutes=60)
    event_credit = EventCredit.objects.get(event=event, credit_type="AMA_PRA_1")
    client.force_login(MembershipFactory(organizer=event.organizer).user)

    html = client.get(f"/admin/conference/eventcredit/{event_credit.pk}/attendance/").content
    html = html.decode()

    assert "Early Leaver" in html
    assert "AMA_PRA_1 0.00 (below_minimum)" in html
    assert "Full Stayer" in html
    assert "AMA_PRA_1 1.00" in html
    assert "Elsewhere Person" not in html
