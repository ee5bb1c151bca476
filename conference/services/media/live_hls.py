"""The stage as HLS beyond WebRTC capacity (docs/media.md, "HLS beyond capacity").

The broadcast's recorder (recorder.py) composes the live feeds once, on a capture worker, from
the RTP Janus already forwards to it, and writes besides the recording's chunk a live HLS
playlist with 1 s segments into `RECORDINGS_ROOT/<recording>/live/`. When a Janus host already
serves `JANUS_WEBRTC_CAPACITY` WebRTC viewers, the stage grant of a new viewer of a hall on it
says `mode: "hls"` with a signed playlist URL instead of a Janus token.

URLs are `…/sessions/<id>/stage/hls/<token>/<name>`; a token is `<user>.<expiry>.<signature>`
(HMAC keyed by SECRET_KEY over the recording, the user and the expiry), valid
`HLS_TOKEN_SECONDS`, only for the user it was made for and only for the broadcast recording on
air now. Each playlist load re-checks the viewer's hall access (cached 30 s) and rewrites every
segment into a URL with a fresh token.
"""

import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from conference.models import Session
from conference.services.media.janus import STREAMING, JanusAdmin, MediaUnavailable
from conference.services.refusals import Refused

SALT = "medvenue.media.live-hls"
LIVE_PLAYLIST = "index.m3u8"  # written by the recorder (recorder.LIVE_PLAYLIST)
HLS_TOKEN_SECONDS = 120
ACCESS_CACHE_SECONDS = 30
VIEWERS_CACHE_SECONDS = 2
TOKEN = re.compile(r"^(?P<user>[0-9]{1,12})\.(?P<expiry>[0-9]{1,12})\.(?P<sig>[0-9a-f]{64})$")
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.(m3u8|ts)$")
CONTENT_TYPES = {"m3u8": "application/vnd.apple.mpegurl", "ts": "video/mp2t"}


class HlsRefused(Exception):
    pass


def webrtc_viewers(admin: JanusAdmin) -> int:
    """WebRTC viewers of every stage mountpoint on this Janus host now, as Janus counts them
    (`list` with the admin key names the private mountpoints, `info` with the secret gives
    each one's viewers); cached for VIEWERS_CACHE_SECONDS per host."""
    key = f"mv:janus-viewers:{admin.host.admin_url}"
    cached = cache.get(key)
    if cached is not None:
        return int(cached)
    listed = admin.plugin(STREAMING, {"request": "list", "admin_key": settings.JANUS_ROOM_SECRET})
    viewers = 0
    for item in listed.get("list") or []:
        answer = admin.plugin(
            STREAMING,
            {"request": "info", "id": item["id"], "secret": settings.JANUS_ROOM_SECRET},
            allow_codes=(455,),  # gone meanwhile
        )
        viewers += int((answer.get("info") or {}).get("viewers") or 0)
    cache.set(key, viewers, VIEWERS_CACHE_SECONDS)
    return viewers


def over_capacity(admin: JanusAdmin) -> bool:
    capacity = settings.JANUS_WEBRTC_CAPACITY
    if capacity <= 0:
        return True
    try:
        return webrtc_viewers(admin) >= capacity
    except MediaUnavailable:
        return False  # the WebRTC path reports Janus's state itself


def _signature(recording_id: int, user_id: int, expiry: int) -> str:
    return salted_hmac(SALT, f"{recording_id}:{user_id}:{expiry}", algorithm="sha256").hexdigest()


def make_token(recording_id: int, user_id: int, *, now: float | None = None) -> str:
    expiry = int(now if now is not None else time.time()) + HLS_TOKEN_SECONDS
    return f"{user_id}.{expiry}.{_signature(recording_id, user_id, expiry)}"


def check_token(token: str, *, recording_id: int, user_id: int) -> None:
    match = TOKEN.match(token or "")
    if not match:
        raise HlsRefused("This stage address is not valid.")
    token_user, expiry = int(match["user"]), int(match["expiry"])
    expected = _signature(recording_id, token_user, expiry)
    if not constant_time_compare(expected, match["sig"]) or token_user != user_id:
        raise HlsRefused("This stage address is not valid.")
    if expiry < time.time():
        raise HlsRefused("This stage address has expired; reload the stage.")


def url(session: Session, token: str, name: str) -> str:
    return reverse(
        "media:stage-hls",
        kwargs={
            "event_slug": session.event.slug,
            "session_id": session.pk,
            "token": token,
            "name": name,
        },
    )


def playlist_url(session: Session, recording_id: int, user_id: int) -> str:
    """The signed live playlist of the stage's recording `recording_id` for `user_id`."""
    return url(session, make_token(recording_id, user_id), LIVE_PLAYLIST)


def may_watch(user: Any, session: Session, check: Callable[[], object]) -> bool:
    """The hall's access checks (`check`, as for the WebRTC grant: it raises a Refused), cached
    briefly per user and session: a playlist is reloaded every second by every HLS viewer."""
    key = f"mv:live-hls:{session.pk}:{user.pk}"
    decided = cache.get(key)
    if decided is None:
        try:
            check()
            decided = True
        except Refused:
            decided = False
        cache.set(key, decided, ACCESS_CACHE_SECONDS)
    return bool(decided)


def rewrite_playlist(text: str, session: Session, token: str) -> str:
    """Every segment line into a signed URL; anything else that is not a tag is refused."""
    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            if not NAME.match(line) or not line.endswith(".ts"):
                raise HlsRefused("The live playlist names a file it may not.")
            line = url(session, token, line)
        lines.append(line)
    return "\n".join(lines) + "\n"
