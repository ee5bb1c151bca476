"""Enduring material: a session's recording released for credit as an activity of its own
(CME.md "Enduring material", issue 7).

The learner watches the recording, passes the activity's post-test (pass score announced in
advance) and claims each credit type the activity designates: the credit is the designated
amount, once the test is passed and between the release and expiry dates. Watch coverage is
shown and stored as evidence, never used as a clock.

Nobody earns credit for both the live session and its recording:

* an enduring claim is refused while the learner holds a live claim (not rejected) of the
  session's event whose computed attendance credits minutes in that session;
* once a learner holds an enduring claim for a session, the live computation leaves that
  session out (`LearnerCase.claimed_as_enduring`), so later live credit covers the other
  sessions only.

Claims are `Claim` rows with `enduring` set (event = the session's event), unique per learner,
activity and type, made by the same workflow as live ones (`cme.claims`); certificates go
through the same pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from conference.models import (
    Claim,
    ClaimStatus,
    EnduringActivity,
    Event,
    Recording,
    WatchProgress,
)
from conference.services import posttests
from conference.services.cme.case import compute_event_credit
from conference.services.cme.learner import LearnerCase, load_learner
from conference.services.cme.offers import CreditOffer, Problems, enduring_offers
from conference.services.cme.printed import activity_title
from conference.services.recordings.pipeline import ready_recording

MAX_TERM_YEARS = 3


# The live/recording exclusion ---------------------------------------------------------------


def live_credit_includes_session(learner: LearnerCase, activity: EnduringActivity) -> bool:
    """Whether a live claim of the learner (not rejected) credits time in the activity's
    session: their live attendance, computed as for that claim, has credited seconds there."""
    live = Claim.objects.filter(
        user=learner.user, event=learner.event, enduring__isnull=True
    ).exclude(status=ClaimStatus.REJECTED)
    if not live.exists():
        return False
    result = compute_event_credit(learner.user, learner.event, learner=learner)
    session_id = str(activity.session_id)
    return any(s.spec.id == session_id and s.credited_seconds > 0 for s in result.sessions)


# Configuration -------------------------------------------------------------------------------


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def date_problems(*, release: date, review: date, expiry: date) -> dict[str, str]:
    """Admin validation of an activity's dates: expiry after release and (ACCME) at most three
    years after the release or the latest review. A review on or before the release is fine
    (content reviewed before it was released)."""
    problems = {}
    if expiry <= release:
        problems["expiry_date"] = "The expiry date must be after the release date."
    else:
        limit = _years_after(max(release, review), MAX_TERM_YEARS)
        if expiry > limit:
            problems["expiry_date"] = (
                f"Enduring material expires at most {MAX_TERM_YEARS} years after its release or "
                f"latest review: {limit.isoformat()} at the latest."
            )
    if review > expiry:
        problems["review_date"] = "The review date cannot be after the expiry date."
    return problems


# What the learner sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """How much of the recording the learner has played (evidence, not a clock)."""

    watched_seconds: Decimal
    duration_seconds: Decimal | None

    @property
    def percent(self) -> int | None:
        if not self.duration_seconds:
            return None
        return min(int(self.watched_seconds * 100 / self.duration_seconds), 100)


def watch_coverage(user: User, recording: Recording | None) -> Coverage | None:
    if recording is None or not user.is_authenticated:
        return None
    progress = WatchProgress.objects.filter(recording=recording, user=user).first()
    watched = progress.watched_seconds if progress else Decimal(0)
    return Coverage(watched_seconds=watched, duration_seconds=recording.duration_seconds)


@dataclass
class EnduringOverview:
    activity: EnduringActivity
    title: str
    recording: Recording | None
    test: posttests.AttemptStatus
    coverage: Coverage | None
    availability: Problems
    offers: list[CreditOffer]


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def availability_problems(
    activity: EnduringActivity, *, recording: Recording | None, now: datetime
) -> Problems:
    """Why nobody can claim credit for the activity right now (dates in the event's zone)."""
    today = timezone.localdate(now, activity.session.event.tzinfo)
    problems = []
    if not activity.is_published or not activity.session.event.is_published:
        problems.append(("not_published", "This enduring activity is not published."))
    if today < activity.release_date:
        problems.append(
            ("not_released", f"Credit can be claimed from {_day(activity.release_date)}.")
        )
    if today > activity.expiry_date:
        problems.append(
            (
                "expired",
                f"This activity expired on {_day(activity.expiry_date)}; "
                "credit can no longer be claimed.",
            )
        )
    if recording is None:
        problems.append(("no_recording", "The recording is not available yet."))
    return problems


def enduring_overview(
    user: User,
    activity: EnduringActivity,
    *,
    now: datetime | None = None,
    learner: LearnerCase | None = None,
) -> EnduringOverview:
    """Everything the activity page shows one learner, with every reason a claim is blocked.
    `learner`: the case already loaded for this request (of the session's event)."""
    now = now or timezone.now()
    learner = learner or load_learner(user, activity.session.event)
    recording = ready_recording(activity.session)
    status = posttests.attempt_status(user, activity.post_test)
    availability = availability_problems(activity, recording=recording, now=now)
    availability += [("test_not_ready", m) for m in posttests.setup_problems(activity.post_test)]
    if not posttests.may_take(user, activity.post_test):
        availability.append(
            (
                "not_registered",
                "Register for the event to take the post-test and claim this credit.",
            )
        )
    claims = {c.credit_type: c for c in Claim.objects.filter(user=user, enduring=activity)}
    live_conflict = not claims and live_credit_includes_session(learner, activity)
    coverage = watch_coverage(user, recording)
    best = status.best
    offers = enduring_offers(
        learner,
        activity,
        claims=claims,
        test=status,
        recording=recording,
        availability=availability,
        live_conflict=live_conflict,
        evidence={
            "post_test_score": format(best.score_percent, ".2f") if best else None,
            "watched_seconds": str(coverage.watched_seconds) if coverage else None,
            "recording": recording.pk if recording else None,
        },
    )
    return EnduringOverview(
        activity=activity,
        title=activity_title(activity),
        recording=recording,
        test=status,
        coverage=coverage,
        availability=availability,
        offers=offers,
    )


def published_activities(event: Event) -> QuerySet[EnduringActivity]:
    """The event's published enduring activities (for the My CME page)."""
    return (
        EnduringActivity.objects.filter(session__event=event, is_published=True)
        .select_related("session")
        .order_by("session__starts_at", "pk")
    )
