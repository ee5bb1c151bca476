"""External encoders (OBS, vMix) on the stage: a per-session stream key over SRT (issue 15).

The end-to-end test runs what a deployment runs: a real Janus, a real `celery worker` on the
ingest queue, and ffmpeg as the encoder (what OBS sends: H.264 and AAC in MPEG-TS over SRT)."""

import datetime as dt
import re
import socket
import subprocess
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from conference.models import EncoderFeed, RegistrationRole
from conference.services.media import encoder
from conference.services.media import stage as media
from conference.services.media.janus import JanusAdmin
from tests.support.media import free_udp_ports, udp_port_free
from tests.support.process import celery_worker
from tests.support.recording import needs_ffmpeg
from tests.support.stage_world import people, session_on_now

pytestmark = [needs_ffmpeg]


@pytest.fixture
def party(db):
    _, _, session = session_on_now(started=5, left=60)
    roles = {"ana": RegistrationRole.SPEAKER, "mod": RegistrationRole.MODERATOR}
    cache.delete(f"mv:encoder:{session.pk}")  # the rate limit's counter of an earlier run
    return {"session": session, **people(session, roles, speakers=["ana"])}


@pytest.fixture
def encoder_ports(settings):
    """A free SRT port and a free even pair for Janus, for this test alone."""
    settings.ENCODER_SRT_PORTS = str(free_udp_ports(1)[0])
    rtp = free_udp_ports(2)[0]
    settings.ENCODER_RTP_PORTS = f"{rtp}-{rtp + 1}"
    return settings.ENCODER_SRT_PORTS, settings.ENCODER_RTP_PORTS


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(session, tail: str) -> str:
    return f"/events/{session.event.slug}/sessions/{session.pk}/studio/{tail}"


def _until(predicate, *, seconds: float, step: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def _encoder_publishing(session) -> bool:
    return any(p["kind"] == "encoder" for p in media.backstage_publishers(session))


def _send_as_obs(url: str, *, seconds: int = 60) -> subprocess.Popen:
    """ffmpeg as the encoder: a moving test picture and a tone, H.264 + AAC in MPEG-TS, SRT."""
    return subprocess.Popen(
        [
            *("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re"),
            *("-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=30:duration={seconds}"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30"),
            *("-c:a", "aac", "-f", "mpegts", url),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _rtp_types(sock: socket.socket, *, seconds: float) -> set[int]:
    """The RTP payload types of the packets that reach `sock` within `seconds`."""
    seen: set[int] = set()
    sock.settimeout(0.5)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not seen:
        try:
            packet = sock.recv(2048)
        except TimeoutError:
            continue
        if len(packet) >= 12 and packet[0] >> 6 == 2:
            seen.add(packet[1] & 0x7F)
    return seen


@pytest.mark.janus
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_encoder_with_the_stream_key_is_put_live_and_a_wrong_key_is_refused(
    party, janus, encoder_ports, settings, tmp_path
):
    """The producer turns the encoder on and gets its SRT address and key; an encoder with a
    wrong key is refused by SRT; with the key it appears backstage as "External encoder",
    its video and sound flow through Janus, and the producer puts it on the stage. A new key
    cuts it off; turning it off ends the listener."""
    session = party["session"]
    settings.CELERY_INGEST_QUEUE = f"test-ingest-{uuid.uuid4().hex[:10]}"
    producer, speaker = _client(party["mod"]), _client(party["ana"])
    environment = {
        **janus.environment(),
        "ENCODER_SRT_PORTS": settings.ENCODER_SRT_PORTS,
        "ENCODER_RTP_PORTS": settings.ENCODER_RTP_PORTS,
    }
    # Only producers run the encoder; speakers see whether it is on, never the key.
    refused = speaker.post(_url(session, "encoder/"), {"action": "on"}, "application/json")
    assert refused.status_code == 403
    with celery_worker(settings.CELERY_INGEST_QUEUE, tmp_path / "worker.log", **environment):
        answer = producer.post(_url(session, "encoder/"), {"action": "on"}, "application/json")
        try:
            assert answer.status_code == 200, answer.content
            state = answer.json()
            assert state["active"] is True and state["connected"] is False
            key = state["passphrase"]
            assert len(key) == 32
            assert state["server"] == f"srt://127.0.0.1:{settings.ENCODER_SRT_PORTS}"
            assert parse_qs(urlsplit(state["url"]).query) == {
                "passphrase": [key],
                "pbkeylen": ["32"],
            }
            seen_by_speaker = speaker.get(_url(session, "state/")).json()["encoder"]
            assert seen_by_speaker == {"active": True, "connected": False, "feed": state["feed"]}

            # The worker's listener is up (it holds the SRT port)...
            srt_port = int(settings.ENCODER_SRT_PORTS)
            assert _until(lambda: not udp_port_free(srt_port), seconds=30)
            # ... and refuses a wrong key: the call fails; nothing reaches the studio.
            wrong = _send_as_obs(state["url"].replace(key, "not-the-key-of-this-session"))
            assert wrong.wait(timeout=30) != 0
            assert b"failed" in wrong.stderr.read()
            assert not _encoder_publishing(session)
            assert EncoderFeed.objects.get(session=session).connected_since is None

            # The key: the encoder appears backstage and its media flows through Janus.
            obs = _send_as_obs(state["url"])
            obs_started = time.monotonic()
            assert _until(lambda: _encoder_publishing(session), seconds=40)
            feed = media.encoder_feed_id(session)
            connected = producer.get(_url(session, "state/")).json()["encoder"]
            assert connected["connected"] is True and connected["connected_since"]
            # The picture decodes at its own size (never scaled up), and the sound is Opus.
            frames, sound = _through_janus(session, feed, tmp_path)
            assert frames >= 30 and sound == {111}

            # The producer puts it live like a person.
            live = producer.post(
                _url(session, "stage/"),
                {"layout": "solo", "feeds": [feed], "on_air": True},
                "application/json",
            )
            assert live.status_code == 200, live.content
            assert [slot["name"] for slot in live.json()["slots"]] == [media.ENCODER_NAME]
            off_air = producer.post(
                _url(session, "stage/"),
                {"layout": "solo", "feeds": [], "on_air": False},
                "application/json",
            )
            assert off_air.status_code == 200

            # A new key cuts the connected encoder; it is gone from the studio.
            renewed = producer.post(
                _url(session, "encoder/"), {"action": "new_key"}, "application/json"
            ).json()
            assert renewed["passphrase"] != key
            obs.wait(timeout=30)  # cut long before its 60 s
            assert time.monotonic() - obs_started < 50
            assert _until(lambda: not _encoder_publishing(session), seconds=10)
        finally:
            producer.post(_url(session, "encoder/"), {"action": "off"}, "application/json")
        row = EncoderFeed.objects.get(session=session)
        assert (row.active, row.slot, row.connected_since) == (False, None, None)
        # The listener ends: the SRT port is free again.
        assert _until(lambda: udp_port_free(srt_port), seconds=15)
    worker_log = (tmp_path / "worker.log").read_text()
    assert key not in worker_log and renewed["passphrase"] not in worker_log  # never logged


def _through_janus(session, feed: int, tmp_path) -> tuple[int, set[int]]:
    """Forward the encoder's publisher out of Janus again: its video to an ffmpeg of the test's
    own, which decodes 30 frames (the picture's size and frame count, from `showinfo`), and its
    sound to a socket (the RTP payload types that arrive)."""
    admin = JanusAdmin(media.host_for_hall(session.hall_id))
    video_port = free_udp_ports(2)[0]
    sdp = tmp_path / "from-janus.sdp"
    sdp.write_text(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=from janus\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=video {video_port} RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
    )
    decoder = subprocess.Popen(
        [
            *("ffmpeg", "-nostdin", "-hide_banner", "-protocol_whitelist", "file,udp,rtp"),
            *("-i", str(sdp), "-frames:v", "30", "-vf", "showinfo", "-f", "null", "-"),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as audio:
        audio.bind(("127.0.0.1", 0))
        answer = media._forward(
            admin,
            media.room_id(session),
            feed,
            host="127.0.0.1",
            audio=audio.getsockname()[1],
            video=video_port,
        )
        try:
            sound = _rtp_types(audio, seconds=15)
            try:
                _, log = decoder.communicate(timeout=30)
            finally:
                decoder.kill()
        finally:
            ids, _ = media.forwarded_streams(answer)
            media._stop_forwards(session, [{"feed": feed, "stream_ids": ids}], admin)
    frames = len(re.findall(r"\bn:\s*\d+ .*\bs:640x360\b", log.decode(errors="replace")))
    return frames, sound


# --- the producer's side, without media ---------------------------------------------------------
@pytest.fixture
def media_on(settings):
    """Media settings pointing at a Janus that is not asked (these tests never reach it)."""
    settings.JANUS_WS_URLS = ["ws://127.0.0.1:9/"]
    settings.JANUS_ADMIN_URLS = ["http://127.0.0.1:9/admin"]
    settings.JANUS_ADMIN_SECRET = settings.JANUS_TOKEN_SECRET = "s"
    settings.JANUS_ROOM_SECRET = "r"
    settings.ENCODER_SRT_PORTS = "9710-9711"
    settings.ENCODER_RTP_PORTS = "22000-22003"


def test_turning_on_new_key_and_off(party, media_on, django_capture_on_commit_callbacks):
    session = party["session"]
    producer = media.studio_access(party["mod"], session)
    with django_capture_on_commit_callbacks() as sent:
        state = encoder.change_encoder(producer, session, action="on")
    assert len(sent) == 1  # the listener's task, after commit
    assert state["server"] == "srt://127.0.0.1:9710"
    first = state["passphrase"]
    again = encoder.change_encoder(producer, session, action="on")
    assert again["passphrase"] == first  # on again keeps the key and the port
    renewed = encoder.change_encoder(producer, session, action="new_key")
    assert renewed["passphrase"] != first and renewed["server"] == state["server"]
    off = encoder.change_encoder(producer, session, action="off")
    assert (off["active"], off["connected"], off["feed"]) == (False, False, session.pk * 10 + 4)
    assert "passphrase" not in off and "url" not in off
    for bad in ("", "ON", "delete"):
        with pytest.raises(media.MediaRefused) as error:
            encoder.change_encoder(producer, session, action=bad)
        assert error.value.code == "invalid"


def test_only_producers_change_it_and_see_the_key(party, media_on):
    session = party["session"]
    speaker = media.studio_access(party["ana"], session)
    with pytest.raises(media.MediaRefused) as error:
        encoder.change_encoder(speaker, session, action="on")
    assert error.value.code == "forbidden"
    encoder.change_encoder(media.studio_access(party["mod"], session), session, action="on")
    assert "passphrase" not in encoder.encoder_state(speaker, session)


def test_every_port_taken_a_finished_session_and_the_rate_limit(party, media_on, settings):
    session = party["session"]
    producer = media.studio_access(party["mod"], session)
    settings.ENCODER_SRT_PORTS = "9710"
    other_session = session_on_now(started=5, left=60)[2]
    EncoderFeed.objects.create(
        session=other_session,
        passphrase="x" * 32,
        slot=0,
        active=True,
        key_created_at=timezone.now(),
    )
    with pytest.raises(media.MediaRefused) as error:
        encoder.change_encoder(producer, session, action="on")
    assert error.value.code == "unavailable" and "encoder port" in error.value.message
    later = session.ends_at + dt.timedelta(hours=1)
    with pytest.raises(media.MediaRefused) as error:
        encoder.change_encoder(producer, session, action="on", now=later)
    assert error.value.code == "conflict"
    with pytest.raises(media.MediaRefused) as error:
        for _ in range(encoder.RATE_LIMIT + 1):
            encoder.change_encoder(producer, session, action="off")
    assert error.value.code == "rate_limited"


def test_the_view_refuses_bad_bodies(party, media_on):
    client = _client(party["mod"])
    session = party["session"]
    for body in ({"action": 3}, {}, {"action": "explode"}):
        answer = client.post(_url(session, "encoder/"), body, "application/json")
        assert answer.status_code == 400
        assert "action" in answer.json()["error"]
    assert client.post(_url(session, "encoder/"), "{", "application/json").status_code == 400
    assert client.get(_url(session, "encoder/")).status_code == 405


def test_ffmpeg_reads_only_mpegts_over_srt_and_keeps_the_key_out_of_reasons(party, media_on):
    session = party["session"]
    listening = encoder.Listening(
        feed_id=1,
        session_id=session.pk,
        hall_id=session.hall_id,
        passphrase="k" * 32,
        slot=1,
        until=encoder.listening_ends(session),
    )
    command = encoder.ffmpeg_command(listening, janus_ip="127.0.0.1")
    assert command[command.index("-protocol_whitelist") + 1] == "srt"
    assert command[command.index("-f") + 1] == "mpegts"
    source = command[command.index("-i") + 1]
    assert source.startswith("srt://127.0.0.1:9711?mode=listener&passphrase=" + "k" * 32)
    assert command.count("rtp://127.0.0.1:22002?pkt_size=1200") == 2
    reason = encoder._reason(
        f"[srt @ 0x5581] srt://127.0.0.1:9711?passphrase={'k' * 32}: Input/output error\n",
        "k" * 32,
    )
    assert "k" * 32 not in reason and reason.startswith("The encoder's stream ended")
    assert "video and sound" in encoder._reason(
        "Stream map '0:a:0' matches no streams.\n", "k" * 32
    )


def test_a_silent_listener_is_sent_again(party, django_capture_on_commit_callbacks):
    session = party["session"]
    feed = EncoderFeed.objects.create(
        session=session, passphrase="x" * 32, slot=0, active=True, key_created_at=timezone.now()
    )
    now = timezone.now()
    assert encoder.resend_stalled_encoders(now=now) == []
    later = now + dt.timedelta(seconds=encoder.STALE_SECONDS + 1)
    with django_capture_on_commit_callbacks() as sent:
        assert encoder.resend_stalled_encoders(now=later) == [feed.pk]
    assert len(sent) == 1
    assert encoder.resend_stalled_encoders(now=later) == []  # touched: not sent twice


def test_the_encoder_feed_is_live_only_for_its_own_session(party, media_on):
    """The encoder's feed id passes the stage's speaker check only in its own session."""
    session = party["session"]
    own = media.encoder_feed_id(session)
    elsewhere = 10**9 + media.ENCODER  # another session's encoder (no user has that id)
    published = {own: {"name": media.ENCODER_NAME}, elsewhere: {"name": "x"}}
    media._validate_feeds(session, "solo", [own], published)
    with pytest.raises(media.MediaRefused):
        media._validate_feeds(session, "solo", [elsewhere], published)


def test_the_listener_turns_itself_off_when_the_session_is_over(party):
    session = party["session"]
    session.starts_at = timezone.now() - dt.timedelta(hours=3)
    session.ends_at = timezone.now() - dt.timedelta(hours=1)
    session.save()
    feed = EncoderFeed.objects.create(
        session=session, passphrase="x" * 32, slot=0, active=True, key_created_at=timezone.now()
    )
    listening = encoder.Listening(
        feed_id=feed.pk,
        session_id=session.pk,
        hall_id=session.hall_id,
        passphrase=feed.passphrase,
        slot=0,
        until=encoder.listening_ends(session),
    )
    assert listening.still() is False  # a connected encoder is let go at the session's end
    assert encoder.ingest_next(feed.pk, budget=30) == encoder.IngestOutcome.OFF
    feed.refresh_from_db()
    assert (feed.active, feed.slot) == (False, None)
    assert feed.last_error == "The session ended, so its encoder was turned off."
