"""Moderation outside the feed: removals from halls (the list, lifting one, audited) and the
event's keyword filter.

Removals from halls as organizers see them: the list, and lifting one (audited).

A removal keeps its row; lifting ends it now (`until` = the moment of lifting) and records who
lifted it and why, so the live layer's check (`until` in the future) lets the person back in.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from conference.models import Event, HallRemoval
from conference.services.cme.records import audit
from conference.services.refusals import Refused


class ModerationError(Refused):
    """The action is not possible; the message says why. (code `invalid`)"""

    def __init__(self, message: str) -> None:
        super().__init__("invalid", message)


def removal_state(removal: HallRemoval, *, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if removal.lifted_at is not None:
        return "lifted"
    return "active" if removal.until > now else "ended"


def event_of(removal: HallRemoval) -> Event | None:
    """The event held in the removal's hall on the day of the removal (its venue and dates)."""
    day = timezone.localdate(removal.created_at)
    return (
        Event.objects.filter(
            venue_id=removal.hall.venue_id,
            start_date__lte=day + timedelta(days=1),
            end_date__gte=day - timedelta(days=1),
        )
        .order_by("-start_date")
        .first()
    )


def lift_removal(removal: HallRemoval, *, actor: User | None, reason: str = "") -> HallRemoval:
    """End an active removal now, with who and why, and an audit entry."""
    now = timezone.now()
    with transaction.atomic():
        locked = HallRemoval.objects.select_for_update().get(pk=removal.pk)
        state = removal_state(locked, now=now)
        if state != "active":
            raise ModerationError(f"This removal has already {state}.")
        before = locked.until
        locked.until = now
        locked.lifted_at = now
        locked.lifted_by = actor
        locked.lift_reason = reason.strip()[:300]
        locked.save(update_fields=["until", "lifted_at", "lifted_by", "lift_reason"])
        audit(
            actor,
            event_of(locked),
            "hall_removal.lifted",
            locked,
            hall=locked.hall_id,
            user=locked.user_id,
            was_until=before.isoformat(),
            reason=locked.lift_reason,
        )
    return locked


# --- the event's keyword filter -----------------------------------------------------------

KEYWORD_LIMIT = 200
KEYWORD_MAX_LENGTH = 100
_patterns: dict[str, tuple[re.Pattern[str], dict[str, str]] | None] = {}


def parse_keywords(text: str) -> list[str]:
    """The keywords of an event's `moderation_keywords`: one per line or comma, trimmed, each
    once (ignoring case), in the order written."""
    found: dict[str, str] = {}
    for part in re.split(r"[\n,]", text or ""):
        keyword = " ".join(part.split())
        if keyword and keyword.casefold() not in found:
            found[keyword.casefold()] = keyword
    return list(found.values())


def keyword_problems(text: str) -> list[str]:
    """What is wrong with a list of keywords, for the event's admin form."""
    keywords = parse_keywords(text)
    problems = []
    if len(keywords) > KEYWORD_LIMIT:
        problems.append(f"At most {KEYWORD_LIMIT} keywords (this list has {len(keywords)}).")
    too_long = [k for k in keywords if len(k) > KEYWORD_MAX_LENGTH]
    if too_long:
        problems.append(
            f"A keyword has at most {KEYWORD_MAX_LENGTH} characters: {too_long[0][:40]}…"
        )
    return problems


def matched_keyword(keywords_text: str, text: str) -> str:
    """The first of the event's keywords that `text` contains as whole words (any case), or ""."""
    if not keywords_text or not keywords_text.strip():
        return ""
    if keywords_text not in _patterns:
        keywords = parse_keywords(keywords_text)[:KEYWORD_LIMIT]
        if len(_patterns) > 256:
            _patterns.clear()
        if not keywords:
            _patterns[keywords_text] = None
        else:
            alternatives = "|".join(
                r"\s+".join(re.escape(word) for word in k.split())
                for k in sorted(keywords, key=len, reverse=True)
            )
            pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
            _patterns[keywords_text] = (
                pattern,
                {" ".join(k.casefold().split()): k for k in keywords},
            )
    compiled = _patterns[keywords_text]
    if compiled is None:
        return ""
    pattern, by_folded = compiled
    match = pattern.search(text)
    if match is None:
        return ""
    return by_folded.get(" ".join(match.group(0).casefold().split()), match.group(0))


# --- removals as the hall's moderators see them ----------------------------------------------


def person_name(user: User | None) -> str:
    return user.public_name if user is not None else "a deleted account"


def removal_data(removal: HallRemoval, *, now: datetime | None = None) -> dict[str, Any]:
    """A removal as the live protocol sends it (docs/protocol.md, "Moderation")."""
    return {
        "id": removal.pk,
        "user": removal.user_id,
        "name": person_name(removal.user),
        "reason": removal.reason,
        "removed_by": person_name(removal.removed_by) if removal.removed_by_id else "",
        "created_at": removal.created_at.isoformat(),
        "until": removal.until.isoformat(),
        "state": removal_state(removal, now=now),
        "lifted_by": person_name(removal.lifted_by) if removal.lifted_by_id else "",
        "lift_reason": removal.lift_reason,
    }


RECENT_REMOVALS = timedelta(hours=24)
REMOVALS_SHOWN = 100


def hall_removals(hall_id: int) -> list[dict[str, Any]]:
    """The hall's removals that are active or were made in the last 24 hours, newest first."""
    now = timezone.now()
    removals = (
        HallRemoval.objects.filter(hall_id=hall_id)
        .filter(Q(until__gt=now, lifted_at=None) | Q(created_at__gte=now - RECENT_REMOVALS))
        .select_related("user__profile", "removed_by__profile", "lifted_by__profile")
        .order_by("-created_at")[:REMOVALS_SHOWN]
    )
    return [removal_data(removal, now=now) for removal in removals]
