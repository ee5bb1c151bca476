"""Drive the real ASGI application (origin check, session auth, routing) over websockets."""

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from conference.asgi import application
from tests.support.stage_world import registered, session_on_now

ORIGIN = b"http://localhost"


def session_cookie(user) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


class Client:
    """A websocket client that speaks the hall protocol (docs/protocol.md)."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.ws = communicator
        self._n = 0
        self.pushed: list[dict] = []
        self.presence: list[dict] = []

    async def request(self, action: str, data: dict | None = None, *, timeout: float = 3) -> dict:
        self._n += 1
        request_id = f"r{self._n}"
        await self.ws.send_to(
            text_data=json.dumps({"id": request_id, "action": action, "data": data or {}})
        )
        while True:
            frame = json.loads(await self.ws.receive_from(timeout=timeout))
            if frame.get("id") == request_id:
                return frame
            self.pushed.append(frame)

    async def next_push(self, *, timeout: float = 3, presence: bool = False) -> dict:
        """The next pushed frame; presence deltas are set aside unless `presence` is true."""
        while True:
            if self.pushed:
                frame = self.pushed.pop(0)
            else:
                frame = json.loads(await self.ws.receive_from(timeout=timeout))
            if presence or not frame.get("event", "").startswith("presence."):
                return frame
            self.presence.append(frame)

    async def close(self):
        await self.ws.disconnect()


async def connect(user, hall_id: int, *, origin: bytes = ORIGIN, path: str | None = None):
    headers = [(b"origin", origin)]
    if user is not None:
        from channels.db import database_sync_to_async

        key = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"sessionid={key}".encode()))
    communicator = WebsocketCommunicator(
        application, path or f"/ws/halls/{hall_id}/", headers=headers
    )
    connected, _ = await communicator.connect()
    return connected, communicator


@pytest.fixture
def hall_setup(db):
    """A published event whose venue has a hall with a session on now, and two attendees."""
    event, hall, session = session_on_now()
    attendees = [registered(event) for _ in range(2)]
    return {
        "event": event,
        "hall": hall,
        "session": session,
        "alice": attendees[0],
        "bob": attendees[1],
    }


@pytest.fixture(autouse=True)
def _clean_redis_presence(settings):
    """Presence, rate limits and back-offs in Redis outlive a test (and user ids are reused);
    start every test without them."""
    if not settings.REDIS_URL:
        yield
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for pattern in (
        "medvenue:presence:*",
        "medvenue:rate:*",
        "medvenue:abuse:*",
        "medvenue:refused:*",
    ):
        for key in client.scan_iter(pattern):
            client.delete(key)
    yield
    client.close()


@pytest.fixture(autouse=True)
def _fresh_venue_cache():
    """Row ids are reused between transactional tests; never serve a previous test's hall."""
    from conference.services import live

    live._venue_cache.clear()
    yield
    live._venue_cache.clear()
