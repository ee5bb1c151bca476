"""Statements as the accreditors publish them, the AMA phrase in italics (PDF read back with its
fonts), singular and plural, never broken across lines; pages and e-mails say the same."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from conference.services import cme_pdf, statements
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.claims import claim_credit
from tests.support.cme import attend, evaluate, learner, make_event

PROVIDER = "Society of Test Medicine"
AMA_TAIL = (
    "Physicians should claim only the credit commensurate with the extent of their "
    "participation in the activity."
)


@pytest.mark.parametrize(
    ("amount", "phrase"),
    [
        ("0.25", "AMA PRA Category 1 Credit™"),
        ("1.00", "AMA PRA Category 1 Credit™"),
        ("1.25", "AMA PRA Category 1 Credits™"),
        ("3.50", "AMA PRA Category 1 Credits™"),
    ],
)
def test_ama_designation_singular_up_to_one_plural_above(amount, phrase):
    live = statements.designation_statement("AMA_PRA_1", provider=PROVIDER, amount=Decimal(amount))
    enduring = statements.designation_statement(
        "AMA_PRA_1", provider=PROVIDER, amount=Decimal(amount), activity_format="enduring"
    )

    assert live == (
        f"{PROVIDER} designates this live activity for a maximum of {amount} {phrase}. {AMA_TAIL}"
    )
    assert enduring == (
        f"{PROVIDER} designates this enduring material for a maximum of {amount} {phrase}. "
        f"{AMA_TAIL}"
    )
    assert statements.credit_amount("AMA_PRA_1", Decimal(amount), "x") == f"{amount} {phrase}"


def test_accme_accreditation_direct_and_joint_providership():
    direct = statements.accreditation_statement("AMA_PRA_1", provider=PROVIDER)
    joint = statements.accreditation_statement(
        "AMA_PRA_1", provider=PROVIDER, joint_providers=("Heart Friends", "Lung Club", "Ear Aid")
    )

    assert direct == (
        "Society of Test Medicine is accredited by the Accreditation Council for Continuing "
        "Medical Education (ACCME) to provide continuing medical education for physicians."
    )
    assert joint == (
        "This activity has been planned and implemented in accordance with the accreditation "
        "requirements and policies of the Accreditation Council for Continuing Medical "
        "Education (ACCME) through the joint providership of Society of Test Medicine and "
        "Heart Friends, Lung Club, and Ear Aid. Society of Test Medicine is accredited by the "
        "ACCME to provide continuing medical education for physicians."
    )


def test_ancc_acpe_ipce_moc_and_participation_wording():
    def designation(code, amount, **kw):
        return statements.designation_statement(
            code, provider=PROVIDER, amount=Decimal(amount), **kw
        )

    assert statements.accreditation_statement("ANCC", provider=PROVIDER) == (
        "Society of Test Medicine is accredited as a provider of nursing continuing "
        "professional development by the American Nurses Credentialing Center's Commission "
        "on Accreditation."
    )
    assert designation("ANCC", "3.50") == (
        "This live activity is approved for a maximum of 3.50 nursing contact hours."
    )
    assert statements.accreditation_statement("ACPE", provider=PROVIDER) == (
        "Society of Test Medicine is accredited by the Accreditation Council for Pharmacy "
        "Education (ACPE) as a provider of continuing pharmacy education."
    )
    assert designation("ACPE", "1.50", activity_number="0000-0000-25-000-L01-P") == (
        "This knowledge-based live activity is approved for 1.50 contact hours (0.15 CEU) of "
        "continuing pharmacy education. Universal Activity Number (UAN): "
        "0000-0000-25-000-L01-P."
    )
    assert designation("IPCE", "1.00") == (
        "This activity was planned by and for the healthcare team, and learners will receive "
        "1.00 Interprofessional Continuing Education (IPCE) credit for learning and change."
    )
    assert designation("MOC_ABIM", "2.00").startswith(
        "Successful completion of this CME activity, which includes participation in the "
        "evaluation component, enables the participant to earn up to 2.00 MOC points in the "
        "American Board of Internal Medicine's (ABIM) Maintenance of Certification (MOC) "
        "program."
    )
    assert designation("PARTICIPATION", "3.50", ama_max=Decimal("3.50")) == (
        "This live activity was designated for a maximum of 3.50 AMA PRA Category 1 Credits™ "
        "for physicians. This certificate records participation."
    )


def test_phrase_html_escapes_and_italicises_without_breaks():
    html = statements.phrase_html("<b>2.00 AMA PRA Category 1 Credits™</b> & more")

    assert html == (
        "&lt;b&gt;2.00 "
        '<em class="credit-phrase">'
        "AMA\u00a0PRA\u00a0Category\u00a01\u00a0Credits™</em>&lt;/b&gt; &amp; more"
    )
    # E-mails carry no stylesheet: the phrase's no-break rule is a style attribute there.
    assert '<em class="credit-phrase" style="white-space:nowrap">AMA' in statements.phrase_html(
        "1 AMA PRA Category 1 Credit™", email=True
    )


# The PDF read back --------------------------------------------------------------------------


def _data(name: str, *, credit="1.00", designated="3.50", width_title="Cardiology Update"):
    amount = Decimal(designated)
    return cme_pdf.CertificateData(
        learner_name=name,
        degree="MD",
        activity_title=width_title,
        start_date=dt.date(2025, 5, 1),
        end_date=dt.date(2025, 5, 1),
        provider=PROVIDER,
        credit_type_name="AMA PRA Category 1 Credit™",
        credit_code="AMA_PRA_1",
        credit=Decimal(credit),
        designated_max=amount,
        designation_statement=statements.designation_statement(
            "AMA_PRA_1", provider=PROVIDER, amount=amount
        ),
        accreditation_statement=statements.accreditation_statement(
            "AMA_PRA_1", provider=PROVIDER, joint_providers=("Heart Friends Foundation",)
        ),
        participation=False,
        ama_max=amount,
        credited_minutes=60,
        signatory_name="Dr. Ada Chair",
        signatory_title="",
        issued_on=dt.date(2025, 5, 2),
        first_issued_on=dt.date(2025, 5, 2),
        version=1,
        code="ABCDEFGHJK",
        verify_url="https://medvenue.example/verify/ABCDEFGHJK/",
    )


def _read(pdf: bytes) -> tuple[str, list[tuple[str, str]]]:
    """The page's text and every (font, text) run drawn."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    drawn: list[tuple[str, str]] = []

    def visit(text, _cm, _tm, font, _size):
        if text.strip() and font is not None:
            drawn.append((str(font["/BaseFont"]).split("+")[-1], text.strip()))

    text = page.extract_text(visitor_text=visit)
    return text, drawn


def _render(data) -> bytes:
    buffer = io.BytesIO()
    cme_pdf.render_certificate(data, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["Grace Hopper", "Nguyễn Thị Phương Thảo", "王小明"])
def test_certificate_pdf_italic_phrase_statements_and_name(name):
    text, drawn = _read(_render(_data(name)))
    flat = " ".join(text.split())

    assert f"{name}, MD" in flat
    assert "1.00 AMA PRA Category 1 Credit™ claimed (maximum designated: 3.50)" in flat
    assert (
        f"{PROVIDER} designates this live activity for a maximum of 3.50 AMA PRA Category 1 "
        f"Credits™. {AMA_TAIL}"
    ) in flat
    assert "through the joint providership of Society of Test Medicine and Heart Friends" in flat
    italic = [t for font, t in drawn if "Italic" in font or "Oblique" in font]
    assert italic == ["AMA PRA Category 1 Credit™", "AMA PRA Category 1 Credits™"]
    assert {font for font, t in drawn if t in italic} == {
        "DejaVuSerif-BoldItalic",
        "DejaVuSerif-Italic",
    }
    if name == "王小明" and cme_pdf._find_font("wqy-microhei.ttc"):
        assert ("WenQuanYiMicroHei-0", "王小明") in drawn


def test_phrase_never_broken_across_lines_at_any_width():
    statement = statements.designation_statement(
        "AMA_PRA_1", provider="A" * 7 + " provider of the " + "B" * 9, amount=Decimal("2.25")
    )
    for width in range(150, 700, 7):
        lines = [
            cme_pdf.rich_line_text(line)
            for line in cme_pdf.wrap_rich(statement, style="Serif", size=10.5, width=width)
        ]
        joined = "\n".join(lines)
        assert "AMA PRA Category 1 Credits™" in joined, width
        assert " ".join(lines) == statement


def test_claimed_line_plural_above_one():
    text, _drawn = _read(_render(_data("Grace Hopper", credit="2.25")))

    assert "2.25 AMA PRA Category 1 Credits™ claimed (maximum designated: 3.50)" in " ".join(
        text.split()
    )


# Pages and e-mails --------------------------------------------------------------------------

EM = '<em class="credit-phrase">AMA\u00a0PRA\u00a0Category\u00a01\u00a0'


@pytest.mark.django_db
def test_my_cme_shows_statements_with_italic_phrase(client):
    event, _session = make_event()
    client.force_login(learner())

    html = client.get(f"/cme/events/{event.slug}/").content.decode()

    assert f"<h3>{EM}Credit™</em></h3>" in html
    assert f"designates this live activity for a maximum of 1.00 {EM}Credit™</em>." in html
    assert "is accredited by the Accreditation Council for Continuing Medical Education" in html


@pytest.mark.django_db
def test_certificate_email_has_italic_phrase_in_html_part(
    media_root, mailoutbox, django_capture_on_commit_callbacks
):
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)
    claim = claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)

    with django_capture_on_commit_callbacks(execute=True):
        issue_certificate(claim.pk)

    (mail,) = mailoutbox
    html, mime = mail.alternatives[0]
    assert mime == "text/html"
    email_em = EM.replace('">', '" style="white-space:nowrap">', 1)
    assert f"is ready: 1.00 {email_em}Credit™</em>.</p>" in html
    assert "is ready: 1.00 AMA PRA Category 1 Credit™." in mail.body
