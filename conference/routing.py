"""Websocket routes."""

from django.urls import path

from conference.live.consumer import HallConsumer

websocket_urlpatterns = [
    # django-stubs types `path()` for HTTP views only; Channels routes ASGI apps with it.
    path("ws/halls/<int:hall_id>/", HallConsumer.as_asgi()),  # type: ignore[arg-type]
]
