"""Registering for an event and cancelling."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from conference.models import Event, Registration, RegistrationRole, RegistrationStatus
from conference.services.media.stage import cut_user_media_on_commit
from conference.services.refusals import Refused


def registration_closed_reason(event: Event, *, now: datetime | None = None) -> str | None:
    """Why nobody can register for `event` right now, or None when registration is open."""
    now = now or timezone.now()
    if not event.is_published:
        return "This event is not open for registration."
    if event.registration_opens_at and now < event.registration_opens_at:
        return "Registration has not opened yet."
    if event.registration_closes_at and now >= event.registration_closes_at:
        return "Registration has closed."
    if now >= event.ends_at:
        return "This event is over."
    return None


def register_attendee(
    event: Event, user: User, *, role: str = RegistrationRole.ATTENDEE
) -> Registration:
    """Register `user` for `event`, or re-activate a cancelled registration.

    Raises `Refused` (code `closed`, `duplicate` or `full`) when registration is closed, the event is full or the user is
    already registered. The event row is locked so that two last-seat requests cannot both win.
    """
    reason = registration_closed_reason(event)
    if reason:
        raise Refused("closed", reason)
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        existing = Registration.objects.filter(event=locked, user=user).first()
        if existing and existing.is_active:
            raise Refused("duplicate", "You are already registered for this event.")
        taken = Registration.objects.active().filter(event=locked).count()
        if locked.capacity is not None and taken >= locked.capacity:
            raise Refused("full", "This event is full.")
        if existing:
            existing.status = RegistrationStatus.ACTIVE
            existing.role = role
            existing.cancelled_at = None
            existing.save(update_fields=["status", "role", "cancelled_at"])
            return existing
        return Registration.objects.create(event=locked, user=user, role=role)


def cancel_registration(registration: Registration) -> Registration:
    if not registration.is_active:
        raise Refused("cancelled", "This registration is already cancelled.")
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = timezone.now()
    registration.save(update_fields=["status", "cancelled_at"])

    cut_user_media_on_commit(registration.user_id)
    return registration
