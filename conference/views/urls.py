from django.urls import path

from conference.views import pages

app_name = "conference"

urlpatterns = [
    path("", pages.event_list, name="event-list"),
    path("events/<slug:event_slug>/", pages.event_detail, name="event-detail"),
    path(
        "events/<slug:event_slug>/sessions/<int:session_id>/",
        pages.session_detail,
        name="session-detail",
    ),
]
