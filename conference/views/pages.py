"""Attendee pages: the event list, an event's program, a session, and the user's events."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from conference.models import Event, Registration, Session
from conference.services import agenda
from conference.services.media.stage import MediaRefused, studio_access
from conference.services.organizers import organizers_viewable_by
from conference.services.recordings.access import watchable_recording
from conference.services.registrations import registration_closed_reason
from conference.services.schedule import venue_join_url
from conference.views.schedule import GROUPINGS, grouping_from, schedule_days

PAST_EVENTS_SHOWN = 12


def event_list(request):
    now = timezone.now()
    # An event's last day ends at most 26 hours after UTC midnight (UTC-12 to UTC+14).
    candidates = Event.objects.published().select_related("organizer")
    recent = candidates.filter(end_date__gte=now.date() - timedelta(days=2))
    upcoming = sorted(
        (event for event in recent if event.ends_at > now),
        key=lambda event: (event.starts_at, event.title),
    )
    past = candidates.exclude(pk__in=[event.pk for event in upcoming]).order_by(
        "-start_date", "title"
    )[:PAST_EVENTS_SHOWN]
    context = {
        "upcoming": upcoming,
        "past": list(past),
        "registered_event_ids": _registered_event_ids(request.user),
        "now": now,
    }
    return render(request, "conference/event_list.html", context)


def event_detail(request, event_slug):
    event = get_object_or_404(
        Event.objects.published().select_related("organizer", "venue"), slug=event_slug
    )
    sessions = (
        event.sessions.select_related("hall", "track")
        .prefetch_related("speakers")
        .order_by("starts_at", "hall__order", "title")
    )
    group_by = grouping_from(request.GET.get("group"))
    context = {
        "event": event,
        "days": schedule_days(sessions, tz=event.tzinfo, group_by=group_by),
        "group_by": group_by,
        "groupings": GROUPINGS,
        "venue_url": _venue_url(event),
        **registration_state(event, request.user),
    }
    context["join_allowed"] = bool(context["registration"]) or may_enter_as_staff(
        request.user, event
    )
    context.update(agenda_marks(request.user, list(sessions)))
    return render(request, "conference/event_detail.html", context)


def agenda_marks(user, sessions) -> dict:
    """The person's starred sessions among `sessions` and, per starred session, the titles of
    the other starred sessions it overlaps."""
    if not user.is_authenticated:
        return {"favourite_ids": set(), "conflict_titles": {}}
    ids = agenda.favourite_ids(user)
    starred = [session for session in sessions if session.pk in ids]
    clashes = agenda.conflicts(starred)
    return {
        "favourite_ids": ids,
        "conflict_titles": {pk: [s.title for s in others] for pk, others in clashes.items()},
    }


def session_detail(request, event_slug, session_id):
    session = get_object_or_404(
        Session.objects.select_related("event", "event__organizer", "hall", "track"),
        pk=session_id,
        event__slug=event_slug,
        event__is_published=True,
    )
    speakers = session.speakers.prefetch_related("disclosures").order_by("name")
    recording = watchable_recording(session, request.user)
    event = session.event
    hall_join_url = venue_join_url(session)
    marks = agenda_marks(request.user, list(event.sessions.all()))
    context = {
        **marks,
        "join_url": hall_join_url if _may_enter_venue(request.user, event) else None,
        "hall_url": hall_join_url.removesuffix("?join=1") if hall_join_url else None,
        "session": session,
        "event": session.event,
        "speakers": list(speakers),
        "recording_url": (
            reverse("recordings:detail", kwargs={"recording_id": recording.pk})
            if recording
            else None
        ),
        "studio_url": _studio_url(request.user, session),
    }
    return render(request, "conference/session_detail.html", context)


def _studio_url(user, session: Session) -> str | None:
    """The studio's address for the session's speakers, moderators and staff; None for others."""
    if not user.is_authenticated or session.hall_id is None:
        return None
    try:
        studio_access(user, session)
    except MediaRefused:
        return None
    return reverse(
        "media:studio", kwargs={"event_slug": session.event.slug, "session_id": session.pk}
    )


@login_required
def my_events(request):
    registrations = (
        Registration.objects.active()
        .filter(user=request.user, event__is_published=True)
        .select_related("event", "event__organizer")
        .order_by("event__start_date", "event__title")
    )
    now = timezone.now()
    upcoming = [reg for reg in registrations if reg.event.ends_at > now]
    past = [reg for reg in registrations if reg.event.ends_at <= now]
    past.reverse()
    starred = [s for s in agenda.favourite_sessions(request.user) if s.ends_at > now]
    clashes = agenda.conflicts(starred)
    feed = agenda.agenda_feed(request.user, create=False)
    context = {
        "upcoming": upcoming,
        "past": past,
        "now": now,
        "agenda": [
            {"session": session, "event": session.event, "conflicts": clashes.get(session.pk, [])}
            for session in starred
        ],
        "agenda_feed_url": (
            request.build_absolute_uri(reverse("conference:agenda-ics", args=[feed.token]))
            if feed
            else None
        ),
        "reminder_minutes": agenda.REMINDER_MINUTES,
    }
    return render(request, "conference/my_events.html", context)


def registration_state(event: Event, user) -> dict:
    """What the event page says about registering: the user's place, or why there is none."""
    registration = None
    if user.is_authenticated:
        registration = Registration.objects.active().filter(event=event, user=user).first()
    seats_left = None
    if event.capacity is not None:
        taken = Registration.objects.active().filter(event=event).count()
        seats_left = max(event.capacity - taken, 0)
    return {
        "registration": registration,
        "closed_reason": registration_closed_reason(event),
        "seats_left": seats_left,
    }


def may_enter_as_staff(user, event: Event) -> bool:
    return organizers_viewable_by(user).filter(pk=event.organizer_id).exists()


def _may_enter_venue(user, event: Event) -> bool:
    """The venue's own rule (login, then an active registration or organizer staff)."""
    if not user.is_authenticated:
        return False
    registered = Registration.objects.active().filter(event=event, user=user).exists()
    return registered or may_enter_as_staff(user, event)


def _registered_event_ids(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(Registration.objects.active().filter(user=user).values_list("event_id", flat=True))


def _venue_url(event: Event) -> str | None:
    """The 3D/2D venue of the event (served by the venue pages), when it has one."""
    if not event.venue_id:
        return None
    return reverse("venue:lobby", kwargs={"event_slug": event.slug})
