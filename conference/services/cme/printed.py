"""What a certificate prints, for live and enduring claims alike: the designation and
accreditation statements and `certificate_data`, the plain values `cme_pdf` draws (and the
verifiable credential states). Dates are the event's time zone's."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone

from conference.credit.rules import PRESETS
from conference.models import (
    Certificate,
    CreditType,
    EnduringActivity,
    EnduringCredit,
    Event,
    EventCredit,
)
from conference.services import statements
from conference.services.cme_pdf import CertificateData

Designation = EventCredit | EnduringCredit


def designation_statement(
    event: Event,
    credit: Designation,
    *,
    ama: Designation | None = None,
    activity_format: str = statements.LIVE,
) -> str:
    """The accreditor's wording (override, verbatim) or the type's default statement
    (`services.statements`) for this activity's format ("designates this enduring material
    for a maximum of ..."). The participation statement names the AMA designation when the
    activity has one."""
    if credit.statement_override:
        return credit.statement_override
    return statements.designation_statement(
        credit.credit_type,
        provider=event.cme_provider or event.organizer.name,
        amount=credit.designated_max,
        activity_format=activity_format,
        activity_number=credit.activity_number,
        ama_max=ama.designated_max if ama is not None else None,
    )


def offer_statements(event: Event, credits: list[EventCredit]) -> dict[str, tuple[str, str]]:
    """Per credit type of the event: its designation and accreditation statements."""
    ama = next((c for c in credits if c.credit_type == CreditType.AMA_PRA_1), None)
    return {
        c.credit_type: (
            designation_statement(event, c, ama=ama),
            statements.event_accreditation_statement(event, c.credit_type),
        )
        for c in credits
    }


def enduring_statements(activity: EnduringActivity, credits: list[EnduringCredit]) -> list[str]:
    """The designation statement of each of the enduring activity's credits, in order."""
    ama = next((c for c in credits if c.credit_type == CreditType.AMA_PRA_1), None)
    event = activity.session.event
    return [
        designation_statement(event, c, ama=ama, activity_format=statements.ENDURING)
        for c in credits
    ]


def activity_title(activity: EnduringActivity) -> str:
    return activity.title or activity.session.title


def certificate_data(
    certificate: Certificate, *, credits: Mapping[str, EventCredit] | None = None
) -> CertificateData:
    """What the certificate prints. A live claim: the event's designation, title and dates;
    an enduring one: the activity's designations, title, release and expiry dates and the
    event's first signatory. `credits` (type code -> EventCredit of the event) saves a query
    for live claims when the caller has them."""
    claim = certificate.claim
    event = claim.event
    activity = claim.enduring
    designations: Mapping[str, Designation]
    credit: Designation | None
    signatory: EventCredit | None
    if activity is None:
        event_credits = credits or {c.credit_type: c for c in event.credits.all()}
        designations = event_credits
        credit = signatory = event_credits[claim.credit_type]
        title, start, end = event.title, event.start_date, event.end_date
        activity_format = statements.LIVE
    else:
        designations = {c.credit_type: c for c in activity.credits.all()}
        credit = designations.get(claim.credit_type)
        signatory = event.credits.filter(signatory_name__gt="").order_by("credit_type").first()
        title, start, end = activity_title(activity), activity.release_date, activity.expiry_date
        activity_format = statements.ENDURING
    ama = designations.get(CreditType.AMA_PRA_1)
    today = timezone.localdate(timezone.now(), event.tzinfo)
    first = certificate.first_issued_at
    return CertificateData(
        learner_name=certificate.learner_name,
        degree=certificate.degree if certificate.degree != "other" else "",
        activity_title=title,
        start_date=start,
        end_date=end,
        provider=event.cme_provider or event.organizer.name,
        credit_type_name=PRESETS[claim.credit_type].name,
        credit_code=claim.credit_type,
        credit=certificate.credit,
        designated_max=credit.designated_max if credit else claim.designated_max,
        designation_statement=(
            designation_statement(event, credit, ama=ama, activity_format=activity_format)
            if credit
            else ""
        ),
        accreditation_statement=statements.event_accreditation_statement(event, claim.credit_type),
        participation=claim.credit_type == CreditType.PARTICIPATION,
        ama_max=ama.designated_max if ama else None,
        credited_minutes=claim.credited_seconds // 60,
        signatory_name=signatory.signatory_name if signatory else "",
        signatory_title=signatory.signatory_title if signatory else "",
        issued_on=today,
        first_issued_on=timezone.localdate(first, event.tzinfo) if first else today,
        version=certificate.version,
        code=certificate.code,
        verify_url=certificate.verify_url,
        enduring=activity is not None,
    )
