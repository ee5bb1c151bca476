"""Enduring material: a session's recording released for credit as an activity of its own
(CME.md "Enduring material", issue 7).

The learner watches the recording, passes the activity's post-test (pass score announced in
advance) and claims each credit type the activity designates: the credit is the designated
amount, once the test is passed and between the release and expiry dates. Watch coverage is
shown and stored as evidence, never used as a clock.

Nobody earns credit for both the live session and its recording:

* an enduring claim is refused while the learner holds a live claim (not rejected) of the
  session's event whose computed attendance credits minutes in that session;
* once a learner holds an enduring claim for a session, `sessions_claimed_as_enduring` leaves
  that session out of the live computation (`cme.build_credit_case`), so later live credit
  covers the other sessions only.

Claims are `Claim` rows with `enduring` set (event = the session's event), unique per learner,
activity and type; certificates go through the same pipeline as live ones.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from conference.credit.eligibility import id_problems
from conference.credit.rules import PRESETS, CreditTypeRule
from conference.models import (
    Claim,
    ClaimStatus,
    EnduringActivity,
    EnduringCredit,
    Event,
    Recording,
    WatchProgress,
)
from conference.services import cme, posttests
from conference.services.recordings.pipeline import ready_recording

ENDURING_ENGINE_VERSION = "enduring-1"


# The live/recording exclusion ---------------------------------------------------------------


def sessions_claimed_as_enduring(user, event: Event) -> set[int]:
    """Sessions of `event` whose recording the learner claimed as enduring material (claims
    not rejected): the live computation leaves them out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Claim.objects.filter(user=user, event=event, enduring__isnull=False)
        .exclude(status=ClaimStatus.REJECTED)
        .values_list("enduring__session_id", flat=True)
    )


def live_credit_includes_session(user, activity: EnduringActivity) -> bool:
    """Whether a live claim of the learner (not rejected) credits time in the activity's
    session: their live attendance, computed as for that claim, has credited seconds there."""
    event = activity.session.event
    live = Claim.objects.filter(user=user, event=event, enduring__isnull=True).exclude(
        status=ClaimStatus.REJECTED
    )
    if not live.exists():
        return False
    result = cme.compute_event_credit(user, event)
    session_id = str(activity.session_id)
    return any(s.spec.id == session_id and s.credited_seconds > 0 for s in result.sessions)


# Configuration -------------------------------------------------------------------------------

MAX_TERM_YEARS = 3


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


def activity_title(activity: EnduringActivity) -> str:
    return activity.title or activity.session.title


def enduring_statement(activity: EnduringActivity, credit: EnduringCredit, *, ama=None) -> str:
    """The accreditor's wording verbatim, or the type's default statement for enduring
    material ("designates this enduring material for a maximum of ...")."""
    from conference.services import statements

    if credit.statement_override:
        return credit.statement_override
    event = activity.session.event
    return statements.designation_statement(
        credit.credit_type,
        provider=event.cme_provider or event.organizer.name,
        amount=credit.designated_max,
        activity_format=statements.ENDURING,
        activity_number=credit.activity_number,
        ama_max=ama.designated_max if ama is not None else None,
    )


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


def watch_coverage(user, recording: Recording | None) -> Coverage | None:
    if recording is None or not user.is_authenticated:
        return None
    progress = WatchProgress.objects.filter(recording=recording, user=user).first()
    watched = progress.watched_seconds if progress else Decimal(0)
    return Coverage(watched_seconds=watched, duration_seconds=recording.duration_seconds)


@dataclass
class EnduringOffer:
    credit: EnduringCredit
    rule: CreditTypeRule
    statement: str
    claim: Claim | None
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def can_claim(self) -> bool:
        return self.claim is None and not self.problems

    @property
    def needs_profile(self) -> bool:
        return any(
            code in cme.ID_MESSAGES or code == "profile_missing" for code, _ in self.problems
        )


@dataclass
class EnduringOverview:
    activity: EnduringActivity
    title: str
    recording: Recording | None
    test: posttests.AttemptStatus
    coverage: Coverage | None
    availability: list[tuple[str, str]]
    offers: list[EnduringOffer]


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def availability_problems(
    activity: EnduringActivity, *, recording: Recording | None, now: datetime
) -> list[tuple[str, str]]:
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


def _type_problems(
    rule: CreditTypeRule, profile, *, passed: bool, evaluated: bool, test, live_conflict: bool
) -> list[tuple[str, str]]:
    problems = cme.learner_problems(
        rule, profile, id_codes=id_problems(rule, cme.learner_ids(profile))
    )
    if not evaluated:
        problems.append(("evaluation_required", "Complete the activity evaluation first."))
    if not passed:
        problems.append(("post_test_required", posttests.requirement_message(test)))
    if live_conflict:
        problems.append(
            (
                "claimed_live",
                "You claimed live credit that includes this session; nobody earns credit for "
                "both the live session and its recording.",
            )
        )
    return problems


def enduring_overview(
    user, activity: EnduringActivity, *, now: datetime | None = None
) -> EnduringOverview:
    """Everything the activity page shows one learner, with every reason a claim is blocked."""
    now = now or timezone.now()
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
    profile = cme.profile_of(user)
    claims = {c.credit_type: c for c in Claim.objects.filter(user=user, enduring=activity)}
    live_conflict = not claims and live_credit_includes_session(user, activity)
    evaluated = cme.evaluation_done(user, activity.session.event)
    credits = list(activity.credits.all())
    ama = next((c for c in credits if c.credit_type == "AMA_PRA_1"), None)
    offers = []
    for credit in credits:
        rule = PRESETS[credit.credit_type]
        problems = list(availability) + _type_problems(
            rule,
            profile,
            passed=status.passed,
            evaluated=evaluated,
            test=activity.post_test,
            live_conflict=live_conflict,
        )
        offers.append(
            EnduringOffer(
                credit=credit,
                rule=rule,
                statement=enduring_statement(activity, credit, ama=ama),
                claim=claims.get(rule.code),
                problems=problems,
            )
        )
    return EnduringOverview(
        activity=activity,
        title=activity_title(activity),
        recording=recording,
        test=status,
        coverage=watch_coverage(user, recording),
        availability=availability,
        offers=offers,
    )


# Claiming ------------------------------------------------------------------------------------


def claim_enduring_credit(
    user,
    activity: EnduringActivity,
    credit_type: str,
    *,
    attested: bool,
    site_url: str = "",
    now: datetime | None = None,
) -> Claim:
    """Claim the designated amount of `credit_type` for the enduring activity. A second
    submission returns the first claim unchanged; `cme.ClaimRefused` lists every reason the
    claim is not possible. The claim is approved and its certificate queued."""
    existing = Claim.objects.filter(user=user, enduring=activity, credit_type=credit_type).first()
    if existing is not None:
        return existing
    overview = enduring_overview(user, activity, now=now)
    offer = next((o for o in overview.offers if o.code == credit_type), None)
    if offer is None:
        raise cme.ClaimRefused(
            [("credit_type_not_offered", "This activity does not offer that credit.")]
        )
    problems = list(offer.problems)
    if not attested:
        problems.append(("attestation_required", f"Please attest: “{cme.ATTESTATION_TEXT}”"))
    if problems:
        raise cme.ClaimRefused(problems)
    return _create_claim(user, overview, offer, site_url=site_url, now=now or timezone.now())


def _inputs_hash(overview: EnduringOverview, offer: EnduringOffer, degree: str) -> str:
    passed = next(a for a in overview.test.attempts if a.passed)
    activity = overview.activity
    inputs = {
        "activity": activity.pk,
        "release_date": activity.release_date.isoformat(),
        "expiry_date": activity.expiry_date.isoformat(),
        "credit_type": offer.code,
        "designated": format(offer.credit.designated_max, ".2f"),
        "degree": degree,
        "post_test": {
            "id": activity.post_test_id,
            "attempt": passed.number,
            "score_percent": format(passed.score_percent, ".2f"),
        },
        "recording": overview.recording.pk if overview.recording else None,
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def _create_claim(
    user, overview: EnduringOverview, offer: EnduringOffer, *, site_url: str, now: datetime
) -> Claim:
    activity = overview.activity
    event = activity.session.event
    profile = cme.profile_of(user)
    amount = offer.credit.designated_max
    coverage = overview.coverage
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                user=user,
                event=event,
                enduring=activity,
                credit_type=offer.code,
                degree=profile.degree,
                credited_seconds=int(amount * 3600),
                computed_credit=amount,
                claimed_credit=amount,
                designated_max=amount,
                status=ClaimStatus.APPROVED,
                attestation=cme.ATTESTATION_TEXT,
                attested_at=now,
                inputs_hash=_inputs_hash(overview, offer, profile.degree),
                engine_version=ENDURING_ENGINE_VERSION,
                rule_version=offer.rule.version,
            )
            cme.audit(
                user,
                event,
                "claim.submitted",
                claim,
                amount=str(amount),
                status=ClaimStatus.APPROVED,
                enduring_activity=activity.pk,
                post_test_score=format(overview.test.best.score_percent, ".2f"),
                watched_seconds=str(coverage.watched_seconds) if coverage else None,
                recording=overview.recording.pk if overview.recording else None,
            )
            cme.queue_certificate(claim, site_url=site_url)
    except IntegrityError:
        # A double submission that raced past the first check: the first one won.
        return Claim.objects.get(user=user, enduring=activity, credit_type=offer.code)
    return claim


def published_activities(event: Event):
    """The event's published enduring activities (for the My CME page)."""
    return (
        EnduringActivity.objects.filter(session__event=event, is_published=True)
        .select_related("session")
        .order_by("session__starts_at", "pk")
    )
