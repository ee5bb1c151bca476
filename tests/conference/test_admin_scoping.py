"""Organizer staff see and change only their organizer's data, on every admin page."""

import pytest

from conference.models import Event, MembershipRole, Registration, Session, Speaker, Track
from tests.factories import (
    MembershipFactory,
    RegistrationFactory,
    UserFactory,
)
from tests.support.admin import inline_management


def admin_url(model: str, action: str = "changelist", pk: int | None = None, app="conference"):
    base = f"/admin/{app}/{model}/"
    return base if action == "changelist" else f"{base}{pk}/{action}/"


SCOPED_MODELS = [
    ("conference", "organizer", "organizer"),
    ("conference", "event", "event"),
    ("conference", "track", "track"),
    ("conference", "session", "session"),
    ("conference", "speaker", "speaker"),
    ("conference", "registration", "registration"),
    ("venues", "venue", "venue"),
    ("venues", "hall", "hall"),
]


@pytest.mark.parametrize(("app", "model", "attribute"), SCOPED_MODELS)
def test_changelist_for_staff_of_b_lists_only_b_objects(client, world, app, model, attribute):
    client.force_login(world.staff_b)

    response = client.get(admin_url(model, app=app))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [getattr(world, f"{attribute}_b")]
    assert "Alpha" not in response.content.decode()


@pytest.mark.parametrize(("app", "model", "attribute"), SCOPED_MODELS)
@pytest.mark.parametrize("action", ["change", "delete", "history"])
def test_object_page_of_other_organizer_is_not_found(client, world, app, model, attribute, action):
    client.force_login(world.staff_b)
    obj = getattr(world, f"{attribute}_a")

    response = client.get(admin_url(model, action, obj.pk, app=app))

    if response.status_code == 403:  # nobody but a superuser may delete organizers
        assert (model, action) == ("organizer", "delete")
    else:
        assert (response.status_code, response.url) == (302, "/admin/")


def test_schedule_of_other_organizers_event_is_not_found(client, world):
    client.force_login(world.staff_b)

    response = client.get(f"/admin/conference/event/{world.event_a.pk}/schedule/")

    assert (response.status_code, response.url) == (302, "/admin/")


def test_post_to_other_organizers_session_changes_nothing(client, world):
    client.force_login(world.staff_b)

    response = client.post(
        admin_url("session", "change", world.session_a.pk), {"title": "Hijacked"}
    )

    assert response.status_code == 302
    world.session_a.refresh_from_db()
    assert world.session_a.title == "Alpha Keynote"


AUTOCOMPLETE_CASES = [
    ("conference", "session", "hall", "hall"),
    ("conference", "session", "track", "track"),
    ("conference", "session", "speakers", "speaker"),
    ("conference", "session", "event", "event"),
    ("conference", "event", "venue", "venue"),
    ("conference", "speaker", "user", "registrant"),
]


@pytest.mark.parametrize(("app", "model", "field", "attribute"), AUTOCOMPLETE_CASES)
def test_autocomplete_does_not_return_other_organizers_objects(
    client, world, app, model, field, attribute
):
    client.force_login(world.staff_b)

    response = client.get(
        "/admin/autocomplete/",
        {"app_label": app, "model_name": model, "field_name": field, "term": ""},
    )

    assert response.status_code == 200
    ids = sorted(int(result["id"]) for result in response.json()["results"])
    assert str(getattr(world, f"{attribute}_a").pk) not in {str(i) for i in ids}
    if attribute != "registrant":
        assert ids == [getattr(world, f"{attribute}_b").pk]


def test_autocomplete_of_users_lists_only_people_of_the_organizer(client, world):
    client.force_login(world.staff_b)

    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "conference", "model_name": "speaker", "field_name": "user", "term": ""},
    )

    emails = sorted(result["text"] for result in response.json()["results"])
    assert emails == ["b-registrant@example.org", "b-speaker@example.org", "b-staff@example.org"]


def test_cme_coordinator_sees_event_read_only(client, world):
    client.force_login(world.cme_a)

    response = client.get(admin_url("event", "change", world.event_a.pk))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False


def test_cme_coordinator_cannot_change_or_delete_event(client, world):
    client.force_login(world.cme_a)

    change = client.post(admin_url("event", "change", world.event_a.pk), {"title": "Changed"})
    delete = client.post(admin_url("event", "delete", world.event_a.pk), {"post": "yes"})

    assert (change.status_code, delete.status_code) == (403, 403)
    world.event_a.refresh_from_db()
    assert world.event_a.title == "Alpha Congress"


def test_cme_coordinator_cannot_add_events(client, world):
    client.force_login(world.cme_a)

    assert client.get("/admin/conference/event/add/").status_code == 403


def test_superuser_sees_every_organizers_events(client, world, superuser):
    client.force_login(superuser)

    response = client.get(admin_url("event"))

    assert sorted(event.title for event in response.context["cl"].result_list) == [
        "Alpha Congress",
        "Beta Congress",
    ]


def test_staff_without_membership_sees_nothing(client, world):
    client.force_login(UserFactory(is_staff=True))

    index = client.get("/admin/")
    changelist = client.get(admin_url("event"))

    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert changelist.status_code == 403


def test_add_event_form_offers_only_own_organizer_and_venues(client, world):
    client.force_login(world.staff_b)

    response = client.get("/admin/conference/event/add/")

    form = response.context["adminform"].form
    assert list(form.fields["organizer"].queryset) == [world.organizer_b]
    assert list(form.fields["venue"].queryset) == [world.venue_b]


def test_add_session_form_offers_only_own_choices(client, world):
    client.force_login(world.staff_b)

    response = client.get("/admin/conference/session/add/")

    fields = response.context["adminform"].form.fields
    assert list(fields["event"].queryset) == [world.event_b]
    assert list(fields["hall"].queryset) == [world.hall_b]
    assert list(fields["track"].queryset) == [world.track_b]
    assert list(fields["speakers"].queryset) == [world.speaker_b]


def test_add_event_for_other_organizer_is_rejected(client, world):
    client.force_login(world.staff_b)
    data = {
        "organizer": world.organizer_a.pk,
        "title": "Sneaky",
        "slug": "sneaky",
        "timezone": "UTC",
        "start_date": "2030-01-01",
        "end_date": "2030-01-02",
        **inline_management("tracks", "speakers"),
    }

    response = client.post("/admin/conference/event/add/", data)

    assert response.status_code == 200
    assert "organizer" in response.context["adminform"].form.errors
    assert not Event.objects.filter(slug="sneaky").exists()


def test_event_with_venue_of_another_organizer_is_rejected(client, world):
    client.force_login(world.staff_a)
    world.organizer_a.venues.add(world.venue_b)
    data = {
        "organizer": world.organizer_a.pk,
        "title": "Borrowed venue",
        "slug": "borrowed",
        "timezone": "UTC",
        "start_date": "2030-01-01",
        "end_date": "2030-01-02",
        "venue": world.venue_b.pk,
        **inline_management("tracks", "speakers"),
    }
    world.organizer_a.venues.remove(world.venue_b)

    response = client.post("/admin/conference/event/add/", data)

    assert response.context["adminform"].form.errors["venue"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not Event.objects.filter(slug="borrowed").exists()


def test_superuser_cannot_put_event_in_venue_its_organizer_does_not_use(client, world, superuser):
    client.force_login(superuser)
    data = {
        "organizer": world.organizer_a.pk,
        "title": "Borrowed venue",
        "slug": "borrowed",
        "timezone": "UTC",
        "start_date": "2030-01-01",
        "end_date": "2030-01-02",
        "venue": world.venue_b.pk,
        **inline_management("tracks", "speakers"),
    }

    response = client.post("/admin/conference/event/add/", data)

    assert response.context["adminform"].form.errors["venue"] == [
        "Beta Venue is not one of Alpha Society's venues."
    ]
    assert not Event.objects.filter(slug="borrowed").exists()


def test_bulk_delete_skips_rows_the_user_may_only_view(client, world):
    MembershipFactory(
        organizer=world.organizer_a, user=world.staff_b, role=MembershipRole.MODERATOR
    )
    client.force_login(world.staff_b)

    response = client.post(
        admin_url("track"),
        {
            "action": "delete_selected",
            "_selected_action": [world.track_a.pk, world.track_b.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert list(Track.objects.all()) == [world.track_a]


def test_cancel_action_cancels_only_own_registrations(client, world):
    client.force_login(world.staff_b)

    client.post(
        admin_url("registration"),
        {
            "action": "cancel_selected",
            "_selected_action": [world.registration_a.pk, world.registration_b.pk],
        },
    )

    statuses = dict(Registration.objects.values_list("pk", "status"))
    assert statuses == {world.registration_a.pk: "active", world.registration_b.pk: "cancelled"}


def test_cancel_action_reports_already_cancelled(client, world):
    client.force_login(world.staff_b)
    data = {"action": "cancel_selected", "_selected_action": [world.registration_b.pk]}
    client.post(admin_url("registration"), data, follow=True)

    response = client.post(admin_url("registration"), data, follow=True)

    assert [str(message) for message in response.context["messages"]] == [
        "Cancelled 0 registration(s).",
        "1 registration(s) were already cancelled.",
    ]


def test_registration_search_by_user_email(client, world):
    RegistrationFactory(event=world.event_b, user=UserFactory(email="other@example.org"))
    client.force_login(world.staff_b)

    response = client.get(admin_url("registration"), {"q": "b-registrant"})

    assert list(response.context["cl"].result_list) == [world.registration_b]


def test_speaker_and_session_counts_unchanged_by_other_staff(world):
    assert (Session.objects.count(), Speaker.objects.count()) == (2, 2)


def test_event_admin_releases_recordings_publicly(client, world):
    client.force_login(world.staff_a)
    event = world.event_a
    data = {
        "organizer": world.organizer_a.pk,
        "title": event.title,
        "slug": event.slug,
        "timezone": event.timezone,
        "start_date": event.start_date.isoformat(),
        "end_date": event.end_date.isoformat(),
        "recordings_public": "on",
        **inline_management("tracks", "speakers", "sessions"),
    }

    response = client.post(f"/admin/conference/event/{event.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    event.refresh_from_db()
    assert event.recordings_public is True
