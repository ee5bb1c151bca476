"""Session forms in the admin: schedule rules, the event's time zone, the schedule grid."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from conference.models import Session
from tests.factories import (
    DisclosureFactory,
    EventFactory,
    HallFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    TrackFactory,
    VenueFactory,
    event_local,
)
from tests.support.admin import inline_management


@pytest.fixture
def staff_client(client, world):
    client.force_login(world.staff_a)
    return client


def session_data(event, *, day: int = 0, start: str = "09:30", end: str = "10:30", **extra):
    date = (event.start_date + dt.timedelta(days=day)).isoformat()
    return {
        "event": event.pk,
        "title": "New talk",
        "kind": "seminar",
        "starts_at_0": date,
        "starts_at_1": start,
        "ends_at_0": date,
        "ends_at_1": end,
        **inline_management("credit_exclusions"),
        **extra,
    }


def add_session(client, data):
    return client.post("/admin/conference/session/add/", data)


def form_errors(response) -> dict[str, list[str]]:
    return {
        field: list(errors) for field, errors in response.context["adminform"].form.errors.items()
    }


def test_add_session_reads_times_in_the_events_zone(staff_client, world):
    response = add_session(staff_client, session_data(world.event_a, start="14:00", end="15:00"))

    assert response.status_code == 302
    session = Session.objects.get(title="New talk")
    assert (session.starts_at, session.ends_at) == (
        event_local(world.event_a, 0, 14),
        event_local(world.event_a, 0, 15),
    )


def test_add_session_in_a_booked_hall_is_rejected(staff_client, world):
    data = session_data(world.event_a, hall=world.hall_a.pk)

    response = add_session(staff_client, data)

    assert response.status_code == 200
    start, end = (
        date_format(timezone.localtime(moment, world.event_a.tzinfo), "D j M, H:i")
        for moment in (world.session_a.starts_at, world.session_a.ends_at)
    )
    assert form_errors(response) == {
        "hall": [f"{world.hall_a} is already booked for “Alpha Keynote” ({start}–{end})."]
    }
    assert "is already booked for “Alpha Keynote”" in response.content.decode()
    assert Session.objects.count() == 2


def test_add_session_with_a_double_booked_speaker_is_rejected(staff_client, world):
    other_hall = HallFactory(venue=world.venue_a)
    data = session_data(world.event_a, hall=other_hall.pk, speakers=[world.speaker_a.pk])

    response = add_session(staff_client, data)

    assert form_errors(response) == {
        "speakers": ["Dr Alpha Speaker is speaking in “Alpha Keynote” at the same time."]
    }
    assert Session.objects.count() == 2


def test_add_session_outside_the_event_days_is_rejected(staff_client, world):
    response = add_session(staff_client, session_data(world.event_a, day=5))

    assert list(form_errors(response)) == ["starts_at"]
    assert form_errors(response)["starts_at"][0].startswith(
        "The session must take place within the event's dates"
    )
    assert Session.objects.count() == 2


def test_add_session_ending_before_it_starts_is_rejected(staff_client, world):
    response = add_session(staff_client, session_data(world.event_a, start="11:00", end="10:00"))

    assert form_errors(response) == {"ends_at": ["The session must end after it starts."]}
    assert Session.objects.count() == 2


def test_add_session_in_a_hall_of_another_venue_is_rejected(staff_client, world):
    other_venue_hall = HallFactory(name="Annex Hall")
    world.organizer_a.venues.add(other_venue_hall.venue)

    response = add_session(
        staff_client,
        session_data(world.event_a, start="12:00", end="13:00", hall=other_venue_hall.pk),
    )

    assert form_errors(response) == {
        "hall": ["Annex Hall is not in Alpha Venue, the event's venue."]
    }
    assert Session.objects.count() == 2


def test_add_session_with_track_and_speaker_of_another_event_is_rejected(staff_client, world):
    other_event = EventFactory(organizer=world.organizer_a)
    track = TrackFactory(event=other_event, name="Elsewhere")
    speaker = SpeakerFactory(event=other_event, name="Dr Elsewhere")

    response = add_session(
        staff_client,
        session_data(
            world.event_a, start="12:00", end="13:00", track=track.pk, speakers=[speaker.pk]
        ),
    )

    assert form_errors(response) == {
        "track": ["The track “Elsewhere” belongs to another event."],
        "speakers": [f"Dr Elsewhere is a speaker of another event, not of {world.event_a}."],
    }
    assert Session.objects.count() == 2


def test_session_change_page_shows_times_in_the_events_zone(staff_client, world):
    response = staff_client.get(f"/admin/conference/session/{world.session_a.pk}/change/")

    form = response.context["adminform"].form
    assert form["starts_at"].value().astimezone(world.event_a.tzinfo).hour == 9
    assert 'name="starts_at_1" value="09:00:00"' in response.content.decode()
    assert "Local time of the event (America/Chicago)." in response.content.decode()


def event_change_data(event, sessions: list[dict]) -> dict:
    data = {
        "organizer": event.organizer_id,
        "title": event.title,
        "slug": event.slug,
        "timezone": event.timezone,
        "start_date": event.start_date.isoformat(),
        "end_date": event.end_date.isoformat(),
        "venue": event.venue_id or "",
        **inline_management("tracks", "speakers"),
        **inline_management("sessions", total=len(sessions)),
    }
    for index, row in enumerate(sessions):
        for key, value in row.items():
            data[f"sessions-{index}-{key}"] = value
        data[f"sessions-{index}-event"] = event.pk
    return data


def inline_row(event, title: str, start: str, end: str, **extra) -> dict:
    row = session_data(event, start=start, end=end, title=title, **extra)
    row.pop("event")
    return row


def test_event_inline_rejects_two_new_sessions_in_one_hall_at_once(staff_client, world):
    event = EventFactory(organizer=world.organizer_a, venue=world.venue_a, timezone="Asia/Tokyo")
    hall = world.hall_a
    data = event_change_data(
        event,
        [
            inline_row(event, "First", "09:00", "10:00", hall=hall.pk),
            inline_row(event, "Second", "09:30", "10:30", hall=hall.pk),
        ],
    )

    response = staff_client.post(f"/admin/conference/event/{event.pk}/change/", data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][-1].formset
    assert [dict(form.errors) for form in formset.forms] == [
        {},
        {"hall": [f"{hall} is already booked for “First” (09:00–10:00) in this list."]},
    ]
    assert event.sessions.count() == 0


def test_event_inline_rejects_one_speaker_in_two_rows_at_once(staff_client, world):
    event = EventFactory(organizer=world.organizer_a, venue=world.venue_a)
    speaker = SpeakerFactory(event=event, name="Dr Busy")
    second_hall = HallFactory(venue=world.venue_a)
    data = event_change_data(
        event,
        [
            inline_row(
                event, "First", "09:00", "10:00", hall=world.hall_a.pk, speakers=[speaker.pk]
            ),
            inline_row(
                event, "Second", "09:30", "10:30", hall=second_hall.pk, speakers=[speaker.pk]
            ),
        ],
    )
    data.update(inline_management("speakers", total=1, initial=1))
    data.update(
        {"speakers-0-id": speaker.pk, "speakers-0-name": speaker.name, "speakers-0-event": event.pk}
    )

    response = staff_client.post(f"/admin/conference/event/{event.pk}/change/", data)

    formset = response.context["inline_admin_formsets"][-1].formset
    assert [dict(form.errors) for form in formset.forms] == [
        {},
        {"speakers": ["Dr Busy is speaking in “First” at the same time."]},
    ]
    assert event.sessions.count() == 0


def test_event_inline_rejects_session_clashing_with_a_saved_one(staff_client, world):
    data = event_change_data(
        world.event_a, [inline_row(world.event_a, "Clash", "09:15", "09:45", hall=world.hall_a.pk)]
    )
    data.update(inline_management("tracks", "speakers", total=1, initial=1))
    data.update(
        {
            "tracks-0-id": world.track_a.pk,
            "tracks-0-name": world.track_a.name,
            "tracks-0-color": world.track_a.color,
            "tracks-0-order": 0,
            "tracks-0-event": world.event_a.pk,
            "speakers-0-id": world.speaker_a.pk,
            "speakers-0-name": world.speaker_a.name,
            "speakers-0-event": world.event_a.pk,
        }
    )
    data.update(inline_management("sessions", total=2, initial=1))
    data.update(
        {
            f"sessions-1-{key}": value
            for key, value in inline_row(
                world.event_a, "Clash", "09:15", "09:45", hall=world.hall_a.pk
            ).items()
        }
    )
    data["sessions-1-event"] = world.event_a.pk
    existing = inline_row(
        world.event_a,
        "Alpha Keynote",
        "09:00",
        "10:00",
        hall=world.hall_a.pk,
        track=world.track_a.pk,
        speakers=[world.speaker_a.pk],
    )
    data.update({f"sessions-0-{key}": value for key, value in existing.items()})
    data["sessions-0-id"] = world.session_a.pk

    response = staff_client.post(f"/admin/conference/event/{world.event_a.pk}/change/", data)

    formset = response.context["inline_admin_formsets"][-1].formset
    assert formset.forms[1].errors["hall"][0].startswith(f"{world.hall_a} is already booked for")
    assert world.event_a.sessions.count() == 1


def test_event_inline_saves_valid_sessions_in_the_events_zone(staff_client, world):
    event = EventFactory(organizer=world.organizer_a, venue=world.venue_a, timezone="Asia/Tokyo")
    data = event_change_data(
        event, [inline_row(event, "Opening", "08:00", "08:30", hall=world.hall_a.pk)]
    )

    response = staff_client.post(f"/admin/conference/event/{event.pk}/change/", data)

    assert response.status_code == 302
    assert list(event.sessions.values_list("title", "starts_at")) == [
        ("Opening", event_local(event, 0, 8))
    ]


def test_event_dates_cannot_shrink_past_its_sessions(staff_client, world):
    SessionFactory(
        event=world.event_a,
        title="Day two",
        starts_at=event_local(world.event_a, 1, 9),
        ends_at=event_local(world.event_a, 1, 10),
    )
    data = event_change_data(world.event_a, [])
    data["end_date"] = world.event_a.start_date.isoformat()
    data.update(inline_management("sessions", total=0, initial=0))

    response = staff_client.post(f"/admin/conference/event/{world.event_a.pk}/change/", data)

    assert response.context["adminform"].form.non_field_errors() == [
        "1 session(s) would fall outside the event's new dates; move them first or keep the dates."
    ]
    world.event_a.refresh_from_db()
    assert world.event_a.end_date == world.event_a.start_date + dt.timedelta(days=1)


def test_session_changelist_shows_local_times_with_zone(staff_client, world):
    response = staff_client.get("/admin/conference/session/")

    assert "09:00–10:00 America/Chicago" in response.content.decode()


def test_session_changelist_day_filter_uses_the_events_zone(staff_client, world):
    late = SessionFactory(
        event=world.event_a,
        title="Late show",
        starts_at=event_local(world.event_a, 0, 23),
        ends_at=event_local(world.event_a, 0, 23, 45),
    )
    SessionFactory(
        event=world.event_a,
        title="Next day",
        starts_at=event_local(world.event_a, 1, 9),
        ends_at=event_local(world.event_a, 1, 10),
    )

    response = staff_client.get(
        "/admin/conference/session/", {"day": world.event_a.start_date.isoformat()}
    )

    assert sorted(response.context["cl"].result_list, key=lambda s: s.starts_at) == [
        world.session_a,
        late,
    ]


def make_sessions(world, count: int) -> None:
    for index in range(count):
        event = world.event_a
        hall = HallFactory(venue=world.venue_a)
        track = TrackFactory(event=event)
        session = SessionFactory(
            event=event,
            hall=hall,
            track=track,
            starts_at=event_local(event, 1, 8 + index),
            ends_at=event_local(event, 1, 9 + index),
        )
        session.speakers.add(SpeakerFactory(event=event), SpeakerFactory(event=event))


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_session_changelist_queries_do_not_grow_with_rows(staff_client, world):
    make_sessions(world, 1)
    one = count_queries(staff_client, "/admin/conference/session/")
    make_sessions(world, 2)
    three = count_queries(staff_client, "/admin/conference/session/")

    assert one == three


def test_schedule_view_queries_do_not_grow_with_rows(staff_client, world):
    url = f"/admin/conference/event/{world.event_a.pk}/schedule/"
    make_sessions(world, 1)
    one = count_queries(staff_client, url)
    make_sessions(world, 2)
    three = count_queries(staff_client, url)

    assert one == three


def test_schedule_view_renders_sessions_by_hall_in_local_time(staff_client, world):
    second_hall = HallFactory(venue=world.venue_a, name="Side Room", order=1)
    SessionFactory(
        event=world.event_a,
        hall=second_hall,
        title="Parallel talk",
        starts_at=event_local(world.event_a, 0, 9),
        ends_at=event_local(world.event_a, 0, 9, 45),
    )

    response = staff_client.get(f"/admin/conference/event/{world.event_a.pk}/schedule/")

    assert response.status_code == 200
    schedule = response.context["schedule"]
    assert schedule.columns == ["Alpha Hall", "Side Room"]
    first_day = schedule.days[0]
    assert [
        (start, [[s.title for s in cell] for cell in cells]) for start, cells in first_day.rows
    ] == [("09:00", [["Alpha Keynote"], ["Parallel talk"]])]
    assert [day.rows for day in schedule.days[1:]] == [[]]
    content = response.content.decode()
    assert "09:00–10:00 Alpha Keynote" in content
    assert "09:00–09:45 Parallel talk" in content
    assert f'href="/admin/conference/session/{world.session_a.pk}/change/"' in content
    assert "America/Chicago" in content


def test_schedule_is_linked_from_event_change_page_and_list(staff_client, world):
    url = f"/admin/conference/event/{world.event_a.pk}/schedule/"

    change = staff_client.get(f"/admin/conference/event/{world.event_a.pk}/change/")
    changelist = staff_client.get("/admin/conference/event/")

    assert f'href="{url}"' in change.content.decode()
    assert f'href="{url}"' in changelist.content.decode()


def test_schedule_action_redirects_to_the_schedule(staff_client, world):
    response = staff_client.post(
        "/admin/conference/event/",
        {"action": "open_schedule", "_selected_action": [world.event_a.pk]},
    )

    assert (response.status_code, response.url) == (
        302,
        f"/admin/conference/event/{world.event_a.pk}/schedule/",
    )


def add_rows(world, model: str, count: int) -> None:
    for _ in range(count):
        if model == "event":
            event = EventFactory(organizer=world.organizer_a, venue=world.venue_a)
            SessionFactory(event=event)
        elif model == "speaker":
            speaker = SpeakerFactory(event=world.event_a)
            DisclosureFactory(speaker=speaker)
        elif model == "registration":
            RegistrationFactory(event=world.event_a)
        elif model == "track":
            TrackFactory(event=world.event_a)
        elif model == "hall":
            HallFactory(venue=world.venue_a)
        elif model == "venue":
            venue = VenueFactory()
            world.organizer_a.venues.add(venue)
            HallFactory(venue=venue)


@pytest.mark.parametrize(
    "url",
    [
        "conference/event",
        "conference/speaker",
        "conference/registration",
        "conference/track",
        "venues/hall",
        "venues/venue",
    ],
)
def test_changelist_queries_do_not_grow_with_rows(staff_client, world, url):
    model = url.split("/")[1]
    add_rows(world, model, 1)
    one = count_queries(staff_client, f"/admin/{url}/")
    add_rows(world, model, 2)
    three = count_queries(staff_client, f"/admin/{url}/")

    assert one == three


def test_event_change_page_queries_do_not_grow_with_sessions(staff_client, world):
    url = f"/admin/conference/event/{world.event_a.pk}/change/"
    make_sessions(world, 1)
    one = count_queries(staff_client, url)
    make_sessions(world, 2)
    three = count_queries(staff_client, url)

    assert one == three


def test_hall_autocomplete_queries_do_not_grow_with_halls(staff_client, world):
    url = "/admin/autocomplete/?app_label=conference&model_name=session&field_name=hall&term="
    one = count_queries(staff_client, url)
    add_rows(world, "hall", 2)
    three = count_queries(staff_client, url)

    assert one == three


def test_session_form_offers_attention_checks(client, superuser):
    client.force_login(superuser)
    html = client.get("/admin/conference/session/add/").content.decode()
    assert 'name="attention_check_minutes"' in html
    assert 'name="attention_window_seconds"' in html


def test_staff_add_session_with_a_part_without_credit(staff_client, world):
    data = session_data(world.event_a, start="14:00", end="15:00")
    data.update(inline_management("credit_exclusions", total=1))
    data.update(
        {
            "credit_exclusions-0-offset_minutes": "30",
            "credit_exclusions-0-length_minutes": "15",
            "credit_exclusions-0-reason": "Industry segment",
        }
    )

    response = add_session(staff_client, data)

    assert response.status_code == 302
    session = Session.objects.get(title="New talk")
    assert list(session.credit_exclusions.values_list("offset_minutes", "length_minutes")) == [
        (30, 15)
    ]


def test_staff_part_without_credit_ending_after_the_session_is_refused(staff_client, world):
    data = session_data(world.event_a, start="14:00", end="15:00")
    data.update(inline_management("credit_exclusions", total=1))
    data.update(
        {
            "credit_exclusions-0-offset_minutes": "50",
            "credit_exclusions-0-length_minutes": "15",
            "credit_exclusions-0-reason": "Overlong",
        }
    )

    response = add_session(staff_client, data)

    assert response.status_code == 200
    assert "This part ends after the session (60 minutes)." in response.content.decode()
    assert not Session.objects.filter(title="New talk").exists()
