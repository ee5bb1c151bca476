from django.urls import path

from conference.api import venues

app_name = "venue-api"

urlpatterns = [
    path("", venues.venue_manifest, name="manifest"),
]
