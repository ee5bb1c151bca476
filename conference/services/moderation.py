"""Removals from halls as organizers see them: the list, and lifting one (audited).

A removal keeps its row; lifting ends it now (`until` = the moment of lifting) and records who
lifted it and why, so the live layer's check (`until` in the future) lets the person back in.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from conference.models import Event, HallRemoval
from conference.services.cme import audit


class ModerationError(Exception):
    """The action is not possible; the message says why."""


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
            start_date__lte=day + timezone.timedelta(days=1),
            end_date__gte=day - timezone.timedelta(days=1),
        )
        .order_by("-start_date")
        .first()
    )


def lift_removal(removal: HallRemoval, *, actor, reason: str = "") -> HallRemoval:
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
