"""Who may watch a recording, and the signed, expiring URLs its files are served under.

A viewer never gets a plain file URL. The on-demand page (and the venue hall) hands out a
master playlist URL that carries a token; the playlist views rewrite every URI they serve into
a URL with a token of the same kind, so every segment, caption and image request is checked.

A token is `<viewer>.<expiry>.<signature>`: the viewer is a user id or "public", the expiry a
Unix time, and the signature an HMAC (keyed with SECRET_KEY) of the recording id, its published
generation, the viewer and the expiry. A token of one recording never opens another one, nor a
newer generation of the same one, nor anything after its expiry.
"""

import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User
from conference.models import Event, Recording, RecordingStatus, Registration, Session
from conference.services.organizers import organizers_viewable_by
from conference.services.refusals import Refused

TOKEN_SALT = "medvenue.recordings.watch-url"  # noqa: S105 - an HMAC salt, not a secret
PUBLIC_VIEWER = "public"
# How long a segment request may rely on an earlier "may watch" decision for the same token.
DECISION_CACHE_SECONDS = 60
TOKEN_PATTERN = re.compile(
    r"^(?P<viewer>[0-9]{1,12}|public)\.(?P<expiry>[0-9]{1,12})\.(?P<sig>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class WatchToken:
    recording_id: int
    generation: str
    viewer: str  # a user id as text, or PUBLIC_VIEWER
    expires_at: int

    @property
    def user_id(self) -> int | None:
        return None if self.viewer == PUBLIC_VIEWER else int(self.viewer)


# --- who may watch ---------------------------------------------------------------------------


def is_playable(recording: Recording) -> bool:
    return recording.status == RecordingStatus.READY and bool(recording.published_dir)


def is_organizer_staff(user: User, event: Event) -> bool:
    return organizers_viewable_by(user).filter(pk=event.organizer_id).exists()


def may_watch(user: User | AnonymousUser, recording: Recording) -> bool:
    """Whether `user` (possibly anonymous) may watch `recording` now.

    The recording must be ready and its event published; then the organizer's staff, the
    session's speakers, active registered attendees of the event, and anyone at all when the
    event releases its recordings publicly.
    """
    session = recording.session
    event = session.event
    if not is_playable(recording) or not event.is_published:
        return False
    if event.recordings_public:
        return True
    if not user.is_authenticated or not user.is_active:
        return False
    if is_organizer_staff(user, event):
        return True
    if session.speakers.filter(user=user).exists():
        return True
    return Registration.objects.active().filter(user=user, event=event).exists()


def watchable_recording(session: Session, user: User | AnonymousUser) -> Recording | None:
    """The newest ready recording of `session` that `user` may watch, or None."""
    candidates = (
        session.recordings.filter(status=RecordingStatus.READY)
        .exclude(published_dir="")
        .select_related("session__event")
        .order_by("-ready_at", "-created_at", "-pk")
    )
    recording = candidates.first()
    if recording is None or not may_watch(user, recording):
        return None
    return recording


# --- tokens ----------------------------------------------------------------------------------


def _signature(recording_id: int, generation: str, viewer: str, expiry: int) -> str:
    message = f"{recording_id}:{generation}:{viewer}:{expiry}"
    return salted_hmac(TOKEN_SALT, message, algorithm="sha256").hexdigest()


def viewer_of(user: User | AnonymousUser) -> str:
    return str(user.pk) if user.is_authenticated else PUBLIC_VIEWER


def sign_watch_token(
    recording: Recording, *, user: User | AnonymousUser, now: float | None = None
) -> str:
    """A token for `user` (or the public) to fetch `recording`'s files until the TTL runs out."""
    return sign_for_viewer(recording, viewer=viewer_of(user), now=now)


def sign_for_viewer(recording: Recording, *, viewer: str, now: float | None = None) -> str:
    expiry = int((time.time() if now is None else now) + settings.RECORDING_URL_TTL_SECONDS)
    signature = _signature(recording.pk, recording.published_dir, viewer, expiry)
    return f"{viewer}.{expiry}.{signature}"


def read_watch_token(token: str, recording: Recording, *, now: float | None = None) -> WatchToken:
    """Check `token` against `recording`'s current generation; raise `Refused`
    (`token_invalid` or `token_expired`) if wrong."""
    match = TOKEN_PATTERN.match(token or "")
    if not match:
        raise Refused("token_invalid", "The address is not valid.")
    viewer, expiry = match["viewer"], int(match["expiry"])
    expected = _signature(recording.pk, recording.published_dir, viewer, expiry)
    if not recording.published_dir or not constant_time_compare(expected, match["sig"]):
        raise Refused("token_invalid", "The address is not valid for this recording.")
    if expiry <= (time.time() if now is None else now):
        raise Refused("token_expired", "The address has expired; reload the page.")
    return WatchToken(recording.pk, recording.published_dir, viewer, expiry)


def token_may_watch(token: WatchToken, recording: Recording, *, fresh: bool = False) -> bool:
    """Whether the token's viewer may still watch (cached for a minute unless `fresh`)."""
    key = f"recordings:may-watch:{recording.pk}:{token.generation}:{token.viewer}"
    if not fresh:
        cached = cache.get(key)
        if cached is not None:
            return bool(cached)
    user = _viewer_user(token)
    allowed = user is not None and may_watch(user, recording)
    cache.set(key, allowed, DECISION_CACHE_SECONDS)
    return allowed


def _viewer_user(token: WatchToken) -> User | AnonymousUser | None:
    if token.user_id is None:
        return AnonymousUser()
    return get_user_model().objects.filter(pk=token.user_id, is_active=True).first()


def request_matches_viewer(request: HttpRequest, token: WatchToken) -> bool:
    """A user's token works only in that user's session; a public token works for anyone."""
    if token.user_id is None:
        return True
    return request.user.is_authenticated and request.user.pk == token.user_id


# --- URLs ------------------------------------------------------------------------------------


def media_url(recording: Recording, token: str, name: str) -> str:
    """The signed URL of `name` (e.g. "master.m3u8", "360p/seg_00000.ts") in the published folder."""
    folder, _, file_name = name.rpartition("/")
    if folder:
        return reverse(
            "recordings:media-nested",
            kwargs={
                "recording_id": recording.pk,
                "token": token,
                "folder": folder,
                "name": file_name,
            },
        )
    return reverse(
        "recordings:media",
        kwargs={"recording_id": recording.pk, "token": token, "name": file_name},
    )


def caption_url(recording: Recording, token: str, language: str) -> str:
    return reverse(
        "recordings:caption",
        kwargs={"recording_id": recording.pk, "token": token, "language": language},
    )


def master_url(recording: Recording, *, user: User | AnonymousUser) -> str:
    """The signed master playlist URL of `recording` for `user`."""
    return media_url(recording, sign_watch_token(recording, user=user), "master.m3u8")


def watchable_among(user: User | AnonymousUser, recordings: list[Recording]) -> list[Recording]:
    """The `recordings` (of sessions already loaded with their events) `user` may watch.

    The same rule as `may_watch`, decided with a fixed number of queries however many
    recordings there are: per event the staff and registration checks, and one query for the
    sessions the user speaks in.
    """
    candidates = [r for r in recordings if is_playable(r) and r.session.event.is_published]
    if not candidates:
        return []
    events = {r.session.event_id: r.session.event for r in candidates}
    if all(event.recordings_public for event in events.values()):
        return candidates
    if not user.is_authenticated or not user.is_active:
        return [r for r in candidates if r.session.event.recordings_public]
    staff_organizers = set(
        organizers_viewable_by(user)
        .filter(pk__in={e.organizer_id for e in events.values()})
        .values_list("pk", flat=True)
    )
    registered = set(
        Registration.objects.active()
        .filter(user=user, event_id__in=events)
        .values_list("event_id", flat=True)
    )
    speaking = set(
        Session.speakers.through.objects.filter(
            session_id__in={r.session_id for r in candidates}, speaker__user=user
        ).values_list("session_id", flat=True)
    )

    def allowed(recording: Recording) -> bool:
        event = recording.session.event
        return (
            event.recordings_public
            or event.organizer_id in staff_organizers
            or recording.session_id in speaking
            or event.pk in registered
        )

    return [r for r in candidates if allowed(r)]
