"""Websocket routes."""

from django.urls import path

from conference.live.consumer import HallConsumer

websocket_urlpatterns = [
    path("ws/halls/<int:hall_id>/", HallConsumer.as_asgi()),
]
