"""External encoders (OBS, vMix) on a session's stage: a stream key per session, over SRT.

Why SRT into Janus (and not WHIP or RTMP): Janus 1.1 has no WHIP endpoint of its own (that needs
a separate server, which Debian does not package), and ffmpeg's RTMP listener accepts any stream
name, so an RTMP "stream key" would not be checked by anything. SRT, which OBS (27+), vMix and
ffmpeg all send, checks a passphrase in its handshake and encrypts the stream with it (AES): an
encoder without the key is refused before one byte of media is read. Debian's ffmpeg has SRT.

- The producer turns the encoder on in the studio (`change_encoder`): the session gets a stream key
  (the SRT passphrase, 32 random characters) and a port of ENCODER_SRT_PORTS, and an ingest worker
  (queue `ingest`) listens there (`ingest_next`). "New key" replaces the key at once: a connected
  encoder is cut and the old key no longer works. "Turn off" stops the listener.
- When an encoder calls with the right key, ffmpeg reads only MPEG-TS from it (no other protocol,
  no other format, at most 4K), fits the picture into 1280x720 (never larger) at 30 fps, encodes VP8 and Opus and
  sends both (RTP) to the hall's Janus over the private network, where the server has just added
  it to the studio's VideoRoom as a remote publisher, "External encoder". (Janus takes a remote
  publisher's media encrypted only from 1.3 on; Debian's is 1.1, so those ports must stay closed
  to all but the ingest host, like the recorder's.) From there it
  is like a person backstage: the studio shows it, the producer puts it live, the stage and the
  recorder get it through the same forwards. When the encoder leaves, the publisher is removed
  and the listener waits for the next call; if the encoder was live, its return is forwarded
  to the stage again without the producer doing anything.
"""

import logging
import secrets
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import throttle
from conference.models import EncoderFeed, Session
from conference.services import enqueue
from conference.services.media import stage as media
from conference.services.media.config import host_for_hall, janus_private_address
from conference.services.media.janus import VIDEOROOM, JanusAdmin, MediaUnavailable
from conference.services.recordings import capture
from conference.services.recordings.processes import exclusive_lock, stop_process

logger = logging.getLogger(__name__)

ON, NEW_KEY, OFF = "on", "new_key", "off"
ACTIONS = (ON, NEW_KEY, OFF)
# At most this many changes (on, new key, off) per session in RATE_WINDOW_SECONDS.
RATE_LIMIT = 10
RATE_WINDOW_SECONDS = 60
KEY_BYTES = 24  # 32 characters of URL-safe base64: SRT takes 10 to 79
KEY_LENGTH = 32  # SRT's AES key length from the passphrase (pbkeylen), in bytes
SRT_LATENCY_MS = 200
# What the remote publisher carries (Janus demultiplexes by SSRC: 1000 + 10 x mindex).
AUDIO_SSRC, VIDEO_SSRC = 1000, 1010
AUDIO_PT, VIDEO_PT = media.AUDIO_PT, media.VIDEO_PT
MAX_WIDTH, MAX_HEIGHT, FRAME_RATE = 1280, 720, 30
MAX_INPUT_PIXELS = 3840 * 2160
VIDEO_BITRATE = "2500k"
RTP_PACKET_BYTES = 1200
POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 30
# An active encoder whose worker has not touched its row for this long gets its task again.
STALE_SECONDS = 90
# After ffmpeg ended by itself (an encoder that left, a port in use), listen again after this.
RETRY_SECONDS = 1.0
STOP_GRACE_SECONDS = 3


class IngestOutcome:
    OFF = "off"  # turned off (or gone, or the session is over): nothing listens any more
    BUSY = "busy"  # another task listens for this encoder
    CHUNK = "chunk"  # the task's budget is spent; the next task listens on


# --- ports and the key ----------------------------------------------------------------------
def _range(name: str) -> tuple[int, int]:
    text = getattr(settings, name)
    first, _, last = text.partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be 'first-last', not {text!r}") from None
    if not 1024 <= low <= high <= 65535:
        raise ImproperlyConfigured(f"{name} {text!r} must be ports from 1024 to 65535")
    return low, high


def slot_count() -> int:
    """How many encoders can be on at once: one SRT port and two Janus ports (RTP, and the
    RTCP port next to it) each."""
    srt_low, srt_high = _range("ENCODER_SRT_PORTS")
    rtp_low, rtp_high = _range("ENCODER_RTP_PORTS")
    return min(srt_high - srt_low + 1, (rtp_high - rtp_low + 1) // 2)


def srt_port(slot: int) -> int:
    return _range("ENCODER_SRT_PORTS")[0] + slot


def janus_port(slot: int) -> int:
    low = _range("ENCODER_RTP_PORTS")[0]
    return low + (low % 2) + 2 * slot


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def server_url(feed: EncoderFeed) -> str:
    return f"srt://{settings.ENCODER_SRT_HOST}:{srt_port(feed.slot or 0)}"


def encoder_url(feed: EncoderFeed) -> str:
    """What the producer pastes into OBS (Server, with an empty stream key) or vMix."""
    return f"{server_url(feed)}?passphrase={feed.passphrase}&pbkeylen={KEY_LENGTH}"


# --- the producer's side ----------------------------------------------------------------------
def encoder_state(access: media.StudioAccess, session: Session) -> dict[str, Any]:
    """The encoder as the studio shows it; the key and address only to producers."""
    feed = EncoderFeed.objects.filter(session=session).first()
    state: dict[str, Any] = {
        "active": bool(feed and feed.active),
        "connected": bool(feed and feed.active and feed.connected_since),
        "feed": media.encoder_feed_id(session),
    }
    if access.role != media.PRODUCER or feed is None:
        return state
    state["error"] = feed.last_error if feed.active else ""
    state["connected_since"] = (
        feed.connected_since.isoformat() if feed.active and feed.connected_since else None
    )
    if feed.active:
        state.update(
            server=server_url(feed),
            passphrase=feed.passphrase,
            key_length=KEY_LENGTH,
            url=encoder_url(feed),
            key_created_at=feed.key_created_at.isoformat(),
        )
    return state


def _throttle(session: Session) -> None:
    if throttle.hit(f"mv:encoder:{session.pk}", window=RATE_WINDOW_SECONDS) > RATE_LIMIT:
        raise media.MediaRefused(
            f"At most {RATE_LIMIT} encoder changes in {RATE_WINDOW_SECONDS} seconds; wait a moment.",
            code="rate_limited",
        )


def listening_ends(session: Session) -> datetime:
    return session.ends_at + timedelta(seconds=settings.RECORDING_CAPTURE_MARGIN_SECONDS)


def change_encoder(
    access: media.StudioAccess, session: Session, *, action: str, now: datetime | None = None
) -> dict[str, Any]:
    """Turn the session's external encoder on, give it a new key, or turn it off (producers)."""
    if access.role != media.PRODUCER:
        raise media.MediaRefused("Only a producer (a moderator or organizer staff) runs the stage.")
    if action not in ACTIONS:
        raise media.MediaRefused("`action` is on, new_key or off.", code="invalid")
    media.require_media(session)
    now = now or timezone.now()
    if action != OFF and listening_ends(session) <= now:
        raise media.MediaRefused(
            "This session has ended: its encoder cannot be turned on.", code="conflict"
        )
    _throttle(session)
    try:
        with transaction.atomic():
            feed = _change(access, session, action=action, now=now)
    except IntegrityError:  # another encoder took the same port at the same moment
        raise media.MediaRefused(
            "Another encoder was turned on at the same moment; nothing changed. Try again.",
            code="conflict",
        ) from None
    if feed is not None and feed.active:
        feed_id = feed.pk
        transaction.on_commit(lambda: dispatch_ingest(feed_id))
    return encoder_state(access, session)


def _change(
    access: media.StudioAccess, session: Session, *, action: str, now: datetime
) -> EncoderFeed | None:
    feed = EncoderFeed.objects.select_for_update().filter(session=session).first()
    if action == OFF:
        if feed is not None and feed.active:
            feed.active, feed.slot, feed.connected_since = False, None, None
            feed.changed_by_id = access.user_id
            feed.save()
            logger.info("encoder of session %s turned off by user %s", session.pk, access.user_id)
        return None
    if feed is None:
        feed = EncoderFeed(session=session, passphrase=new_key(), key_created_at=now)
    elif action == NEW_KEY:
        feed.passphrase, feed.key_created_at = new_key(), now
    if not feed.active:
        feed.slot = _free_slot()
        feed.active, feed.connected_since, feed.last_error = True, None, ""
    feed.changed_by_id = access.user_id
    feed.save()
    logger.info("encoder of session %s: %s by user %s", session.pk, action, access.user_id)
    return feed


def _free_slot() -> int:
    taken = set(
        EncoderFeed.objects.filter(active=True).exclude(slot=None).values_list("slot", flat=True)
    )
    for slot in range(slot_count()):
        if slot not in taken:
            return slot
    raise media.MediaRefused(
        "Every encoder port is in use (too many external encoders on for ENCODER_SRT_PORTS).",
        code="unavailable",
    )


def dispatch_ingest(feed_id: int) -> None:
    capture.dispatch(enqueue.INGEST_ENCODER, feed_id, queue=settings.CELERY_INGEST_QUEUE)


def resend_stalled_encoders(*, now: datetime) -> list[int]:
    """Send the ingest task again for encoders that are on but whose worker went quiet (a killed
    worker); run every minute with the capture scheduler."""
    stale = list(
        EncoderFeed.objects.filter(
            active=True, updated_at__lt=now - timedelta(seconds=STALE_SECONDS)
        ).values_list("pk", flat=True)
    )
    for feed_id in stale:
        logger.warning("The listener of encoder %s has stalled; sending its task again", feed_id)
        EncoderFeed.objects.filter(pk=feed_id).update(updated_at=now)
        transaction.on_commit(partial(dispatch_ingest, feed_id))
    return stale


# --- the ingest worker's side -------------------------------------------------------------------
@dataclass(frozen=True)
class Listening:
    """What one listener runs with; any change (key, port, off) or the session's end ends it."""

    feed_id: int
    session_id: int
    hall_id: int | None
    passphrase: str
    slot: int
    until: datetime

    def still(self) -> bool:
        return (
            timezone.now() < self.until
            and EncoderFeed.objects.filter(
                pk=self.feed_id, active=True, passphrase=self.passphrase, slot=self.slot
            ).exists()
        )


def ingest_next(
    feed_id: int, *, clock: Callable[[], float] = time.monotonic, budget: float | None = None
) -> str:
    """Listen for the session's encoder until it is turned off or the task's budget is spent
    (then the task sends itself again; an encoder connected then reconnects, as OBS and vMix do
    on their own)."""
    feed = EncoderFeed.objects.filter(pk=feed_id).first()
    if feed is None or not feed.active:
        return IngestOutcome.OFF
    lock = Path(settings.DATA_DIR) / "ingest" / f"encoder_{feed_id}.lock"
    with exclusive_lock(lock) as held:
        if not held:
            return IngestOutcome.BUSY
        deadline = clock() + (budget if budget is not None else capture.chunk_seconds())
        outcome = _listen_until(feed_id, deadline=deadline, clock=clock)
    if outcome == IngestOutcome.CHUNK:
        transaction.on_commit(lambda: dispatch_ingest(feed_id))
    return outcome


def _listen_until(feed_id: int, *, deadline: float, clock: Callable[[], float]) -> str:
    while clock() < deadline:
        feed = EncoderFeed.objects.select_related("session").filter(pk=feed_id).first()
        if feed is None or not feed.active or feed.slot is None:
            return IngestOutcome.OFF
        if listening_ends(feed.session) <= timezone.now():
            EncoderFeed.objects.filter(pk=feed_id).update(
                active=False,
                slot=None,
                connected_since=None,
                last_error="The session ended, so its encoder was turned off.",
            )
            return IngestOutcome.OFF
        listening = Listening(
            feed_id=feed.pk,
            session_id=feed.session_id,
            hall_id=feed.session.hall_id,
            passphrase=feed.passphrase,
            slot=feed.slot,
            until=listening_ends(feed.session),
        )
        if listen_once(listening, deadline=deadline, clock=clock):
            time.sleep(RETRY_SECONDS)
    return IngestOutcome.CHUNK


def _srt_input(listening: Listening) -> str:
    query = (
        f"mode=listener&passphrase={listening.passphrase}&pbkeylen={KEY_LENGTH}"
        f"&enforced_encryption=1&latency={SRT_LATENCY_MS * 1000}"
    )
    return f"srt://{settings.ENCODER_SRT_BIND}:{srt_port(listening.slot)}?{query}"


def janus_address(hall_id: int | None) -> str:
    """Where the worker sends the encoder's media (an IP address, as Janus binds it)."""
    return socket.gethostbyname(janus_private_address(hall_id))


def ffmpeg_command(listening: Listening, *, janus_ip: str) -> list[str]:
    """Read the encoder's MPEG-TS over SRT (nothing else), send VP8 + Opus over RTP to Janus."""
    target = f"rtp://{janus_ip}:{janus_port(listening.slot)}?pkt_size={RTP_PACKET_BYTES}"
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats"]
    command += ["-protocol_whitelist", "srt", "-f", "mpegts", "-max_pixels", str(MAX_INPUT_PIXELS)]
    command += ["-i", _srt_input(listening)]
    command += ["-map", "0:a:0", "-c:a", "libopus", "-ar", "48000", "-ac", "2", "-b:a", "96k"]
    command += ["-f", "rtp", "-payload_type", str(AUDIO_PT), "-ssrc", str(AUDIO_SSRC)]
    command += ["-rtpflags", "skip_rtcp", target]
    fit = (
        f"scale=w='min({MAX_WIDTH},iw)':h='min({MAX_HEIGHT},ih)':force_original_aspect_ratio=decrease"
        f":force_divisible_by=2,fps={FRAME_RATE},format=yuv420p"
    )
    command += ["-map", "0:v:0", "-vf", fit, "-c:v", "libvpx", "-deadline", "realtime"]
    command += ["-cpu-used", "8", "-b:v", VIDEO_BITRATE, "-maxrate", VIDEO_BITRATE]
    command += ["-bufsize", VIDEO_BITRATE, "-lag-in-frames", "0", "-error-resilient", "1"]
    # A keyframe every 2 s, as the studio's room asks of browsers: a new viewer sees a picture.
    command += ["-g", str(2 * FRAME_RATE), "-keyint_min", str(2 * FRAME_RATE)]
    command += ["-f", "rtp", "-payload_type", str(VIDEO_PT), "-ssrc", str(VIDEO_SSRC)]
    command += ["-rtpflags", "skip_rtcp", target]
    # One progress block a second on stdout: its first says media flows (the encoder is in).
    return [*command, "-progress", "pipe:1", "-stats_period", "1"]


def _watch_progress(stream: IO[bytes] | None, flowing: threading.Event) -> None:
    for line in stream or ():
        if line.startswith(b"progress="):
            flowing.set()


def listen_once(listening: Listening, *, deadline: float, clock: Callable[[], float]) -> bool:
    """One listener: wait for the encoder, publish it in the studio while it sends. True when
    it ended by itself (the encoder left, ffmpeg refused its input): listen again."""
    admin = JanusAdmin(host_for_hall(listening.hall_id))
    session = Session.objects.get(pk=listening.session_id)
    try:
        media.ensure_backstage(session, admin)
        janus_ip = janus_address(listening.hall_id)
    except (MediaUnavailable, OSError) as error:
        _note(listening, f"The media server is not answering: {error}")
        _wait(listening, seconds=5, clock=clock)
        return False
    command = ffmpeg_command(listening, janus_ip=janus_ip)
    flowing = threading.Event()
    published = False
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv; the key stays out of the logs
            capture._with_parent_death_signal(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        reader = threading.Thread(
            target=_watch_progress, args=(process.stdout, flowing), daemon=True
        )
        reader.start()
        ended, refused = False, ""
        try:
            touched = clock()
            while clock() < deadline:
                if process.poll() is not None:
                    ended = True
                    break
                if flowing.is_set() and not published:
                    _publish(admin, session, listening, janus_ip=janus_ip)
                    published = True
                time.sleep(POLL_SECONDS)
                if not listening.still():
                    break
                if clock() - touched >= HEARTBEAT_SECONDS:
                    touched = clock()
                    EncoderFeed.objects.filter(pk=listening.feed_id).update(
                        updated_at=timezone.now()
                    )
        except MediaUnavailable as error:  # listen again after a pause (the encoder retries)
            ended, refused = True, f"The media server refused the encoder: {error}"
        finally:
            stop_process(process, interrupt_grace=STOP_GRACE_SECONDS)
            reader.join(timeout=STOP_GRACE_SECONDS)
            if published:
                _unpublish(admin, session)
        log.seek(0)
        output = log.read().decode(errors="replace")
    if ended:
        reason = refused or _reason(output, listening.passphrase)
        _note(listening, reason)
        logger.info("encoder %s: the listener ended: %s", listening.feed_id, reason)
    return ended


def _publish(admin: JanusAdmin, session: Session, listening: Listening, *, janus_ip: str) -> None:
    """The encoder is in: add it to the studio as a remote publisher (a browser squatting its
    id is kicked first), and forward it to the stage again if it was live."""
    feed = media.encoder_feed_id(session)
    _unpublish(admin, session)
    admin.plugin(
        VIDEOROOM,
        {
            "request": "add_remote_publisher",
            "room": media.room_id(session),
            "secret": settings.JANUS_ROOM_SECRET,
            "id": feed,
            "display": media.ENCODER_NAME,
            "iface": janus_ip,
            "port": janus_port(listening.slot),
            "streams": [
                {"type": "audio", "mindex": 0, "mid": "0", "codec": "opus", "stereo": True},
                {"type": "video", "mindex": 1, "mid": "1", "codec": "vp8"},
            ],
        },
    )
    EncoderFeed.objects.filter(pk=listening.feed_id, active=True).update(
        connected_since=timezone.now(), last_error=""
    )
    logger.info("encoder %s connected; publishing as %s", listening.feed_id, feed)
    try:
        media.forward_again(session, feed)
    except MediaUnavailable as error:
        logger.warning("encoder %s could not be forwarded again: %s", listening.feed_id, error)


def _unpublish(admin: JanusAdmin, session: Session) -> None:
    feed = media.encoder_feed_id(session)
    room = media.room_id(session)
    secret = settings.JANUS_ROOM_SECRET
    for request in (
        {"request": "remove_remote_publisher", "room": room, "id": feed, "secret": secret},
        {"request": "kick", "room": room, "id": feed, "secret": secret},
    ):
        try:
            admin.plugin(VIDEOROOM, request)
        except MediaUnavailable as error:  # not there: what we wanted
            logger.debug("encoder feed %s: %s", feed, error)
    EncoderFeed.objects.filter(session=session).update(connected_since=None)


def _note(listening: Listening, reason: str) -> None:
    EncoderFeed.objects.filter(pk=listening.feed_id, active=True).update(
        last_error=reason[:300], connected_since=None
    )


def _wait(listening: Listening, *, seconds: float, clock: Callable[[], float]) -> None:
    until = clock() + seconds
    while clock() < until and listening.still():
        time.sleep(POLL_SECONDS)


def _reason(output: str, passphrase: str) -> str:
    """What the producer reads when the listener ended by itself; never the key."""
    lines = [capture.LOG_PREFIX.sub("", line.strip()) for line in output.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return "The encoder disconnected."
    reason = lines[-1].replace(passphrase, "…")
    reason = capture.ANY_URL.sub("the encoder's stream", reason)
    if "matches no streams" in reason or "does not contain any stream" in reason:
        return "The encoder must send both video and sound (MPEG-TS over SRT)."
    return f"The encoder's stream ended: {reason}"
