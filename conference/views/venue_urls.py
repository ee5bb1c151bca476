from django.urls import path

from conference.views import venue

app_name = "venue"

urlpatterns = [
    path("", venue.lobby, name="lobby"),
    path("<slug:hall_slug>/", venue.hall, name="hall"),
    path("<slug:hall_slug>/map.svg", venue.hall_map, name="hall-map"),
]
