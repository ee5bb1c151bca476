"""The HLS stage beyond WebRTC capacity (docs/media.md, "HLS beyond capacity"): the grant's
switch on a real Janus, signed URLs only for their viewer and the broadcast on air, the
playlist re-checked and re-signed, and the recorder writing the HLS beside its chunk."""

import datetime as dt
import subprocess
import time

import pytest
from django.core.cache import cache
from django.utils import timezone

from conference.models import (
    HallRemoval,
    Recording,
    RecordingSource,
    RecordingStatus,
    RegistrationRole,
    Stage,
)
from conference.services.media import live_hls, recorder
from conference.services.media import stage as media
from tests.support.stage_world import people, session_on_now


@pytest.fixture
def party(db, settings, tmp_path):
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    cache.clear()
    event, hall, session = session_on_now(started=5, left=60)
    roles = {
        "viewer": RegistrationRole.ATTENDEE,
        "other": RegistrationRole.ATTENDEE,
        "mod": RegistrationRole.MODERATOR,
    }
    found = people(session, roles)
    recording = Recording.objects.create(
        session=session,
        source=RecordingSource.STUDIO,
        status=RecordingStatus.CAPTURING,
        capture_starts_at=timezone.now(),
    )
    stage = Stage.objects.create(session=session, on_air=True, recording=recording)
    live = recorder.live_folder(recording)
    live.mkdir(parents=True)
    (live / "index.m3u8").write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:3\n"
        "#EXTINF:1.000000,\nchunk_1_00003.ts\n#EXTINF:1.000000,\nchunk_1_00004.ts\n"
    )
    (live / "chunk_1_00003.ts").write_bytes(b"G" * 188)
    return {"event": event, "hall": hall, "session": session, "stage": stage, **found}


def test_tokens_open_only_their_viewers_broadcast():
    token = live_hls.make_token(7, 42)
    live_hls.check_token(token, recording_id=7, user_id=42)
    for recording_id, user_id in ((8, 42), (7, 43)):
        with pytest.raises(live_hls.HlsRefused):
            live_hls.check_token(token, recording_id=recording_id, user_id=user_id)
    user, expiry, signature = token.split(".")
    with pytest.raises(live_hls.HlsRefused):  # a later expiry is not signed
        live_hls.check_token(f"{user}.{int(expiry) + 60}.{signature}", recording_id=7, user_id=42)
    old = live_hls.make_token(7, 42, now=time.time() - live_hls.HLS_TOKEN_SECONDS - 1)
    with pytest.raises(live_hls.HlsRefused, match="expired"):
        live_hls.check_token(old, recording_id=7, user_id=42)


def test_the_playlist_is_signed_for_its_viewer_and_rechecked(client, party):
    session, stage = party["session"], party["stage"]
    client.force_login(party["viewer"])
    url = live_hls.playlist_url(session, stage.recording_id, party["viewer"].pk)
    answer = client.get(url)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/vnd.apple.mpegurl"
    assert "no-store" in answer["Cache-Control"]
    lines = answer.content.decode().splitlines()
    segments = [line for line in lines if line and not line.startswith("#")]
    assert len(segments) == 2 and all("/stage/hls/" in s for s in segments)
    assert segments[0].endswith("/chunk_1_00003.ts")
    segment = client.get(segments[0])
    assert segment.status_code == 200 and b"".join(segment.streaming_content) == b"G" * 188
    assert client.get(segments[1]).status_code == 404  # rolled off / not written yet
    # Another signed-in person cannot use this viewer's URLs.
    client.force_login(party["other"])
    assert client.get(url).status_code == 403
    assert client.get(segments[0]).status_code == 403
    # Names outside the pattern are never looked up.
    assert client.get(url.replace("index.m3u8", "..%2Fsecret.ts")).status_code == 404
    # Removed from the hall: the next playlist load (after the access cache) is refused.
    client.force_login(party["viewer"])
    HallRemoval.objects.create(
        hall=party["hall"],
        user=party["viewer"],
        removed_by=party["mod"],
        until=timezone.now() + dt.timedelta(hours=1),
    )
    cache.clear()
    assert client.get(url).status_code == 403
    # Off air: nothing is served.
    Stage.objects.filter(pk=stage.pk).update(on_air=False)
    assert client.get(segments[0]).status_code == 404


def test_on_air_before_the_first_playlist_the_player_is_told_to_retry(client, party):
    """The viewer may arrive before the recorder wrote its first playlist: 503 + Retry-After,
    which hls.js retries (it gives up at once on a 404)."""
    (recorder.live_folder(party["stage"].recording_id) / "index.m3u8").unlink()
    client.force_login(party["viewer"])
    url = live_hls.playlist_url(party["session"], party["stage"].recording_id, party["viewer"].pk)
    answer = client.get(url)
    assert (answer.status_code, answer["Retry-After"]) == (503, "1")
    assert answer.json() == {"error": "The live stage is starting; retry."}
    assert "no-store" in answer["Cache-Control"]


def test_a_playlist_naming_other_files_is_refused(client, party):
    live = recorder.live_folder(party["stage"].recording_id)
    (live / "index.m3u8").write_text("#EXTM3U\n../../source/broadcast.ts\n")
    client.force_login(party["viewer"])
    url = live_hls.playlist_url(party["session"], party["stage"].recording_id, party["viewer"].pk)
    assert client.get(url).status_code == 404


@pytest.mark.janus
def test_the_grant_switches_to_hls_beyond_capacity(party, janus, settings):
    session, viewer = party["session"], party["viewer"]
    settings.JANUS_WEBRTC_CAPACITY = 80
    grant = media.stage_grant(viewer, session)
    assert grant["mode"] == "webrtc" and grant["token"]
    assert live_hls.webrtc_viewers(media._admin(session)) == 0
    settings.JANUS_WEBRTC_CAPACITY = 0
    grant = media.stage_grant(viewer, session)
    assert grant["mode"] == "hls" and "token" not in grant
    assert grant["hls_url"].endswith("/index.m3u8")
    assert grant["stage"]["on_air"] is True
    # Off air there is nothing to play as HLS: the WebRTC grant (it shows "not broadcasting").
    Stage.objects.filter(session=session).update(on_air=False)
    assert media.stage_grant(viewer, session)["mode"] == "webrtc"


def test_the_recorder_writes_the_live_hls_beside_its_chunk(tmp_path):
    """The same encode goes to the chunk and to 1 s HLS segments (the tee muxer)."""
    live = tmp_path / "live"
    live.mkdir()
    output = tmp_path / "chunk_2.ts"
    item = recorder.Lineup(
        key="k",
        layout="solo",
        inputs=(recorder.Input(0, 21000, 21002),),
        source_address="127.0.0.1",
    )
    command = recorder.ffmpeg_command(tmp_path / "x.sdp", output, item, live=live)
    assert command[-2:] == ["-f", "tee"] or command[-3:-1] == ["-f", "tee"]
    # Run the same output part on a generated picture and tone for 3 s.
    tail = command[command.index("-map") :]
    tail = [
        arg.replace("[v]", "0:v").replace("[a]", "1:a") if arg in ("[v]", "[a]") else arg
        for arg in tail
    ]
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=1280x720:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine",
            "-t",
            "3",
            *tail,
        ],
        check=True,
        timeout=60,
    )
    assert output.stat().st_size > 0
    playlist = (live / "index.m3u8").read_text()
    assert "#EXT-X-TARGETDURATION:1" in playlist
    assert "chunk_2_00000.ts" in playlist and (live / "chunk_2_00000.ts").is_file()
    # A path the tee list cannot hold: only the chunk is written.
    odd = recorder.ffmpeg_command(tmp_path / "x.sdp", tmp_path / "a|b.ts", item, live=live)
    assert odd[-3:] == ["-f", "mpegts", str(tmp_path / "a|b.ts")]
