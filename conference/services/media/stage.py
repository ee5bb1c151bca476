"""A session's studio and stage on Janus.

- The **studio** (backstage) is a VideoRoom created by the server (room secret, pin) where the
  session's speakers and producers publish and see each other. Only they get tokens for it.
- The **stage** is one Streaming mountpoint per session with four slots (audio + video each).
  The audience watches the mountpoint and nothing else: a feed reaches it only while the
  producer has put it live and the broadcast is on, because only then does the server ask Janus
  to forward (RTP) that publisher into a slot. A speaker who is not live is never sent to the
  audience, whatever a browser asks.
- Tokens are minted per user after the same checks as the hall socket (registration, removal,
  role) and renewed by the page while access lasts; when access ends the server ends the user's
  Janus sessions through the admin API (`cut_user_media`).
"""

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from conference.models import BackstageMessage, Question, QuestionStatus, Session, Stage
from conference.models.media import StageLayout
from conference.services import hall_events, live
from conference.services.media import live_hls, recorder
from conference.services.media.captions import recent_captions
from conference.services.media.config import (
    INSTALL_HINT,
    host_for_hall,
    media_enabled,
    media_hosts,
)
from conference.services.media.janus import STREAMING, VIDEOROOM, JanusAdmin, MediaUnavailable
from conference.services.media.tokens import make_opaque_id, mint_token, read_opaque_id
from conference.services.refusals import Refused

logger = logging.getLogger(__name__)

PRODUCER = "producer"
SPEAKER = "speaker"
CAPTIONER = "captioner"  # types live captions; never on the stage
SLOTS = 4
ROOM_OFFSET = 10_000_000
CAMERA, SCREEN, WATCH = 1, 2, 3
# The session's external encoder publishes as `session id × 10 + 4` (a remote publisher that the
# ingest worker adds; docs/media.md, "External encoder").
ENCODER = 4
ENCODER_NAME = "External encoder"
LAYOUT_SLOTS: dict[str, int] = {
    StageLayout.SOLO: 1,
    StageLayout.SCREEN: 2,
    StageLayout.PANEL: SLOTS,
}
AUDIO_PT, VIDEO_PT = 111, 96
MAX_COUNTDOWN_SECONDS = 60
BACKSTAGE_MESSAGE_MAX = 500


class MediaRefused(Refused):
    """A media request the user may not make (`forbidden`, `unauthenticated`, `not_found`,
    `invalid`), or that cannot be served now (`unavailable`, `conflict`), with the reason."""

    def __init__(self, message: str, *, code: str = "forbidden") -> None:
        super().__init__(code, message)


@dataclass(frozen=True, slots=True)
class StudioAccess:
    user_id: int
    name: str
    role: str  # PRODUCER, SPEAKER or CAPTIONER
    session_id: int
    hall_id: int


# --- identities ------------------------------------------------------------------------------
def room_id(session: Session) -> int:
    return ROOM_OFFSET + session.pk


def feed_id(user_id: int, kind: int) -> int:
    """The VideoRoom publisher id of a user's camera (1), shared screen (2), or the handle that
    only watches the studio (3, never publishes)."""
    return user_id * 10 + kind


def feed_owner(feed: int) -> tuple[int, int]:
    return feed // 10, feed % 10


def encoder_feed_id(session: Session) -> int:
    return session.pk * 10 + ENCODER


def _kind_name(kind: int) -> str:
    return {SCREEN: "screen", ENCODER: "encoder"}.get(kind, "camera")


def _derived(purpose: str, session: Session) -> str:
    key = settings.JANUS_ROOM_SECRET.encode()
    return hmac.new(key, f"{purpose}:{session.pk}".encode(), hashlib.sha256).hexdigest()[:32]


def backstage_pin(session: Session) -> str:
    return _derived("backstage", session)


def stage_pin(session: Session) -> str:
    return _derived("stage", session)


def _admin(session: Session) -> JanusAdmin:
    return JanusAdmin(host_for_hall(session.hall_id))


# --- access ----------------------------------------------------------------------------------
def require_media(session: Session) -> None:
    if not media_enabled():
        raise MediaRefused(INSTALL_HINT, code="unavailable")
    if session.hall_id is None:
        raise MediaRefused("This session has no hall, so it has no stage.", code="not_found")


def studio_access(user: User, session: Session) -> StudioAccess:
    """Speakers of the session, moderators and organizer staff may enter its studio."""
    if not user.is_authenticated:
        raise MediaRefused("Log in first.", code="unauthenticated")
    if session.hall_id is None:
        raise MediaRefused("This session has no hall, so it has no stage.", code="not_found")
    try:
        access = live.resolve_hall_access(user, session.hall_id)
    except Refused as error:
        raise MediaRefused(error.message) from None
    if access.event_id != session.event_id:
        raise MediaRefused("This session is not part of your event.")
    if access.is_moderator:
        role = PRODUCER
    elif session.speakers.filter(user_id=user.pk).exists():
        role = SPEAKER
    elif session.captioners.filter(pk=user.pk).exists():
        role = CAPTIONER
    else:
        raise MediaRefused(
            "Only this session's speakers, captioners, moderators and organizer staff may enter "
            "its studio."
        )
    return StudioAccess(
        user_id=user.pk,
        name=access.user_name,
        role=role,
        session_id=session.pk,
        hall_id=session.hall_id,
    )


def audience_access(user: User, session: Session) -> live.HallAccess:
    """Whoever may enter the session's hall may watch its stage."""
    if not user.is_authenticated:
        raise MediaRefused("Log in first.", code="unauthenticated")
    if session.hall_id is None:
        raise MediaRefused("This session has no hall, so it has no stage.", code="not_found")
    try:
        access = live.resolve_hall_access(user, session.hall_id)
    except Refused as error:
        raise MediaRefused(error.message) from None
    if access.event_id != session.event_id:
        raise MediaRefused("This session is not part of your event.")
    return access


# --- rooms on Janus ----------------------------------------------------------------------------
def ensure_backstage(session: Session, admin: JanusAdmin | None = None) -> int:
    """Create the session's VideoRoom if Janus does not have it (idempotent; a restarted Janus
    gets it back on the next request)."""
    admin = admin or _admin(session)
    room = room_id(session)
    exists = admin.plugin(VIDEOROOM, {"request": "exists", "room": room}).get("exists")
    if not exists:
        admin.plugin(
            VIDEOROOM,
            {
                "request": "create",
                "room": room,
                "admin_key": settings.JANUS_ROOM_SECRET,
                "secret": settings.JANUS_ROOM_SECRET,
                "pin": backstage_pin(session),
                "description": f"studio of session {session.pk}",
                "is_private": True,
                "permanent": False,
                "publishers": 2 * (SLOTS + 6),
                "audiocodec": "opus",
                "videocodec": "vp8",
                "fir_freq": 2,
                "notify_joining": True,
            },
            allow_codes=(427,),  # created meanwhile by another process
        )
    return room


def ensure_stage(session: Session, admin: JanusAdmin | None = None) -> dict[str, Any]:
    """Create the session's stage mountpoint if missing; returns its media (with ports)."""
    admin = admin or _admin(session)
    mount = room_id(session)
    info = admin.plugin(
        STREAMING,
        {"request": "info", "id": mount, "secret": settings.JANUS_ROOM_SECRET},
        allow_codes=(455,),  # no such mountpoint
    )
    if info.get("info"):
        return dict(info["info"])
    media = []
    for slot in range(SLOTS):
        media.append(
            {"type": "audio", "mid": f"a{slot}", "port": 0, "pt": AUDIO_PT, "codec": "opus"}
        )
        media.append(
            {"type": "video", "mid": f"v{slot}", "port": 0, "pt": VIDEO_PT, "codec": "vp8"}
        )
    admin.plugin(
        STREAMING,
        {
            "request": "create",
            "type": "rtp",
            "id": mount,
            "admin_key": settings.JANUS_ROOM_SECRET,
            "secret": settings.JANUS_ROOM_SECRET,
            "pin": stage_pin(session),
            "description": f"stage of session {session.pk}",
            "is_private": True,
            "permanent": False,
            "media": media,
        },
        allow_codes=(456,),  # created meanwhile by another process
    )
    answer = admin.plugin(
        STREAMING, {"request": "info", "id": mount, "secret": settings.JANUS_ROOM_SECRET}
    )
    return dict(answer["info"])


def _slot_ports(info: dict[str, Any]) -> dict[str, int]:
    return {item["mid"]: item["port"] for item in info.get("media", [])}


# --- grants ------------------------------------------------------------------------------------
def ice_servers(user_id: int) -> list[dict[str, Any]]:
    """STUN/TURN for the browser; TURN credentials are coturn's time-limited REST credentials."""
    if not settings.TURN_URLS or not settings.TURN_SECRET:
        return []
    expiry = int(timezone.now().timestamp()) + settings.JANUS_TOKEN_TTL_SECONDS + 3600
    username = f"{expiry}:{user_id}"
    digest = hmac.new(settings.TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return [
        {
            "urls": settings.TURN_URLS,
            "username": username,
            "credential": base64.b64encode(digest).decode(),
        }
    ]


def _token(plugin: str) -> dict[str, Any]:
    token = mint_token(
        secret=settings.JANUS_TOKEN_SECRET,
        ttl_seconds=settings.JANUS_TOKEN_TTL_SECONDS,
        plugins=(plugin,),
    )
    return {"token": token, "token_ttl": settings.JANUS_TOKEN_TTL_SECONDS}


def studio_grant(user: User, session: Session) -> dict[str, Any]:
    """What the studio page needs to join the backstage room (after the access checks)."""
    require_media(session)
    access = studio_access(user, session)
    admin = _admin(session)
    try:
        room = ensure_backstage(session, admin)
        ensure_stage(session, admin)
    except MediaUnavailable as error:
        logger.warning("studio of session %s: %s", session.pk, error)
        raise MediaRefused(
            "The media server is not answering; try again in a moment.", code="unavailable"
        ) from None
    return {
        "server": admin.host.ws_url,
        **_token(VIDEOROOM),
        "opaque_id": make_opaque_id(secret=settings.JANUS_TOKEN_SECRET, user_id=user.pk),
        "ice_servers": ice_servers(user.pk),
        "room": room,
        "pin": backstage_pin(session),
        "role": access.role,
        "display": access.name,
        "feeds": {
            "camera": feed_id(user.pk, CAMERA),
            "screen": feed_id(user.pk, SCREEN),
            "watch": feed_id(user.pk, WATCH),
        },
    }


def stage_grant(user: User, session: Session) -> dict[str, Any]:
    """What an attendee's page needs to watch the stage (after the hall's access checks)."""
    require_media(session)
    audience_access(user, session)
    admin = _admin(session)
    stage = Stage.objects.filter(session=session).first()
    if stage is not None and stage.on_air and stage.recording_id and live_hls.over_capacity(admin):
        # Beyond the host's WebRTC capacity: the stage composed once by the recorder, as HLS.
        return {
            "mode": "hls",
            "hls_url": live_hls.playlist_url(session, stage.recording_id, user.pk),
            "stage": stage_data(session, stage),
        }
    try:
        ensure_stage(session, admin)
    except MediaUnavailable as error:
        logger.warning("stage of session %s: %s", session.pk, error)
        raise MediaRefused(
            "The media server is not answering; try again in a moment.", code="unavailable"
        ) from None
    return {
        "mode": "webrtc",
        "server": admin.host.ws_url,
        **_token(STREAMING),
        "opaque_id": make_opaque_id(secret=settings.JANUS_TOKEN_SECRET, user_id=user.pk),
        "ice_servers": ice_servers(user.pk),
        "mountpoint": room_id(session),
        "pin": stage_pin(session),
        "stage": stage_data(session),
    }


def renew_token(user: User, session: Session, *, purpose: str) -> dict[str, Any]:
    """A fresh token for a page that is already connected, after the same checks again."""
    require_media(session)
    if purpose == "studio":
        studio_access(user, session)
        return _token(VIDEOROOM)
    audience_access(user, session)
    return _token(STREAMING)


# --- the stage ---------------------------------------------------------------------------------
def get_stage(session: Session) -> Stage:
    stage, _ = Stage.objects.get_or_create(session=session)
    return stage


def stage_data(session: Session, stage: Stage | None = None) -> dict[str, Any]:
    """What the audience (and the studio) is told about the stage: never a feed that is not
    live, and nothing about the backstage room."""
    stage = stage or Stage.objects.filter(session=session).first()
    if stage is None or not stage.on_air:
        return {
            "session": session.pk,
            "on_air": False,
            "layout": StageLayout.SOLO,
            "slots": [],
            "recording": False,
        }
    slots = [
        {
            "slot": index,
            "name": name,
            "kind": _kind_name(feed_owner(feed)[1]),
        }
        for index, (feed, name) in enumerate(zip(stage.live_feeds, stage.live_names, strict=False))
    ]
    return {
        "session": session.pk,
        "on_air": True,
        "layout": stage.layout,
        "live_from": stage.live_from.isoformat() if stage.live_from else None,
        "slots": slots,
        "recording": stage.recording_id is not None,
    }


def hall_stage_data(session: Session | None) -> dict[str, Any] | None:
    """The stage part of a hall socket's `hello`: None without a session; `media` says whether
    live media is on at all (the page then explains how to turn it on)."""
    if session is None:
        return None
    if not media_enabled():
        return {
            "session": session.pk,
            "media": False,
            "on_air": False,
            "slots": [],
            "notice": INSTALL_HINT,
        }
    return {**stage_data(session), "media": True}


def backstage_publishers(session: Session, admin: JanusAdmin | None = None) -> list[dict[str, Any]]:
    """Who publishes in the studio now (from Janus), as {feed, user, kind, name}."""
    admin = admin or _admin(session)
    answer = admin.plugin(
        VIDEOROOM, {"request": "listparticipants", "room": room_id(session)}, allow_codes=(426,)
    )
    people = []
    for participant in answer.get("participants") or []:
        if not participant.get("publisher"):
            continue
        feed = int(participant["id"])
        user_id, kind = feed_owner(feed)
        if kind == ENCODER and feed != encoder_feed_id(session):
            continue  # not an id the server gives out
        people.append(
            {
                "feed": feed,
                "user": None if kind == ENCODER else user_id,
                "kind": _kind_name(kind),
                "name": participant.get("display") or "",
            }
        )
    return people


def _validate_feeds(
    session: Session, layout: str, feeds: list[int], published: dict[int, dict[str, Any]]
) -> None:
    if layout not in LAYOUT_SLOTS:
        raise MediaRefused("Unknown layout.", code="invalid")
    if len(set(feeds)) != len(feeds):
        raise MediaRefused("A feed can be on the stage once.", code="invalid")
    if len(feeds) > LAYOUT_SLOTS[layout]:
        raise MediaRefused(
            f"This layout shows at most {LAYOUT_SLOTS[layout]} feed(s).", code="invalid"
        )
    for feed in feeds:
        if feed not in published:
            raise MediaRefused(
                "Only someone publishing in the studio can be put live.", code="invalid"
            )
    allowed = set(session.speakers.exclude(user=None).values_list("user_id", flat=True))
    for feed in feeds:
        if feed == encoder_feed_id(session):
            continue  # the session's external encoder: its producer turned it on
        owner, _ = feed_owner(feed)
        if owner not in allowed and not _is_producer_user(session, owner):
            raise MediaRefused(
                "Only the session's speakers and producers can go live.", code="invalid"
            )


def _is_producer_user(session: Session, user_id: int) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    try:
        return studio_access(user, session).role == PRODUCER
    except MediaRefused:
        return False


def set_stage(
    access: StudioAccess,
    session: Session,
    *,
    layout: str,
    feeds: list[int],
    on_air: bool,
    countdown_seconds: int = 0,
) -> Stage:
    """The producer decides who is live, in which layout, and whether the stage broadcasts;
    Janus's forwards are brought in line with it before this returns."""
    if access.role != PRODUCER:
        raise MediaRefused("Only a producer (a moderator or organizer staff) runs the stage.")
    if not 0 <= countdown_seconds <= MAX_COUNTDOWN_SECONDS:
        raise MediaRefused(
            f"The countdown is 0 to {MAX_COUNTDOWN_SECONDS} seconds.", code="invalid"
        )
    admin = _admin(session)
    try:
        published = {p["feed"]: p for p in backstage_publishers(session, admin)}
    except MediaUnavailable as error:
        raise MediaRefused(
            f"The media server is not answering: {error}", code="unavailable"
        ) from None
    _validate_feeds(session, layout, feeds, published)
    now = timezone.now()
    try:
        with transaction.atomic():
            stage = Stage.objects.select_for_update().get(pk=get_stage(session).pk)
            was_on_air = stage.on_air
            stage.layout = layout
            stage.live_feeds = list(feeds)
            stage.live_names = [published[feed]["name"] for feed in feeds]
            stage.on_air = on_air
            if on_air and not was_on_air:
                stage.live_from = now + timedelta(seconds=countdown_seconds)
                stage.started_at = stage.started_at or now
                stage.ended_at = None
                try:
                    recorder.begin_recording(stage, session, now=now)
                except recorder.NoRecorderPorts as error:
                    raise MediaRefused(str(error), code="unavailable") from None
            if not on_air and was_on_air:
                stage.live_from = None
                stage.ended_at = now
                recorder.end_recording(stage, now=now)
            stage.forwarders = _reconcile_forwards(session, stage, admin)
            stage.save()
    except ForwardRefused as error:
        # The transaction is rolled back (no new recording, the row as it was); what Janus
        # forwarded in this attempt is stopped; the line-up that was live is forwarded again.
        logger.warning("stage of session %s: %s", session.pk, error)
        restored = _restore_forwards(session, admin)
        raise MediaRefused(
            f"The media server refused to forward the live feeds ({error.reason}). "
            + (
                "Nothing changed: the stage is as it was. Try again."
                if restored
                else "Nothing changed, but the stage could not be forwarded again: "
                "the audience receives nothing until the next change."
            ),
            code="unavailable",
        ) from None
    except IntegrityError:  # another stage took the same recorder ports at the same moment
        raise MediaRefused(
            "Another stage went live at the same moment; nothing changed. Try again.",
            code="conflict",
        ) from None
    announce_stage(session, stage)
    return stage


class ForwardRefused(Exception):
    """Janus refused (or did not answer) a request to forward a live feed; whatever this
    attempt had started is stopped again before this is raised."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _stop_forwards(session: Session, forwards: list[dict[str, Any]], admin: JanusAdmin) -> None:
    room = room_id(session)
    for forward in forwards:
        for stream_id in forward.get("stream_ids", []):
            try:
                admin.plugin(
                    VIDEOROOM,
                    {
                        "request": "stop_rtp_forward",
                        "room": room,
                        "publisher_id": forward["feed"],
                        "stream_id": stream_id,
                        "secret": settings.JANUS_ROOM_SECRET,
                        "admin_key": settings.JANUS_ROOM_SECRET,
                    },
                )
            except MediaUnavailable as error:
                logger.info(
                    "forward %s of feed %s already gone: %s", stream_id, forward["feed"], error
                )


def _restore_forwards(session: Session, admin: JanusAdmin) -> bool:
    """After a refused change: forward the stored line-up again (the failed attempt stopped its
    forwards first). False when that is refused too; the row then lists no forwards."""
    with transaction.atomic():
        stage = Stage.objects.select_for_update().filter(session=session).first()
        if stage is None:
            return True
        try:
            stage.forwarders = _reconcile_forwards(session, stage, admin, strict=False)
            restored = True
        except ForwardRefused as error:
            logger.error("stage of session %s could not be restored: %s", session.pk, error)
            stage.forwarders = []
            restored = False
        stage.save(update_fields=["forwarders", "updated_at"])
    return restored


def forward_again(session: Session, feed: int) -> bool:
    """A live feed that came back as a new publisher (an external encoder that reconnected):
    forward the stored line-up again, so the audience and the recorder get it without the
    producer doing anything. False when the feed is not live on air (nothing to do)."""
    stage = Stage.objects.filter(session=session, on_air=True).first()
    if stage is None or feed not in (stage.live_feeds or []):
        return False
    return _restore_forwards(session, _admin(session))


def _forward(
    admin: JanusAdmin, room: int, feed: int, *, host: str, audio: int, video: int
) -> dict[str, Any]:
    return admin.plugin(
        VIDEOROOM,
        {
            "request": "rtp_forward",
            "room": room,
            "publisher_id": feed,
            "host": host,
            "host_family": "ipv4",
            "audio_port": audio,
            "audio_pt": AUDIO_PT,
            "video_port": video,
            "video_pt": VIDEO_PT,
            "secret": settings.JANUS_ROOM_SECRET,
            "admin_key": settings.JANUS_ROOM_SECRET,
        },
    )


def _reconcile_forwards(
    session: Session, stage: Stage, admin: JanusAdmin, *, strict: bool = True
) -> list[dict[str, Any]]:
    """Stop every forward, then forward each live feed into its slot if the stage is on air.
    Restarting is simple and cheap (a few admin requests); the audience sees a keyframe within
    the room's FIR interval. If Janus refuses a forward, the forwards this call started are
    stopped and ForwardRefused is raised: no forward runs that the stage row does not list.
    Not `strict` (restoring a line-up after a refused change): a refused recorder forward is
    left out (logged) so that the audience gets the stage back."""
    _stop_forwards(session, stage.forwarders or [], admin)
    if not stage.on_air:
        return []
    room = room_id(session)
    forwards: list[dict[str, Any]] = []
    try:
        ports = _slot_ports(ensure_stage(session, admin))
        for slot, feed in enumerate(stage.live_feeds[:SLOTS]):
            forward = {"feed": feed, "slot": slot, "stream_ids": []}
            forwards.append(forward)
            answer = _forward(
                admin,
                room,
                feed,
                host="127.0.0.1",
                audio=ports[f"a{slot}"],
                video=ports[f"v{slot}"],
            )
            forward["stream_ids"], _ = forwarded_streams(answer)
            target = recorder.forward_targets(stage, slot)
            if target is not None:  # the same feed to the broadcast's recorder
                try:
                    answer = _forward(
                        admin,
                        room,
                        feed,
                        host=target["host"],
                        audio=target["audio_port"],
                        video=target["video_port"],
                    )
                except MediaUnavailable as error:
                    if strict:
                        raise
                    logger.error("feed %s not forwarded to the recorder: %s", feed, error)
                    continue
                recorder_ids, sent_to = forwarded_streams(answer)
                forward["stream_ids"] += recorder_ids
                # Which of the feed's streams Janus forwards (a shared screen has no sound).
                forward["recorder"] = {
                    "audio": target["audio_port"] if target["audio_port"] in sent_to else None,
                    "video": target["video_port"] if target["video_port"] in sent_to else None,
                }
    except MediaUnavailable as error:
        _stop_forwards(session, forwards, admin)
        raise ForwardRefused(str(error)) from None
    return forwards


def forwarded_streams(answer: dict[str, Any]) -> tuple[list[int], set[int]]:
    """The forwarder ids (for `stop_rtp_forward`) and the ports Janus sends to, from an
    `rtp_forward` answer. Janus 1.x answers the audio_port/video_port form of the request with
    `rtp_stream: {audio_stream_id, audio, video_stream_id, video, ...}` and the `streams` form
    with `forwarders: [{stream_id, port, ...}]`; both are read."""
    ids: list[int] = []
    ports: set[int] = set()
    legacy = answer.get("rtp_stream") or {}
    for kind in ("audio", "video", "data"):
        if f"{kind}_stream_id" in legacy:
            ids.append(legacy[f"{kind}_stream_id"])
            if isinstance(legacy.get(kind), int):
                ports.add(legacy[kind])
    for item in answer.get("forwarders") or []:
        if "stream_id" in item:
            ids.append(item["stream_id"])
        if isinstance(item.get("port"), int):
            ports.add(item["port"])
    return ids, ports


def announce_stage(session: Session, stage: Stage) -> None:
    """Tell the hall (its live feed) what the stage shows now, after commit."""
    data = {**stage_data(session, stage), "media": True}
    hall_id = session.hall_id
    if hall_id is not None:  # a stage's session has a hall (the studio refuses one without)
        transaction.on_commit(lambda: hall_events.stage_update(hall_id, session.pk, data))


# --- studio side panel -------------------------------------------------------------------------
def post_backstage(access: StudioAccess, session: Session, *, text: str) -> BackstageMessage:
    text = (text or "").strip()
    if not text or len(text) > BACKSTAGE_MESSAGE_MAX:
        raise MediaRefused(
            f"A message has 1 to {BACKSTAGE_MESSAGE_MAX} characters.", code="invalid"
        )
    return BackstageMessage.objects.create(
        session=session, author_id=access.user_id, author_name=access.name, text=text
    )


def studio_state(access: StudioAccess, session: Session, *, since: int = 0) -> dict[str, Any]:
    """Everything the studio page refreshes: who publishes backstage, the stage, new backstage
    messages and the audience's questions."""
    admin = _admin(session)
    try:
        publishers = backstage_publishers(session, admin)
        media_error = ""
    except MediaUnavailable as error:
        publishers, media_error = [], str(error)
    messages = [
        {"id": m.pk, "author": m.author_name, "text": m.text, "at": m.created_at.isoformat()}
        for m in BackstageMessage.objects.filter(session=session, pk__gt=since)[:200]
    ]
    questions = [
        {
            "id": q.pk,
            "author": q.author_name,
            "text": q.text,
            "votes": q.vote_count,
            "status": q.status,
        }
        for q in Question.objects.filter(session=session)
        .exclude(status=QuestionStatus.REJECTED)
        .order_by("-vote_count", "pk")[:50]
    ]
    stage = get_stage(session)
    return {
        "role": access.role,
        "captions": recent_captions(session),
        "publishers": publishers,
        "stage": {**stage_data(session, stage), "feeds": stage.live_feeds if stage.on_air else []},
        "messages": messages,
        "questions": questions,
        "media_error": media_error,
    }


# --- cutting media off -------------------------------------------------------------------------
def cut_user_media(user_id: int) -> int:
    """End every Janus session in which `user_id` attached a handle, on every host; returns how
    many sessions were ended. Called when a user is removed from a hall, logs out or loses their
    registration; token expiry is the backstop for everything else."""
    if not media_enabled():
        return 0
    ended = 0
    for host in media_hosts():
        try:
            ended += end_sessions_of(JanusAdmin(host), user_id)
        except MediaUnavailable as error:
            logger.warning(
                "could not cut the media of user %s on %s: %s", user_id, host.admin_url, error
            )
    return ended


def end_sessions_of(admin: JanusAdmin, user_id: int, *, tag: str | None = None) -> int:
    """End the Janus sessions on `admin`'s host in which `user_id` attached a handle (with `tag`:
    a handle whose server-signed opaque id carries that room tag); returns how many. Raises
    MediaUnavailable when the host cannot list its sessions."""
    ended = 0
    for session_id in admin.sessions():
        if _attached_by(admin, session_id, user_id, tag):
            admin.destroy_session(session_id)
            ended += 1
    return ended


def _attached_by(admin: JanusAdmin, session_id: int, user_id: int, tag: str | None) -> bool:
    try:
        handles = admin.handles(session_id)
    except MediaUnavailable:
        return False
    for handle in handles:
        try:
            info = admin.handle_info(session_id, handle)
        except MediaUnavailable:
            continue
        label = read_opaque_id(info.get("opaque_id"), secret=settings.JANUS_TOKEN_SECRET)
        if label is None or label.user_id != user_id:
            continue
        if tag is None or (label.genuine and label.nonce.startswith(tag)):
            return True
    return False


def cut_user_media_on_commit(user_id: int) -> None:
    transaction.on_commit(lambda: cut_user_media(user_id))
