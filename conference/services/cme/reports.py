"""Reporting: the learner file of an activity for PARS (ACCME), only for learners who
consented, and the audit pack of an event.

The column layout is MedVenue's own (docs/cme-claims.md "PARS learner file"): ACCME's batch
upload template could not be found in the sources available, so this file is not claimed to be
that template.

Each learner row is validated on its own: a learner whose data an accreditor would reject is
listed with the reasons instead of breaking the whole file.
"""

import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import ProfessionalProfile, StateLicense, User
from accounts.validators import validate_birth_month_day, validate_npi
from conference.credit.rules import ID_BIRTH_MMDD, ID_BOARD, PRESETS
from conference.models import (
    AttendanceEvent,
    Certificate,
    Claim,
    ClaimCorrection,
    ClaimStatus,
    CmeAuditEntry,
    EvaluationAnswer,
    EvaluationQuestion,
    Event,
    EventCredit,
    QuestionKind,
)
from conference.services.cme.case import compute_event_credit
from conference.services.cme.records import effective_credit
from conference.services.spreadsheets import append_text_row, csv_text

PARS_COLUMNS = (
    "activity_id",
    "completion_date",
    "first_name",
    "last_name",
    "birth_month",
    "birth_day",
    "license_state",
    "license_id",
    "npi",
    "credits",
    "credit_type",
    "certifying_board",
    "board_id",
)


@dataclass(frozen=True)
class ParsProblem:
    learner: str
    email: str
    problems: tuple[str, ...]


def name_problems(profile: ProfessionalProfile) -> list[str]:
    """Given and family names come from their own profile fields, never split here."""
    if not (profile.given_name.strip() and profile.family_name.strip()):
        return ["given and family names missing in the profile"]
    if profile.name_needs_review:
        return [
            "given and family names were split automatically from the legal name; the learner "
            "must confirm them in the profile"
        ]
    return []


def completion_dates(event: Event, user_ids: set[int]) -> dict[int, date]:
    """Each learner's own completion date: the day (event's time zone) of their last proof of
    presence in a credit-eligible session, cut at that session's end."""
    rows = (
        AttendanceEvent.objects.filter(
            session__event=event, session__is_cme_eligible=True, user_id__in=user_ids
        )
        .values("user_id", "session__ends_at")
        .annotate(last=Max("server_time"))
    )
    latest: dict[int, datetime] = {}
    for row in rows:
        moment = min(row["last"], row["session__ends_at"])
        latest[row["user_id"]] = max(latest.get(row["user_id"], moment), moment)
    return {
        user_id: timezone.localtime(moment, event.tzinfo).date()
        for user_id, moment in latest.items()
    }


def _birth_problems(profile: ProfessionalProfile, required: bool) -> list[str]:
    if profile.birth_month is None and profile.birth_day is None:
        return ["birth month/day missing"] if required else []
    try:
        validate_birth_month_day(profile.birth_month, profile.birth_day)
    except ValidationError:
        return ["birth month/day invalid"]
    return []


def _identity_problems(profile: ProfessionalProfile, licenses: list[StateLicense]) -> list[str]:
    if profile.npi:
        try:
            validate_npi(profile.npi)
        except ValidationError:
            return ["NPI invalid"]
        return []
    return [] if licenses else ["neither an NPI nor a state license"]


def _row_and_problems(
    event_credit: EventCredit, claim: Claim, completed: date | None
) -> tuple[list[str], list[str]]:
    rule = PRESETS[claim.credit_type]
    profile = claim.user.profile
    licenses = list(profile.licenses.all())
    boards = {b.board: b.board_id for b in profile.boards.all()}
    problems = name_problems(profile)
    if completed is None:
        problems.append("no attendance recorded to date the completion")
    problems += _identity_problems(profile, licenses)
    problems += _birth_problems(profile, ID_BIRTH_MMDD in rule.required_ids)
    board_id = boards.get(rule.board, "") if rule.board else ""
    if ID_BOARD in rule.required_ids and not board_id:
        problems.append(f"{rule.board} board ID missing")
    if not event_credit.activity_number:
        problems.append("the activity has no activity ID")
    license_row = licenses[0] if licenses else None
    row = [
        event_credit.activity_number,
        completed.isoformat() if completed else "",
        profile.given_name.strip(),
        profile.family_name.strip(),
        str(profile.birth_month or ""),
        str(profile.birth_day or ""),
        license_row.state if license_row else "",
        license_row.number if license_row else "",
        profile.npi,
        format(effective_credit(claim), ".2f"),
        claim.credit_type,
        rule.board,
        board_id,
    ]
    return row, problems


def pars_learner_file(event_credit: EventCredit) -> tuple[str, list[ParsProblem]]:
    """CSV text of the valid, consenting learners and the problems of the others."""
    rows, problems = pars_rows(event_credit)
    return csv_text(PARS_COLUMNS, rows), problems


def pars_learner_workbook(event_credit: EventCredit) -> bytes:
    """The same as an Excel workbook: sheet "Learners" (every cell text, so IDs keep their
    leading zeros) and sheet "Problems"."""
    rows, problems = pars_rows(event_credit)
    workbook = Workbook()
    learners = workbook.worksheets[0]
    learners.title = "Learners"
    append_text_row(learners, PARS_COLUMNS)
    for row in rows:
        append_text_row(learners, row)
    sheet = workbook.create_sheet("Problems")
    append_text_row(sheet, ("learner", "email", "problems"))
    for problem in problems:
        append_text_row(sheet, (problem.learner, problem.email, "; ".join(problem.problems)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def pars_rows(event_credit: EventCredit) -> tuple[list[list[str]], list[ParsProblem]]:
    """Rows of the valid, consenting learners and the problems of the others."""
    claims = (
        Claim.objects.filter(
            event=event_credit.event,
            credit_type=event_credit.credit_type,
            status=ClaimStatus.APPROVED,
            enduring=None,  # enduring material is an activity of its own
            user__profile__consent_share_with_boards=True,
        )
        .select_related("event", "user__profile")
        .prefetch_related(
            "user__profile__licenses", "user__profile__boards", "corrections", "additions"
        )
        .order_by("user__profile__family_name", "user__profile__given_name", "pk")
    )
    rows: list[list[str]] = []
    problems: list[ParsProblem] = []
    approved = list(claims)
    completed = completion_dates(event_credit.event, {c.user_id for c in approved})
    for claim in approved:
        row, row_problems = _row_and_problems(event_credit, claim, completed.get(claim.user_id))
        if row_problems:
            problems.append(
                ParsProblem(claim.user.profile.legal_name, claim.user.email, tuple(row_problems))
            )
        else:
            rows.append(row)
    return rows, problems


def _csv(header: tuple[str, ...], rows: Iterable[Sequence[object]]) -> str:
    return csv_text(header, rows)


def _attendance_csv(event: Event) -> str:
    rows = (
        AttendanceEvent.objects.filter(session__event=event)
        .order_by("server_time", "pk")
        .values_list(
            "pk", "user__email", "session_id", "session__title", "connection", "kind", "server_time"
        )
    )
    return _csv(
        ("id", "learner", "session_id", "session", "connection", "kind", "server_time_utc"),
        ((*row[:6], row[6].isoformat()) for row in rows.iterator()),
    )


def _claims_csv(event: Event) -> str:
    claims = Claim.objects.filter(event=event).select_related("user").order_by("pk")
    return _csv(
        (
            "id",
            "learner",
            "credit_type",
            "degree",
            "credited_minutes",
            "computed",
            "claimed",
            "effective",
            "designated_max",
            "status",
            "attested_at",
            "inputs_hash",
            "engine_version",
            "rule_version",
            "enduring_activity",
        ),
        (
            (
                c.pk,
                c.user.email,
                c.credit_type,
                c.degree,
                c.credited_seconds // 60,
                c.computed_credit,
                c.claimed_credit,
                effective_credit(c),
                c.designated_max,
                c.status,
                c.attested_at.isoformat(),
                c.inputs_hash,
                c.engine_version,
                c.rule_version,
                c.enduring_id or "",
            )
            for c in claims.prefetch_related("corrections", "additions")
        ),
    )


def _corrections_csv(event: Event) -> str:
    corrections = ClaimCorrection.objects.filter(claim__event=event).select_related("created_by")
    return _csv(
        ("claim_id", "credit", "reason", "by", "at"),
        (
            (c.claim_id, c.credit, c.reason, c.created_by.email, c.created_at.isoformat())
            for c in corrections.order_by("pk")
        ),
    )


def _certificates_csv(event: Event) -> str:
    certificates = Certificate.objects.filter(claim__event=event).order_by("claim_id", "version")
    return _csv(
        (
            "claim_id",
            "version",
            "code",
            "status",
            "name",
            "credit",
            "first_issued",
            "issued",
            "revoked_reason",
        ),
        (
            (
                c.claim_id,
                c.version,
                c.code,
                c.status,
                c.learner_name,
                c.credit,
                c.first_issued_at.isoformat() if c.first_issued_at else "",
                c.issued_at.isoformat() if c.issued_at else "",
                c.revoked_reason,
            )
            for c in certificates
        ),
    )


def evaluation_summary(event: Event) -> list[dict[str, Any]]:
    """Per question: the number of answers, counts per option, the mean for Likert."""
    summary = []
    questions = EvaluationQuestion.objects.filter(form__event=event).order_by("order", "pk")
    for question in questions:
        values = list(
            EvaluationAnswer.objects.filter(question=question)
            .exclude(value="")
            .values_list("value", flat=True)
        )
        counts = {key: values.count(key) for key, _ in question.choice_list()}
        mean = ""
        if question.kind == QuestionKind.LIKERT and values:
            mean = f"{sum(int(v) for v in values) / len(values):.2f}"
        summary.append(
            {
                "question": question.text,
                "kind": question.kind,
                "answers": len(values),
                "counts": counts,
                "mean": mean,
            }
        )
    return summary


def _evaluation_csv(event: Event) -> str:
    return _csv(
        ("question", "kind", "answers", "mean", "counts"),
        (
            (
                s["question"],
                s["kind"],
                s["answers"],
                s["mean"],
                "; ".join(f"{k}: {v}" for k, v in s["counts"].items()),
            )
            for s in evaluation_summary(event)
        ),
    )


def _free_text_csv(event: Event) -> str:
    answers = (
        EvaluationAnswer.objects.filter(
            question__form__event=event, question__kind=QuestionKind.TEXT
        )
        .exclude(value="")
        .select_related("question")
        .order_by("question__order", "pk")
    )
    return _csv(("question", "answer"), ((a.question.text, a.value) for a in answers))


def _audit_csv(event: Event) -> str:
    entries = CmeAuditEntry.objects.filter(event=event).select_related("actor").order_by("pk")
    return _csv(
        ("at", "actor", "action", "object_type", "object_id", "detail"),
        (
            (
                e.created_at.isoformat(),
                e.actor.email if e.actor else "",
                e.action,
                e.object_type,
                e.object_id,
                json.dumps(e.detail, sort_keys=True),
            )
            for e in entries
        ),
    )


def audit_pack(event: Event) -> bytes:
    """A zip for accreditors: attendance, claims, corrections, certificates, evaluations and
    the audit trail of `event`, each as CSV (learners named by e-mail, no other IDs)."""
    files = {
        "attendance.csv": _attendance_csv,
        "claims.csv": _claims_csv,
        "corrections.csv": _corrections_csv,
        "certificates.csv": _certificates_csv,
        "evaluation_summary.csv": _evaluation_csv,
        "evaluation_free_text.csv": _free_text_csv,
        "audit_trail.csv": _audit_csv,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, build in files.items():
            archive.writestr(f"{event.slug}/{name}", build(event))
    return buffer.getvalue()


@dataclass(frozen=True)
class LearnerAttendance:
    email: str
    name: str
    total_minutes: int
    credits: tuple[tuple[str, str, tuple[str, ...]], ...]
    sessions: tuple[tuple[str, int, int, int, tuple[str, ...], int], ...]


def attendance_overview(event: Event) -> list[LearnerAttendance]:
    """Per learner with attendance at `event`: per session attended, eligible and credited
    minutes, reasons and segment count, and the credit per type (recomputed now)."""
    learners = (
        User.objects.filter(attendance_events__session__event=event)
        .distinct()
        .select_related("profile")
        .order_by("email")
    )
    overview = []
    for user in learners:
        result = compute_event_credit(user, event)
        profile = getattr(user, "profile", None)
        overview.append(
            LearnerAttendance(
                email=user.email,
                name=profile.legal_name if profile else "",
                total_minutes=result.total_seconds // 60,
                credits=tuple(
                    (t.rule.code, format(t.credit, ".2f"), t.reasons) for t in result.credit_types
                ),
                sessions=tuple(
                    (
                        s.spec.title,
                        s.attended_seconds // 60,
                        s.eligible_seconds // 60,
                        s.credited_seconds // 60,
                        s.reasons,
                        len(s.segments),
                    )
                    for s in result.sessions
                    if s.attended_seconds
                ),
            )
        )
    return overview
