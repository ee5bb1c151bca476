"""What a learner may claim: one `CreditOffer` per credit type of an activity — an event's
live credit (`credit_offers`) or an enduring activity's (`enduring_offers`) — with the credit
the learner may claim without review, the evidence a claim records, and every reason a claim
is not possible now."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import ProfessionalProfile, User
from conference.credit import CreditTypeRule
from conference.credit.eligibility import id_problems
from conference.credit.engine import CreditTypeResult
from conference.credit.rules import PRESETS
from conference.models import (
    AttendanceEvent,
    Claim,
    ClaimStatus,
    EnduringActivity,
    EnduringCredit,
    Event,
    EventCredit,
    PostTest,
    Recording,
    Session,
)
from conference.services import posttests
from conference.services.cme.case import learner_credit
from conference.services.cme.explain import local_time
from conference.services.cme.learner import LearnerCase, load_learner
from conference.services.cme.printed import enduring_statements, offer_statements
from conference.services.cme.records import effective_credit, latest_credited_seconds
from conference.services.cme.terms import ID_MESSAGES, REASON_MESSAGES

ENDURING_ENGINE_VERSION = "enduring-1"
Problems = list[tuple[str, str]]


@dataclass
class CreditOffer:
    """One credit type of one activity as one learner sees it. `computed_credit` is what the
    learner may claim without staff review (live: the engine's credit over the ended
    sessions; enduring material: the designated amount); a claim records `credited_seconds`,
    `inputs_hash`, `engine_version` and, in its audit entry, `evidence`."""

    rule: CreditTypeRule
    designated_max: Decimal
    computed_credit: Decimal
    credited_seconds: int
    claim: Claim | None
    statement: str = ""
    accreditation: str = ""
    inputs_hash: str = ""
    engine_version: str = ""
    problems: Problems = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    credited_sessions: list[str] = field(default_factory=list)
    sessions_to_come: bool = False
    attainable_max: Decimal | None = None
    attainable_minutes: int = 0
    evidence: dict[str, object] = field(default_factory=dict)
    # Live credit: the event's designation and the engine's result for the type.
    event_credit: EventCredit | None = None
    result: CreditTypeResult | None = None
    # Enduring material: the activity and its designation.
    enduring: EnduringActivity | None = None
    enduring_credit: EnduringCredit | None = None

    code: str = field(init=False)

    def __post_init__(self) -> None:
        self.code = self.rule.code

    @property
    def minutes(self) -> int:
        return self.credited_seconds // 60

    @property
    def can_claim(self) -> bool:
        return self.claim is None and not self.problems

    @property
    def current_credit(self) -> Decimal | None:
        """The claim's credit now (after additions and corrections), or None."""
        return effective_credit(self.claim) if self.claim else None

    @property
    def can_add(self) -> bool:
        """Sessions that ended since the claim raise the computed total above the claim's."""
        return (
            self.enduring is None
            and self.claim is not None
            and self.claim.status == ClaimStatus.APPROVED
            and not self.problems
            and self.credited_seconds > latest_credited_seconds(self.claim)
            and self.computed_credit > effective_credit(self.claim)
        )

    @property
    def needs_profile(self) -> bool:
        return any(code in ID_MESSAGES or code == "profile_missing" for code, _ in self.problems)


def learner_problems(
    rule: CreditTypeRule, profile: ProfessionalProfile | None, *, id_codes: Iterable[str]
) -> Problems:
    """What keeps this learner from claiming `rule`'s credit type, whatever the activity: no
    legal name, a degree it is not for, and the `id_codes` (missing or invalid learner ids)."""
    problems: Problems = []
    if profile is None or not profile.legal_name.strip():
        problems.append(
            ("profile_missing", "Add your legal name and degree to your profile first.")
        )
    if not rule.degree_is_eligible(profile.degree if profile else "other"):
        allowed = ", ".join(rule.eligible_degrees)
        problems.append(
            (
                "not_eligible_degree",
                f"{rule.name} is only for {allowed}; claim a certificate of participation instead.",
            )
        )
    problems += [(code, ID_MESSAGES.get(code, code)) for code in id_codes]
    return problems


# Live credit ----------------------------------------------------------------------------------


def credit_offers(
    user: User,
    event: Event,
    *,
    now: datetime | None = None,
    learner: LearnerCase | None = None,
) -> list[CreditOffer]:
    """Per credit type the event offers: the learner's computed credit and claim problems.
    `learner`: the case already loaded for this request."""
    now = now or timezone.now()
    learner = learner or load_learner(user, event)
    credit = learner_credit(learner, now)
    result = credit.result
    claims = {
        c.credit_type: c
        for c in Claim.objects.filter(user=learner.user, event=event, enduring=None)
    }
    by_code = {r.rule.code: r for r in result.credit_types}
    event_credits = list(event.credits.select_related("post_test"))
    passed = posttests.passed_test_ids(
        learner.user, {c.post_test_id for c in event_credits if c.post_test_id is not None}
    )
    recorded = _enduring_reasons(learner)
    limit = credit.attainable if event_credits else None
    printed = offer_statements(event, event_credits)
    offers = []
    for event_credit in event_credits:
        type_result = by_code[event_credit.credit_type]
        rule = type_result.rule
        opens = credit.first_end
        if opens is not None and event_credit.claim_opens_at:
            opens = max(opens, event_credit.claim_opens_at)
        statement, accreditation = printed[event_credit.credit_type]
        offers.append(
            CreditOffer(
                rule=rule,
                designated_max=event_credit.designated_max,
                computed_credit=type_result.credit,
                credited_seconds=result.total_seconds,
                claim=claims.get(rule.code),
                statement=statement,
                accreditation=accreditation,
                inputs_hash=result.inputs_hash,
                engine_version=result.engine_version,
                problems=_live_problems(
                    event_credit,
                    rule,
                    type_result,
                    opens=opens,
                    learner=learner,
                    passed_tests=passed,
                    now=now,
                ),
                reasons=[REASON_MESSAGES.get(r, r) for r in type_result.reasons] + recorded,
                credited_sessions=[s.spec.title for s in result.sessions if s.credited_seconds],
                sessions_to_come=credit.sessions_to_come,
                attainable_max=limit.max_credit(rule) if limit else None,
                attainable_minutes=limit.seconds // 60 if limit else 0,
                event_credit=event_credit,
                result=type_result,
            )
        )
    return offers


def _live_problems(
    event_credit: EventCredit,
    rule: CreditTypeRule,
    result: CreditTypeResult,
    *,
    opens: datetime | None,
    learner: LearnerCase,
    passed_tests: set[int],
    now: datetime,
) -> Problems:
    problems: Problems = []
    closes = event_credit.claim_closes_at
    if opens is None:
        problems.append(("no_eligible_sessions", "This event has no credit-eligible sessions."))
    elif now < opens:
        problems.append(
            (
                "claim_not_open",
                "You can claim once the sessions you attend have ended, from "
                f"{local_time(opens, learner.event)}.",
            )
        )
    if closes is not None and now > closes:
        problems.append(
            (
                "claim_window_closed",
                f"The claim window closed at {local_time(closes, learner.event)}.",
            )
        )
    problems += learner_problems(rule, learner.profile, id_codes=result.id_problems)
    if event_credit.evaluation_required and not learner.evaluated:
        problems.append(("evaluation_required", "Complete the evaluation first."))
    test = event_credit.post_test
    if test is not None and test.pk not in passed_tests:
        problems.append(("post_test_required", posttests.requirement_message(test)))
    not_open = any(code == "claim_not_open" for code, _ in problems)
    if result.credit <= 0 and "not_eligible_degree" not in result.reasons and not not_open:
        problems.append(("no_credit", "You have no credit to claim for this activity."))
    return problems


def _enduring_reasons(learner: LearnerCase) -> list[str]:
    """Sessions the learner attended live that are left out of the live credit because their
    recording was claimed."""
    if not learner.claimed_as_enduring:
        return []
    attended = AttendanceEvent.objects.filter(
        user=learner.user, session_id__in=learner.claimed_as_enduring
    )
    titles = (
        Session.objects.filter(pk__in=attended.values("session_id"))
        .order_by("starts_at")
        .values_list("title", flat=True)
    )
    return [
        f"“{title}” is not counted: you claimed its recording as enduring material."
        for title in titles
    ]


# Enduring material ----------------------------------------------------------------------------


def enduring_offers(
    learner: LearnerCase,
    activity: EnduringActivity,
    *,
    claims: dict[str, Claim],
    test: posttests.AttemptStatus,
    recording: Recording | None,
    availability: Problems,
    live_conflict: bool,
    evidence: dict[str, object],
) -> list[CreditOffer]:
    """Per credit type the enduring activity designates: the designated amount, claimable
    once the post-test is passed, the evaluation done, between release and expiry, and
    without live credit for the session (`availability` and `live_conflict`: the
    activity's reasons for everybody and this learner's live claim; `claims`: the learner's
    claims of the activity by type)."""
    credits = list(activity.credits.all())
    offers = []
    for credit, statement in zip(credits, enduring_statements(activity, credits), strict=True):
        rule = PRESETS[credit.credit_type]
        amount = credit.designated_max
        problems = list(availability) + _enduring_problems(
            rule, learner, test=test, post_test=activity.post_test, live_conflict=live_conflict
        )
        offers.append(
            CreditOffer(
                rule=rule,
                designated_max=amount,
                computed_credit=amount,
                credited_seconds=int(amount * 3600),
                claim=claims.get(rule.code),
                statement=statement,
                inputs_hash=_enduring_inputs_hash(
                    activity, credit, learner.degree, test=test, recording=recording
                ),
                engine_version=ENDURING_ENGINE_VERSION,
                problems=problems,
                evidence={"enduring_activity": activity.pk, **evidence},
                enduring=activity,
                enduring_credit=credit,
            )
        )
    return offers


def _enduring_problems(
    rule: CreditTypeRule,
    learner: LearnerCase,
    *,
    test: posttests.AttemptStatus,
    post_test: PostTest,
    live_conflict: bool,
) -> Problems:
    problems = learner_problems(rule, learner.profile, id_codes=id_problems(rule, learner.ids))
    if not learner.evaluated:
        problems.append(("evaluation_required", "Complete the activity evaluation first."))
    if not test.passed:
        problems.append(("post_test_required", posttests.requirement_message(post_test)))
    if live_conflict:
        problems.append(
            (
                "claimed_live",
                "You claimed live credit that includes this session; nobody earns credit for "
                "both the live session and its recording.",
            )
        )
    return problems


def _enduring_inputs_hash(
    activity: EnduringActivity,
    credit: EnduringCredit,
    degree: str,
    *,
    test: posttests.AttemptStatus,
    recording: Recording | None,
) -> str:
    """The inputs of an enduring claim (empty until the post-test is passed)."""
    passed = next((a for a in test.attempts if a.passed), None)
    if passed is None:
        return ""
    inputs = {
        "activity": activity.pk,
        "release_date": activity.release_date.isoformat(),
        "expiry_date": activity.expiry_date.isoformat(),
        "credit_type": credit.credit_type,
        "designated": format(credit.designated_max, ".2f"),
        "degree": degree,
        "post_test": {
            "id": activity.post_test_id,
            "attempt": passed.number,
            "score_percent": format(passed.score_percent, ".2f"),
        },
        "recording": recording.pk if recording else None,
    }
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(canonical).hexdigest()
