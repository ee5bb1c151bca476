"""Websocket routes. The live hall consumer (`/ws/halls/<hall_id>/`) is added here."""

websocket_urlpatterns: list = []
