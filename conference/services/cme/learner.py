"""One learner at one event, loaded once per request.

`load_learner` reads what every CME rule asks of the learner — the professional profile (with
board IDs), the sessions whose recording they claimed as enduring material, and whether they
evaluated the event — and the rest of the claim path reads the `LearnerCase` instead of the
database.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import ProfessionalProfile, User
from conference.credit import LearnerIds
from conference.models import Claim, ClaimStatus, EvaluationResponse, Event


@dataclass(frozen=True)
class LearnerCase:
    user: User
    event: Event
    profile: ProfessionalProfile | None
    # Sessions of the event whose recording the learner claimed as enduring material (claims
    # not rejected): the live computation leaves them out (CME.md, docs/cme-claims.md).
    claimed_as_enduring: frozenset[int]
    evaluated: bool
    # From the profile: the degree ("other" without a profile), the name printed on
    # certificates (the legal name, else the public name) and the learner IDs.
    degree: str
    name: str
    ids: LearnerIds


def load_learner(user: User, event: Event) -> LearnerCase:
    profile = profile_of(user)
    legal_name = profile.legal_name.strip() if profile else ""
    return LearnerCase(
        user=user,
        event=event,
        profile=profile,
        claimed_as_enduring=frozenset(sessions_claimed_as_enduring(user, event)),
        evaluated=evaluation_done(user, event),
        degree=profile.degree if profile else "other",
        name=legal_name or user.public_name,
        ids=learner_ids(profile),
    )


def profile_of(user: User) -> ProfessionalProfile | None:
    return ProfessionalProfile.objects.filter(user=user).prefetch_related("boards").first()


def learner_name(user: User) -> str:
    """The name a new certificate version of the learner prints."""
    profile = profile_of(user)
    return (profile.legal_name.strip() if profile else "") or user.public_name


def learner_ids(profile: ProfessionalProfile | None) -> LearnerIds:
    if profile is None:
        return LearnerIds()
    return LearnerIds(
        npi=profile.npi,
        nabp_eprofile_id=profile.nabp_eprofile_id,
        birth_month=profile.birth_month,
        birth_day=profile.birth_day,
        board_ids=tuple(sorted((b.board, b.board_id) for b in profile.boards.all())),
    )


def sessions_claimed_as_enduring(user: User, event: Event) -> set[int]:
    """Sessions of `event` whose recording the learner claimed as enduring material (claims
    not rejected): the live computation leaves them out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Claim.objects.filter(user=user, event=event, enduring__isnull=False)
        .exclude(status=ClaimStatus.REJECTED)
        .values_list("enduring__session_id", flat=True)
    )


def evaluation_done(user: User, event: Event) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return EvaluationResponse.objects.filter(form__event=event, user=user).exists()
