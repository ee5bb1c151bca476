"""The organizer's dashboard of one event: how it is going, from the append-only records.

Each figure is a `Figure`: a title, a chart (server-rendered SVG) and the same numbers as CSV
rows. Everything is read from the database with aggregate queries (registrations, attendance
events, questions, chat messages, poll votes, evaluations, claims, certificates, watch
progress); nothing touches the live layer (sockets, channel layer, presence store). Times are in
the event's time zone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Cast, ExtractMinute, Trunc
from django.utils import timezone

from conference.models import (
    AttendanceEvent,
    AttendanceKind,
    Certificate,
    CertificateStatus,
    ChatMessage,
    Claim,
    ClaimStatus,
    EvaluationAnswer,
    EvaluationQuestion,
    EvaluationResponse,
    Event,
    Poll,
    Question,
    QuestionKind,
    Registration,
    WatchProgress,
)
from conference.models.cme import CREDIT_TYPE_CHOICES
from conference.services import charts

PRESENCE_BUCKET_MINUTES = 5
VOLUME_BUCKET_MINUTES = 15
PROOFS = [AttendanceKind.JOIN, AttendanceKind.HEARTBEAT, AttendanceKind.ATTENTION_PASSED]


@dataclass
class Figure:
    key: str
    title: str
    explanation: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    svg: str = ""
    summary: str = ""


def _local(moment: datetime, event: Event) -> datetime:
    return timezone.localtime(moment, event.tzinfo)


def _bucketed(
    queryset: QuerySet[Any],
    event: Event,
    minutes: int,
    *,
    distinct_users: bool,
    time_field: str,
    group: tuple[str, ...] = (),
) -> QuerySet[Any, dict[str, Any]]:
    """Rows of `group` fields, the local hour and the `minutes` interval within it, and a count
    (rows, or distinct people), aggregated by the database."""
    hour = Trunc(time_field, "hour", tzinfo=event.tzinfo)
    part = Cast(ExtractMinute(time_field, tzinfo=event.tzinfo), IntegerField()) / minutes
    counted = Count("user", distinct=True) if distinct_users else Count("pk")
    rows: QuerySet[Any, dict[str, Any]] = (
        queryset.order_by()
        .annotate(hour=hour, part=part)
        .values(*group, "hour", "part")
        .annotate(n=counted)
        .order_by("hour", "part")
    )
    return rows


def registrations(event: Event) -> Figure:
    rows = (
        Registration.objects.filter(event=event)
        .order_by()
        .annotate(day=Trunc("created_at", "day", tzinfo=event.tzinfo))
        .values("day")
        .annotate(n=Count("pk"), cancelled=Count("pk", filter=Q(cancelled_at__isnull=False)))
        .order_by("day")
    )
    figure = Figure(
        "registrations",
        "Registrations over time",
        "New registrations per day (cancelled ones included, counted again below) and the "
        "running total, by the event's calendar day.",
        ["day", "registrations", "cancelled", "running total"],
    )
    total = 0
    for row in rows:
        total += row["n"]
        day = _local(row["day"], event).date().isoformat()
        figure.rows.append([day, row["n"], row["cancelled"], total])
    figure.svg = charts.line_chart(
        [r[0] for r in figure.rows],
        {"running total": [r[3] for r in figure.rows], "per day": [r[1] for r in figure.rows]},
        title=figure.title,
    )
    figure.summary = f"{total} registrations"
    return figure


def presence(event: Event) -> Figure:
    proofs = AttendanceEvent.objects.filter(session__event=event, kind__in=PROOFS)
    rows = _bucketed(
        proofs,
        event,
        PRESENCE_BUCKET_MINUTES,
        distinct_users=True,
        time_field="server_time",
        group=("hall__name",),
    )
    by_time: dict[datetime, dict[str, int]] = defaultdict(dict)
    halls: list[str] = []
    for row in rows:
        start = row["hour"] + timedelta(minutes=row["part"] * PRESENCE_BUCKET_MINUTES)
        by_time[start][row["hall__name"]] = row["n"]
        if row["hall__name"] not in halls:
            halls.append(row["hall__name"])
    times = _fill(sorted(by_time), PRESENCE_BUCKET_MINUTES)
    figure = Figure(
        "presence",
        "People present per hall",
        f"People with a proof of presence (joining, a heartbeat every minute, a passed "
        f"attention check) in each {PRESENCE_BUCKET_MINUTES}-minute interval, per hall; the "
        "peak is the largest interval.",
        ["time", *halls],
    )
    for moment in times:
        figure.rows.append(
            [_local(moment, event).strftime("%Y-%m-%d %H:%M")]
            + [by_time.get(moment, {}).get(hall, 0) for hall in halls]
        )
    series = {hall: [row[i + 1] for row in figure.rows] for i, hall in enumerate(halls)}
    figure.svg = charts.line_chart(
        [row[0][11:] for row in figure.rows], series, title=figure.title, step=True
    )
    peaks = [f"{hall}: peak {max(values)}" for hall, values in series.items() if values]
    figure.summary = "; ".join(peaks) or "Nobody attended yet"
    return figure


def _fill(moments: list[datetime], minutes: int) -> list[datetime]:
    if not moments:
        return []
    filled: list[datetime] = []
    current = moments[0]
    while current <= moments[-1] and len(filled) < 2000:
        filled.append(current)
        current += timedelta(minutes=minutes)
    return filled


def sessions_ranked(event: Event) -> Figure:
    sessions = (
        event.sessions.exclude(kind="break")
        .order_by()
        .annotate(
            attendees=Count(
                "attendance_events__user",
                filter=Q(attendance_events__kind=AttendanceKind.JOIN),
                distinct=True,
            ),
        )
        .values("pk", "title", "attendees")
    )
    questions = dict(
        Question.objects.filter(session__event=event)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values_list("session", "n")
    )
    rows = sorted(
        ([s["title"], s["attendees"], questions.get(s["pk"], 0)] for s in sessions),
        key=lambda row: (-row[1], -row[2], row[0]),
    )
    figure = Figure(
        "sessions",
        "Sessions by attendance and questions",
        "People who joined each session (once each, however often they came back) and the "
        "questions asked in it, most attended first.",
        ["session", "attendees", "questions"],
        rows,
    )
    figure.svg = charts.bar_chart(
        [r[0] for r in rows],
        {"attendees": [r[1] for r in rows], "questions": [r[2] for r in rows]},
        title=figure.title,
    )
    return figure


def engagement_volume(event: Event) -> Figure:
    questions = _bucketed(
        Question.objects.filter(session__event=event),
        event,
        VOLUME_BUCKET_MINUTES,
        distinct_users=False,
        time_field="created_at",
    )
    hall_ids = event.sessions.exclude(hall=None).values("hall")
    first, last = _event_window(event)
    chat = _bucketed(
        ChatMessage.objects.filter(hall__in=hall_ids, created_at__gte=first, created_at__lt=last),
        event,
        VOLUME_BUCKET_MINUTES,
        distinct_users=False,
        time_field="created_at",
    )
    counts: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for index, rows in enumerate((questions, chat)):
        for row in rows:
            start = row["hour"] + timedelta(minutes=row["part"] * VOLUME_BUCKET_MINUTES)
            counts[start][index] += row["n"]
    figure = Figure(
        "volume",
        "Q&A and chat volume",
        f"Questions asked and chat messages sent (hidden ones included) per "
        f"{VOLUME_BUCKET_MINUTES} minutes, in the event's halls during its days.",
        ["time", "questions", "chat messages"],
    )
    for moment in _fill(sorted(counts), VOLUME_BUCKET_MINUTES):
        q, c = counts.get(moment, [0, 0])
        figure.rows.append([_local(moment, event).strftime("%Y-%m-%d %H:%M"), q, c])
    figure.svg = charts.line_chart(
        [row[0][11:] for row in figure.rows],
        {"questions": [r[1] for r in figure.rows], "chat": [r[2] for r in figure.rows]},
        title=figure.title,
    )
    figure.summary = (
        f"{sum(r[1] for r in figure.rows)} questions, {sum(r[2] for r in figure.rows)} messages"
    )
    return figure


def _event_window(event: Event) -> tuple[datetime, datetime]:
    return event.starts_at, event.ends_at


def polls(event: Event) -> Figure:
    rows = (
        Poll.objects.filter(session__event=event)
        .order_by()
        .annotate(voters=Count("votes__user", distinct=True))
        .values_list("question", "session__title", "voters")
        .order_by("created_at")
    )
    figure = Figure(
        "polls",
        "Poll participation",
        "People who voted in each poll.",
        ["poll", "session", "voters"],
        [list(row) for row in rows],
    )
    figure.svg = charts.bar_chart(
        [r[0] for r in figure.rows], {"voters": [r[2] for r in figure.rows]}, title=figure.title
    )
    return figure


def evaluations(event: Event) -> Figure:
    responses = EvaluationResponse.objects.filter(form__event=event).count()
    likert = (
        EvaluationQuestion.objects.filter(form__event=event, kind=QuestionKind.LIKERT)
        .order_by("order")
        .values_list("pk", "text")
    )
    averages = dict(
        EvaluationAnswer.objects.filter(
            response__form__event=event, question__kind=QuestionKind.LIKERT
        )
        .exclude(value="")
        .order_by()
        .values("question")
        .annotate(mean=Avg(Cast("value", IntegerField())), n=Count("pk"))
        .values_list("question", "mean")
    )
    figure = Figure(
        "evaluations",
        "Evaluations: average rating per question (1–5)",
        f"{responses} evaluations submitted; the average of each rating question.",
        ["question", "average (1-5)"],
        [[text, round(float(averages.get(pk) or 0), 2)] for pk, text in likert],
    )
    figure.svg = charts.bar_chart(
        [r[0] for r in figure.rows], {"average": [r[1] for r in figure.rows]}, title=figure.title
    )
    figure.summary = f"{responses} evaluations"
    return figure


def credit(event: Event) -> Figure:
    names = dict(CREDIT_TYPE_CHOICES)
    claims = (
        Claim.objects.filter(event=event)
        .order_by()
        .values("credit_type")
        .annotate(
            approved=Count("pk", filter=Q(status=ClaimStatus.APPROVED)),
            review=Count("pk", filter=Q(status=ClaimStatus.NEEDS_REVIEW)),
            rejected=Count("pk", filter=Q(status=ClaimStatus.REJECTED)),
            credits=Sum("claimed_credit", filter=Q(status=ClaimStatus.APPROVED)),
        )
        .order_by("credit_type")
    )
    certificates = dict(
        Certificate.objects.filter(claim__event=event, status=CertificateStatus.ISSUED)
        .order_by()
        .values("claim__credit_type")
        .annotate(n=Count("pk"))
        .values_list("claim__credit_type", "n")
    )
    figure = Figure(
        "credit",
        "CME claims and certificates by credit type",
        "Claims per status and the certificates currently valid (issued, not superseded), "
        "live and enduring material together; credits are the approved amounts claimed.",
        ["credit type", "approved", "waiting for review", "rejected", "certificates", "credits"],
    )
    for row in claims:
        code = row["credit_type"]
        figure.rows.append(
            [
                names.get(code, code),
                row["approved"],
                row["review"],
                row["rejected"],
                certificates.get(code, 0),
                str(row["credits"] or 0),
            ]
        )
    figure.svg = charts.bar_chart(
        [r[0] for r in figure.rows],
        {
            "approved claims": [r[1] for r in figure.rows],
            "waiting for review": [r[2] for r in figure.rows],
            "certificates": [r[4] for r in figure.rows],
        },
        title=figure.title,
    )
    return figure


def recordings(event: Event) -> Figure:
    rows = (
        WatchProgress.objects.filter(recording__session__event=event)
        .order_by()
        .values("recording__session__title")
        .annotate(viewers=Count("user", distinct=True), seconds=Sum("watched_seconds"))
        .order_by("-viewers", "recording__session__title")
    )
    figure = Figure(
        "recordings",
        "Recordings watched",
        "People who watched each session's recording and the minutes they watched in total.",
        ["recording", "viewers", "minutes watched"],
        [
            [r["recording__session__title"], r["viewers"], round(float(r["seconds"] or 0) / 60)]
            for r in rows
        ],
    )
    figure.svg = charts.bar_chart(
        [r[0] for r in figure.rows],
        {"viewers": [r[1] for r in figure.rows], "minutes": [r[2] for r in figure.rows]},
        title=figure.title,
    )
    return figure


FIGURES = {
    "registrations": registrations,
    "presence": presence,
    "sessions": sessions_ranked,
    "volume": engagement_volume,
    "polls": polls,
    "evaluations": evaluations,
    "credit": credit,
    "recordings": recordings,
}


def dashboard(event: Event) -> list[Figure]:
    return [build(event) for build in FIGURES.values()]
