"""The personal agenda: favourites, conflicts, the secret calendar feed with alarms, reminder
e-mails (one per person and slot, unsubscribe), and the venue's "starting soon" poll."""

import datetime as dt

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from conference.models import AgendaReminder, FavouriteSession, ReminderStatus, SessionKind
from conference.services import agenda
from conference.tasks import send_agenda_reminder
from tests.factories import EventFactory, RegistrationFactory, SessionFactory, UserFactory
from venues.demo import build_demo_venue

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    venue = build_demo_venue()
    event = EventFactory(
        title="Cardiology Congress",
        timezone="America/Chicago",
        start_date=timezone.now().date() - dt.timedelta(days=1),
        end_date=timezone.now().date() + dt.timedelta(days=1),
        venue=venue,
    )
    event.organizer.venues.add(venue)
    return event


@pytest.fixture
def slot():
    return timezone.now().replace(microsecond=0) + dt.timedelta(minutes=6)


@pytest.fixture
def sessions(event, slot):
    halls = {hall.slug: hall for hall in event.venue.halls.all()}
    first = SessionFactory(
        event=event,
        hall=halls["auditorium"],
        title="Plenary",
        starts_at=slot,
        ends_at=slot + dt.timedelta(hours=1),
    )
    parallel = SessionFactory(
        event=event,
        hall=halls["seminar"],
        title="Seminar",
        starts_at=slot,
        ends_at=slot + dt.timedelta(minutes=45),
    )
    later = SessionFactory(
        event=event,
        hall=halls["auditorium"],
        title="Later talk",
        starts_at=slot + dt.timedelta(hours=2),
        ends_at=slot + dt.timedelta(hours=3),
    )
    return first, parallel, later


@pytest.fixture
def attendee(event):
    return RegistrationFactory(event=event, user__display_name="Dr. Ada").user


def star(client, session, action="add"):
    url = f"/events/{session.event.slug}/sessions/{session.pk}/favourite/"
    return client.post(url, {"action": action, "next": session.event.get_absolute_url()})


def test_star_and_unstar_from_the_programme(client, attendee, sessions):
    first, parallel, later = sessions
    client.force_login(attendee)
    assert star(client, first).status_code == 302
    star(client, parallel)
    star(client, later)
    star(client, later, "remove")

    assert sorted(agenda.favourite_ids(attendee)) == sorted([first.pk, parallel.pk])
    html = client.get(first.event.get_absolute_url()).content.decode()
    assert html.count("★</span> In my agenda") == 2
    assert "Conflicts with Seminar" in html
    assert "Conflicts with Plenary" in html


def test_star_needs_login_and_post(client, sessions):
    first = sessions[0]
    assert star(client, first).status_code == 302
    assert FavouriteSession.objects.count() == 0
    client.force_login(UserFactory())
    url = f"/events/{first.event.slug}/sessions/{first.pk}/favourite/"
    assert client.get(url).status_code == 405


def test_star_twice_keeps_one_and_breaks_are_refused(attendee, event, sessions):
    agenda.add_favourite(attendee, sessions[0])
    agenda.add_favourite(attendee, sessions[0])
    assert FavouriteSession.objects.count() == 1
    coffee = SessionFactory(event=event, kind=SessionKind.BREAK, title="Coffee")
    with pytest.raises(agenda.AgendaError):
        agenda.add_favourite(attendee, coffee)


def test_star_ignores_an_outside_next(client, attendee, sessions):
    client.force_login(attendee)
    url = f"/events/{sessions[0].event.slug}/sessions/{sessions[0].pk}/favourite/"
    response = client.post(url, {"action": "add", "next": "https://evil.example/"})
    assert response["Location"] == sessions[0].get_absolute_url()


def test_my_events_lists_the_agenda_with_conflicts(client, attendee, sessions):
    first = sessions[0]
    for session in sessions:
        agenda.add_favourite(attendee, session)
    client.force_login(attendee)
    html = client.get("/my/events/").content.decode()
    agenda_part = html[html.index("my-agenda-heading") : html.index("agenda-feed")]

    assert [title in agenda_part for title in ("Plenary", "Seminar", "Later talk")] == [True] * 3
    assert agenda_part.count("badge-conflict") == 2
    local = timezone.localtime(first.starts_at, first.event.tzinfo)
    assert local.strftime("%H:%M") in agenda_part


def test_feed_lists_favourites_with_alarms_and_can_be_renewed_and_revoked(
    client, attendee, sessions
):
    first = sessions[0]
    agenda.add_favourite(attendee, first)
    client.force_login(attendee)
    client.post("/my/agenda/feed/", {"action": "create"})
    token = attendee.agenda_feed.token
    client.logout()  # a calendar app has no session: the secret address is the credential

    response = client.get(f"/agenda/{token}.ics")
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["Plenary"]
    alarms = events[0].walk("VALARM")
    assert [(str(a["action"]), a["trigger"].dt) for a in alarms] == [
        ("DISPLAY", -dt.timedelta(minutes=10))
    ]

    client.force_login(attendee)
    client.post("/my/agenda/feed/", {"action": "renew"})
    attendee.agenda_feed.refresh_from_db()
    assert client.get(f"/agenda/{token}.ics").status_code == 404
    assert client.get(f"/agenda/{attendee.agenda_feed.token}.ics").status_code == 200
    client.post("/my/agenda/feed/", {"action": "revoke"})
    assert client.get(f"/agenda/{attendee.agenda_feed.token}.ics").status_code == 404


def test_one_reminder_per_person_and_slot_sent_once(attendee, sessions, slot):
    first = sessions[0]
    for session in sessions:
        agenda.add_favourite(attendee, session)
    other = RegistrationFactory(event=first.event).user
    agenda.add_favourite(other, first)

    pending = agenda.plan_reminders()
    assert AgendaReminder.objects.count() == 2  # one per person: both parallel sessions in one
    for reminder_id in pending + agenda.plan_reminders():  # a second tick re-offers them
        send_agenda_reminder.run(reminder_id)

    assert sorted(m.to[0] for m in mail.outbox) == sorted([attendee.email, other.email])
    message = next(m for m in mail.outbox if m.to == [attendee.email])
    assert message.subject.endswith("2 sessions in your agenda")
    assert "Plenary, Main Auditorium" in message.body
    assert "Seminar, Seminar Hall B" in message.body
    assert f"/events/{first.event.slug}/venue/auditorium/?join=1" in message.body
    local = timezone.localtime(slot, first.event.tzinfo).strftime("%H:%M")
    assert f"at {local} " in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Later talk" not in message.body
    statuses = set(AgendaReminder.objects.values_list("status", flat=True))
    assert statuses == {ReminderStatus.SENT}


def test_no_reminder_when_turned_off_or_not_due(attendee, sessions):
    agenda.add_favourite(attendee, sessions[2])  # two hours away
    assert agenda.plan_reminders() == []
    agenda.add_favourite(attendee, sessions[0])
    attendee.agenda_reminder_emails = False
    attendee.save()
    assert agenda.plan_reminders() == []
    assert mail.outbox == []


def test_reminder_skipped_when_unstarred_before_sending(attendee, sessions):
    agenda.add_favourite(attendee, sessions[0])
    [reminder_id] = agenda.plan_reminders()
    agenda.remove_favourite(attendee, sessions[0])

    assert agenda.send_reminder(reminder_id) == ReminderStatus.SKIPPED
    assert mail.outbox == []


def test_unsubscribe_link_turns_reminders_off(client, attendee, sessions):
    agenda.add_favourite(attendee, sessions[0])
    [reminder_id] = agenda.plan_reminders()
    agenda.send_reminder(reminder_id)
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("http://127.0.0.1:8000")

    page = client.get(path)
    assert "Stop reminder e-mails" in page.content.decode()
    attendee.refresh_from_db()
    assert attendee.agenda_reminder_emails is True
    assert client.post(path).status_code == 200
    attendee.refresh_from_db()
    assert attendee.agenda_reminder_emails is False
    assert client.get(path[:-3] + "xyz/").status_code == 404


def test_profile_switch_for_reminder_emails(client, attendee):
    client.force_login(attendee)
    assert (
        "E-mail me before sessions in my agenda"
        in client.get("/accounts/profile/").content.decode()
    )
    client.post("/accounts/profile/reminders/", {})
    attendee.refresh_from_db()
    assert attendee.agenda_reminder_emails is False
    client.post("/accounts/profile/reminders/", {"agenda_reminder_emails": "on"})
    attendee.refresh_from_db()
    assert attendee.agenda_reminder_emails is True


def test_venue_poll_lists_favourites_starting_soon_with_join(client, attendee, sessions):
    first, _, later = sessions
    agenda.add_favourite(attendee, first)
    agenda.add_favourite(attendee, later)
    client.force_login(attendee)

    data = client.get("/my/agenda/upcoming.json").json()

    assert [(i["title"], i["minutes"], i["join_url"]) for i in data["upcoming"]] == [
        ("Plenary", 6, f"/events/{first.event.slug}/venue/auditorium/?join=1")
    ]


def test_venue_poll_has_no_join_for_events_one_may_not_enter(client, sessions):
    stranger = UserFactory()
    agenda.add_favourite(stranger, sessions[0])
    client.force_login(stranger)
    [item] = client.get("/my/agenda/upcoming.json").json()["upcoming"]
    assert item["join_url"] is None
