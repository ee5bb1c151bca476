from django.urls import path

from conference.views import agenda, ical, pages, registration

app_name = "conference"

urlpatterns = [
    path("", pages.event_list, name="event-list"),
    path("events/<slug:event_slug>/", pages.event_detail, name="event-detail"),
    path(
        "events/<slug:event_slug>/sessions/<int:session_id>/",
        pages.session_detail,
        name="session-detail",
    ),
    path("events/<slug:event_slug>/register/", registration.register, name="event-register"),
    path(
        "events/<slug:event_slug>/schedule.ics",
        ical.event_schedule_ics,
        name="event-schedule-ics",
    ),
    path(
        "events/<slug:event_slug>/sessions/<int:session_id>/favourite/",
        agenda.favourite,
        name="session-favourite",
    ),
    path("my/events/", pages.my_events, name="my-events"),
    path("my/agenda/feed/", agenda.feed, name="agenda-feed"),
    path("my/agenda/upcoming.json", agenda.upcoming, name="agenda-upcoming"),
    path("agenda/<str:token>.ics", agenda.feed_ics, name="agenda-ics"),
    path("agenda/unsubscribe/<str:token>/", agenda.unsubscribe, name="agenda-unsubscribe"),
    path("my/schedule.ics", ical.my_schedule_ics, name="my-schedule-ics"),
    path(
        "my/registrations/<int:registration_id>/cancel/",
        registration.cancel,
        name="registration-cancel",
    ),
]
