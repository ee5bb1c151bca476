"""The accreditors' statements and the AMA credit phrase: one source for PDF, pages, e-mails.

Pure functions (no database). Sources and the exact wording are in docs/cme-claims.md
("Statements"). An activity's own wording (`statement_override`, `Event.accreditation_statement`)
is always printed verbatim instead of these defaults; the AMA phrase inside it is still set in
italics and never broken across lines.

The engine's `CreditTypeRule.statement_template` is no longer printed (it stays an input of the
claims' `inputs_hash`, so existing claims keep their hash).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from conference.models import CreditType, Event

AMA_SINGULAR = "AMA PRA Category 1 Credit™"
AMA_PLURAL = "AMA PRA Category 1 Credits™"
# The phrase as it may appear in any text (ours or an accreditor's verbatim wording).
CREDIT_PHRASE = re.compile(r"AMA PRA Category 1 Credit(?:s|\(s\))?™?")

LIVE = "live"
ENDURING = "enduring"
FORMAT_WORDS = {LIVE: "live activity", ENDURING: "enduring material"}

ACCME = "Accreditation Council for Continuing Medical Education (ACCME)"
ANCC_BODY = "American Nurses Credentialing Center's Commission on Accreditation"
ACPE_BODY = "Accreditation Council for Pharmacy Education (ACPE)"

MOC_BOARDS = {
    "MOC_ABIM": ("American Board of Internal Medicine's (ABIM)", "ABIM"),
    "MOC_ABP": ("American Board of Pediatrics' (ABP)", "ABP"),
    "MOC_ABS": ("American Board of Surgery's (ABS)", "ABS"),
}


def amount_text(amount: Decimal) -> str:
    return format(amount, ".2f")


def ama_phrase(amount: Decimal) -> str:
    """AMA: "Credit(s)™" — the singular for one credit or less (0.25 ... 1.00), the plural
    above one (1.25, 3.50)."""
    return AMA_SINGULAR if amount <= 1 else AMA_PLURAL


def credit_amount(code: str, amount: Decimal, name: str) -> str:
    """ "1.00 AMA PRA Category 1 Credit™", "3.50 AMA PRA Category 1 Credits™", or the amount
    and the type's name for the other types."""
    if code == CreditType.AMA_PRA_1:
        return f"{amount_text(amount)} {ama_phrase(amount)}"
    return f"{amount_text(amount)} {name}"


def designation_statement(
    code: str,
    *,
    provider: str,
    amount: Decimal,
    activity_format: str = LIVE,
    activity_number: str = "",
    ama_max: Decimal | None = None,
) -> str:
    """The default designation statement of a credit type for this activity."""
    fmt = FORMAT_WORDS[activity_format]
    n = amount_text(amount)
    if code == CreditType.AMA_PRA_1:
        return (
            f"{provider} designates this {fmt} for a maximum of {n} {ama_phrase(amount)}. "
            "Physicians should claim only the credit commensurate with the extent of their "
            "participation in the activity."
        )
    if code == "ANCC":
        return f"This {fmt} is approved for a maximum of {n} nursing contact hours."
    if code == "ACPE":
        ceu = amount_text(amount / 10)
        uan = f" Universal Activity Number (UAN): {activity_number}." if activity_number else ""
        return (
            f"This knowledge-based {fmt} is approved for {n} contact hours ({ceu} CEU) of "
            f"continuing pharmacy education.{uan}"
        )
    if code == "IPCE":
        return (
            "This activity was planned by and for the healthcare team, and learners will "
            f"receive {n} Interprofessional Continuing Education (IPCE) credit"
            f"{'' if amount <= 1 else 's'} for learning and change."
        )
    if code == "AAFP":
        kind = "Live" if activity_format == LIVE else "Enduring Materials"
        return (
            f"This {fmt} has been reviewed and is acceptable for up to {n} {kind} AAFP "
            f"Prescribed credit{'' if amount <= 1 else 's'} by the American Academy of Family "
            "Physicians. Physicians should claim only the credit commensurate with the extent "
            "of their participation in the activity."
        )
    if code == "AOA_1A":
        return (
            f"{provider} designates this program for a maximum of {n} AOA Category 1-A "
            f"credit{'' if amount <= 1 else 's'} and will report CME and specialty credits "
            "commensurate with the extent of the physician's participation in this activity."
        )
    if code in MOC_BOARDS:
        board, short = MOC_BOARDS[code]
        return (
            "Successful completion of this CME activity, which includes participation in the "
            f"evaluation component, enables the participant to earn up to {n} MOC point"
            f"{'' if amount <= 1 else 's'} in the {board} Maintenance of Certification (MOC) "
            "program. It is the CME activity provider's responsibility to submit participant "
            f"completion information to ACCME for the purpose of granting {short} MOC credit."
        )
    if code == CreditType.PARTICIPATION:
        if ama_max is None:
            return f"This certificate records participation in this {fmt}."
        return (
            f"This {fmt} was designated for a maximum of {amount_text(ama_max)} "
            f"{ama_phrase(ama_max)} for physicians. This certificate records participation."
        )
    raise ValueError(f"unknown credit type {code!r}")


def accreditation_statement(
    code: str, *, provider: str, joint_providers: tuple[str, ...] = ()
) -> str:
    """The accreditor's accreditation statement for the body behind this credit type (ACCME for
    AMA, MOC, participation; ANCC; ACPE; Joint Accreditation for IPCE), directly or jointly
    provided."""
    if code == "ANCC":
        return f"{provider} is accredited as a provider of nursing continuing professional development by the {ANCC_BODY}."
    if code == "ACPE":
        return f"{provider} is accredited by the {ACPE_BODY} as a provider of continuing pharmacy education."
    if code == "IPCE":
        return (
            f"In support of improving patient care, {provider} is jointly accredited by the "
            f"{ACCME}, the {ACPE_BODY}, and the American Nurses Credentialing Center (ANCC), "
            "to provide continuing education for the healthcare team."
        )
    if joint_providers:
        partners = _and_list(joint_providers)
        return (
            "This activity has been planned and implemented in accordance with the "
            f"accreditation requirements and policies of the {ACCME} through the joint "
            f"providership of {provider} and {partners}. {provider} is accredited by the ACCME "
            "to provide continuing medical education for physicians."
        )
    return (
        f"{provider} is accredited by the {ACCME} to provide continuing medical education for "
        "physicians."
    )


def event_accreditation_statement(event: Event, code: str) -> str:
    """The event's own accreditation statement verbatim, else the default one of the body
    behind this credit type (directly or jointly provided); empty without a provider."""
    if event.accreditation_statement:
        return event.accreditation_statement
    if not event.cme_provider:
        return ""
    return accreditation_statement(
        code,
        provider=event.cme_provider,
        joint_providers=parse_joint_providers(event.cme_joint_providers),
    )


def _and_list(names: tuple[str, ...]) -> str:
    names = tuple(n for n in names if n)
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def parse_joint_providers(text: str) -> tuple[str, ...]:
    """One non-accredited joint provider per line."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


# Rendering the phrase ---------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    text: str
    phrase: bool  # the AMA phrase: italic, never broken


def spans(text: str) -> list[Span]:
    """`text` cut into plain parts and AMA phrases."""
    parts: list[Span] = []
    position = 0
    for match in CREDIT_PHRASE.finditer(text):
        if match.start() > position:
            parts.append(Span(text[position : match.start()], False))
        parts.append(Span(match.group(), True))
        position = match.end()
    if position < len(text):
        parts.append(Span(text[position:], False))
    return parts


def phrase_html(text: str, *, email: bool = False) -> SafeString:
    """HTML: the text escaped, each AMA phrase in <em> with no-break spaces and no line break
    (for browsers that break at the trademark sign): on pages the stylesheet's `.credit-phrase`
    says so (the Content-Security-Policy refuses style attributes), in e-mails a style
    attribute."""
    html = []
    style = ' style="white-space:nowrap"' if email else ""
    for span in spans(text):
        if span.phrase:
            words = escape(span.text).replace(" ", "\u00a0")
            html.append(f'<em class="credit-phrase"{style}>{words}</em>')
        else:
            html.append(escape(span.text))
    return mark_safe("".join(html))  # noqa: S308 - every part is escaped above


def phrase_mask(text: str) -> list[bool]:
    """Per character of `text`: inside an AMA phrase (italic, no line break) or not."""
    mask = [False] * len(text)
    for match in CREDIT_PHRASE.finditer(text):
        mask[match.start() : match.end()] = [True] * (match.end() - match.start())
    return mask
