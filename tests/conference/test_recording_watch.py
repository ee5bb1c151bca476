"""Watching recordings: page access, signed media URLs, playlists, heartbeats and resume."""

import datetime as dt
import json
import re
import time

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from conference.models import (
    EnduringActivity,
    PostTest,
    Recording,
    RecordingStatus,
    RegistrationStatus,
    WatchProgress,
    WatchSpan,
)
from conference.services.recordings import access, serving, watching
from conference.services.recordings.pipeline import process_recording
from tests.factories import (
    EventFactory,
    MembershipFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    UserFactory,
)
from tests.support.recording import make_test_video, needs_ffmpeg
from tests.support.recording_pipeline import recording_with_source
from tests.support.recording_watch import event_in_demo_venue, publish_test_recording

pytestmark = [pytest.mark.django_db, needs_ffmpeg]

URI_LINE = re.compile(r"^[^#\s].*$", re.MULTILINE)


@pytest.fixture(autouse=True)
def fresh_recordings(recordings_root):
    """Every test: a recordings folder of its own and an empty cache (watch grants, limits)."""
    cache.clear()


@pytest.fixture
def world():
    """Two events, each with an attendee and a ready recording."""
    event_a = EventFactory(title="Cardiology 2026")
    event_b = EventFactory(title="Neurology 2026")
    session_a = SessionFactory(event=event_a, title="Heart failure update")
    session_b = SessionFactory(event=event_b, title="Stroke update")
    attendee_a = RegistrationFactory(event=event_a).user
    attendee_b = RegistrationFactory(event=event_b).user
    return {
        "event_a": event_a,
        "event_b": event_b,
        "session_a": session_a,
        "recording_a": publish_test_recording(session_a),
        "recording_b": publish_test_recording(session_b, captions=()),
        "attendee_a": attendee_a,
        "attendee_b": attendee_b,
    }


def _client(user=None, **options) -> Client:
    client = Client(**options)
    if user is not None:
        client.force_login(user)
    return client


def _detail(recording) -> str:
    return reverse("recordings:detail", kwargs={"recording_id": recording.pk})


def _token(recording, user, **options) -> str:
    return access.sign_watch_token(recording, user=user, **options)


def _file_url(recording, user, name, **options) -> str:
    return access.media_url(recording, _token(recording, user, **options), name)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- the page --------------------------------------------------------------------------------


def test_detail_attendee_sees_player_with_signed_master(world):
    recording = world["recording_a"]
    response = _client(world["attendee_a"]).get(_detail(recording))

    assert response.status_code == 200
    html = response.content.decode()
    master = re.search(r'data-master-url="([^"]+)"', html)[1]
    assert master.startswith(f"/recordings/{recording.pk}/files/{world['attendee_a'].pk}.")
    assert master.endswith("/master.m3u8")
    assert html.count('<track kind="captions"') == 2
    assert 'srclang="es" label="Español"' in html
    assert "Case discussion" in html and 'data-start="2.000"' in html
    assert "poster.jpg" in html
    assert response["Cache-Control"] == "private, no-store"


def test_detail_other_event_attendee_forbidden(world):
    response = _client(world["attendee_b"]).get(_detail(world["recording_a"]))
    assert response.status_code == 403


def test_detail_anonymous_redirected_to_login(world):
    url = _detail(world["recording_a"])
    response = _client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "next=" in response["Location"]


def test_detail_public_release_open_to_anonymous(world):
    world["event_a"].recordings_public = True
    world["event_a"].save()
    response = _client().get(_detail(world["recording_a"]))
    assert response.status_code == 200
    assert "/files/public." in response.content.decode()
    # An anonymous viewer gets no heartbeat endpoint (nothing to keep evidence for).
    assert 'data-heartbeat-url=""' in response.content.decode()


def test_detail_unpublished_event_is_404_even_for_attendee(world):
    world["event_a"].is_published = False
    world["event_a"].save()
    response = _client(world["attendee_a"]).get(_detail(world["recording_a"]))
    assert response.status_code == 404


def test_detail_recording_not_ready_is_404(world):
    Recording.objects.filter(pk=world["recording_a"].pk).update(status=RecordingStatus.PROCESSING)
    response = _client(world["attendee_a"]).get(_detail(world["recording_a"]))
    assert response.status_code == 404


def test_detail_speaker_and_organizer_staff_may_watch(world):
    speaker_user = UserFactory()
    speaker = SpeakerFactory(event=world["event_a"], user=speaker_user)
    world["session_a"].speakers.add(speaker)
    staff = MembershipFactory(organizer=world["event_a"].organizer).user
    stranger = UserFactory()

    assert _client(speaker_user).get(_detail(world["recording_a"])).status_code == 200
    assert _client(staff).get(_detail(world["recording_a"])).status_code == 200
    assert _client(stranger).get(_detail(world["recording_a"])).status_code == 403


def test_detail_cancelled_registration_forbidden(world):
    user = RegistrationFactory(event=world["event_a"], status=RegistrationStatus.CANCELLED).user
    assert _client(user).get(_detail(world["recording_a"])).status_code == 403


def test_detail_shows_resume_position_and_progress(world):
    recording, user = world["recording_a"], world["attendee_a"]
    WatchProgress.objects.create(
        recording=recording, user=user, position_seconds="2.5", ranges=[[0, 2.5]],
        watched_seconds="2.5",
    )  # fmt: skip
    html = _client(user).get(_detail(recording)).content.decode()
    assert 'data-resume="2.500"' in html
    assert "You left off at 0:02" in html


def test_detail_resume_restarts_after_the_end(world):
    recording, user = world["recording_a"], world["attendee_a"]
    WatchProgress.objects.create(recording=recording, user=user, position_seconds="3.9")
    html = _client(user).get(_detail(recording)).content.decode()
    assert 'data-resume="0.000"' in html


def test_detail_links_enduring_post_test_when_published(world):
    session = world["session_a"]
    post_test = PostTest.objects.create(event=world["event_a"])
    activity = EnduringActivity.objects.create(
        session=session,
        release_date=dt.date(2026, 12, 1),
        review_date=dt.date(2026, 11, 30),
        expiry_date=dt.date(2029, 12, 1),
        post_test=post_test,
        is_published=False,
    )
    client = _client(world["attendee_a"])
    assert "Earn CME credit" not in client.get(_detail(world["recording_a"])).content.decode()
    activity.is_published = True
    activity.save()
    html = client.get(_detail(world["recording_a"])).content.decode()
    assert "Earn CME credit (post-test)" in html
    assert reverse("cme:enduring", kwargs={"activity_id": activity.pk}) in html


def test_session_page_links_recording_only_for_viewers(world):
    session = world["session_a"]
    url = reverse(
        "conference:session-detail",
        kwargs={"event_slug": world["event_a"].slug, "session_id": session.pk},
    )
    watch = _detail(world["recording_a"])
    assert watch in _client(world["attendee_a"]).get(url).content.decode()
    assert "Watch the recording" not in _client(world["attendee_b"]).get(url).content.decode()
    assert "Watch the recording" not in _client().get(url).content.decode()


# --- signed files ----------------------------------------------------------------------------


def test_master_and_media_playlists_sign_every_uri(world):
    recording, user = world["recording_a"], world["attendee_a"]
    client = _client(user)
    master = client.get(_file_url(recording, user, "master.m3u8"))

    assert master.status_code == 200
    assert master["Content-Type"] == "application/vnd.apple.mpegurl"
    assert master["Cache-Control"].startswith("private")
    uris = URI_LINE.findall(master.content.decode())
    assert uris and all(
        re.match(rf"^/recordings/{recording.pk}/files/{user.pk}\.\d+\.[0-9a-f]{{64}}/", uri)
        for uri in uris
    )
    media = client.get(uris[0])
    assert media.status_code == 200
    segments = URI_LINE.findall(media.content.decode())
    assert len(segments) == 4
    assert all(re.match(rf"^/recordings/{recording.pk}/files/{user.pk}\.", s) for s in segments)
    assert all(s.endswith(".ts") and "/360p/" in s for s in segments)


def test_segment_valid_token_serves_exact_bytes(world, recordings_root):
    recording, user = world["recording_a"], world["attendee_a"]
    response = _client(user).get(_file_url(recording, user, "360p/seg_00001.ts"))

    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp2t"
    assert response["Cache-Control"].startswith("private")
    on_disk = (recordings_root / str(recording.pk) / "gen-1" / "360p" / "seg_00001.ts").read_bytes()
    assert _body(response) == on_disk


def test_range_request_returns_partial_content(world, recordings_root):
    recording, user = world["recording_a"], world["attendee_a"]
    url = _file_url(recording, user, "360p/seg_00000.ts")
    response = _client(user).get(url, HTTP_RANGE="bytes=10-29")
    on_disk = (recordings_root / str(recording.pk) / "gen-1" / "360p" / "seg_00000.ts").read_bytes()

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 10-29/{len(on_disk)}"
    assert _body(response) == on_disk[10:30]
    assert _client(user).get(url, HTTP_RANGE="bytes=999999999-").status_code == 416


def test_poster_chapters_and_caption_content_types(world):
    recording, user = world["recording_a"], world["attendee_a"]
    client = _client(user)
    token = _token(recording, user)
    poster = client.get(access.media_url(recording, token, "poster.jpg"))
    chapters = client.get(access.media_url(recording, token, "chapters.vtt"))
    caption = client.get(access.caption_url(recording, token, "es"))

    assert (poster.status_code, poster["Content-Type"]) == (200, "image/jpeg")
    assert _body(poster)[:3] == b"\xff\xd8\xff"
    assert chapters["Content-Type"].startswith("text/vtt")
    assert caption["Content-Type"].startswith("text/vtt")
    assert b"[Espa" in _body(caption)
    assert client.get(access.caption_url(recording, token, "fr")).status_code == 404


def test_token_of_another_recording_refused(world):
    """Event B's attendee, with a valid token for B's recording, cannot open A's files."""
    recording_a, recording_b = world["recording_a"], world["recording_b"]
    user_b = world["attendee_b"]
    token_b = _token(recording_b, user_b)
    client = _client(user_b)

    assert client.get(access.media_url(recording_b, token_b, "master.m3u8")).status_code == 200
    for name in ("master.m3u8", "360p/index.m3u8", "360p/seg_00000.ts"):
        assert client.get(access.media_url(recording_a, token_b, name)).status_code == 403
    assert client.get(access.caption_url(recording_a, token_b, "en")).status_code == 403


def test_token_used_by_another_viewer_refused(world):
    recording, owner = world["recording_a"], world["attendee_a"]
    colleague = RegistrationFactory(event=world["event_a"]).user
    url = _file_url(recording, owner, "360p/seg_00000.ts")
    assert _client(colleague).get(url).status_code == 403
    assert _client().get(url).status_code == 403


def test_tampered_token_refused(world):
    recording, user = world["recording_a"], world["attendee_a"]
    token = _token(recording, user)
    viewer, expiry, signature = token.split(".")
    flipped = "0" if signature[-1] != "0" else "1"
    client = _client(user)
    for bad in (
        f"{viewer}.{expiry}.{signature[:-1]}{flipped}",
        f"{viewer}.{int(expiry) + 3600}.{signature}",
        f"public.{expiry}.{signature}",
        "nonsense",
    ):
        url = access.media_url(recording, bad, "360p/seg_00000.ts")
        assert client.get(url).status_code == 403, bad


def test_expired_token_refused(world, settings):
    recording, user = world["recording_a"], world["attendee_a"]
    past = time.time() - settings.RECORDING_URL_TTL_SECONDS - 5
    url = _file_url(recording, user, "360p/seg_00000.ts", now=past)
    response = _client(user).get(url)
    assert response.status_code == 403
    assert b"expired" in response.content


def test_token_of_an_older_generation_refused(world):
    recording, user = world["recording_a"], world["attendee_a"]
    url = _file_url(recording, user, "master.m3u8")
    Recording.objects.filter(pk=recording.pk).update(published_dir="gen-2")
    assert _client(user).get(url).status_code == 403


@pytest.mark.parametrize(
    "suffix",
    [
        "..%2F..%2Fsource%2Fvideo.mp4",
        "../../source/video.mp4",
        "..%2Fgen-1%2Fmaster.m3u8",
        "360p/..%2F..%2Fcaptions%2Fen.vtt",
        "%2e%2e/%2e%2e/captions/en.vtt",
        "master.m3u8.bak",
        "360p/seg_00000.ts%00.jpg",
        "360p/nothere.ts",
        "a/b/c.ts",
    ],
)
def test_traversal_attempts_never_serve_files(world, suffix):
    recording, user = world["recording_a"], world["attendee_a"]
    token = _token(recording, user)
    url = f"/recordings/{recording.pk}/files/{token}/{suffix}"
    assert _client(user).get(url).status_code in (403, 404)


def test_cancelled_registration_loses_access_on_playlist_reload(world):
    recording, user = world["recording_a"], world["attendee_a"]
    url = _file_url(recording, user, "master.m3u8")
    client = _client(user)
    assert client.get(url).status_code == 200
    user.registrations.update(status=RegistrationStatus.CANCELLED)
    assert client.get(url).status_code == 403


def test_public_token_stops_when_release_withdrawn(world):
    event, recording = world["event_a"], world["recording_a"]
    event.recordings_public = True
    event.save()
    from django.contrib.auth.models import AnonymousUser

    url = _file_url(recording, AnonymousUser(), "master.m3u8")
    assert _client().get(url).status_code == 200
    event.recordings_public = False
    event.save()
    assert _client().get(url).status_code == 403


def test_rewrite_playlist_signs_attribute_uris_and_refuses_escapes():
    text = (
        "#EXTM3U\n"
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/index.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO="a"\n720p/index.m3u8\n'
    )
    out = serving.rewrite_playlist(text, "master.m3u8", lambda name: f"/signed/{name}")
    assert 'URI="/signed/audio/index.m3u8"' in out
    assert "\n/signed/720p/index.m3u8\n" in out
    media = serving.rewrite_playlist(
        '#EXT-X-MAP:URI="init.mp4"\nseg_1.m4s\n', "720p/index.m3u8", lambda n: f"/s/{n}"
    )
    assert 'URI="/s/720p/init.mp4"' in media and "/s/720p/seg_1.m4s" in media
    for escape in ("../../source/video.mp4", "https://evil.example/x.ts", "/etc/passwd"):
        with pytest.raises(serving.NotServable):
            serving.rewrite_playlist(f"{escape}\n", "720p/index.m3u8", str)


# --- heartbeats ------------------------------------------------------------------------------


def _beat(client, recording, body, *, content_type="application/json"):
    url = reverse("recordings:heartbeat", kwargs={"recording_id": recording.pk})
    data = json.dumps(body) if content_type == "application/json" else body
    return client.post(url, data, content_type=content_type)


def test_heartbeats_append_spans_and_merge_ranges(world):
    recording, user = world["recording_a"], world["attendee_a"]
    client = _client(user)
    for body in (
        {"from": 0, "to": 1.2, "position": 1.2},
        {"from": 2.5, "to": 3.5, "position": 3.5},
    ):
        assert _beat(client, recording, body).status_code == 200
    response = _beat(client, recording, {"from": 1.0, "to": 2.6, "position": 2.6})

    assert response.status_code == 200
    assert response.json() == {"position": 2.6, "watched_seconds": 3.5, "ranges": [[0.0, 3.5]]}
    assert WatchSpan.objects.filter(recording=recording, user=user).count() == 3
    progress = WatchProgress.objects.get(recording=recording, user=user)
    assert str(progress.watched_seconds) == "3.500"
    assert 'data-resume="2.600"' in client.get(_detail(recording)).content.decode()


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"from": 2, "to": 1}, "0 <= from < to"),
        ({"from": -1, "to": 1}, "0 <= from < to"),
        ({"from": 0, "to": 99}, "0 <= from < to"),
        ({"from": "NaN", "to": 1}, "finite"),
        ({"from": "Infinity", "to": 1}, "finite"),
        ({"from": "abc", "to": 1}, "number"),
        ({"from": True, "to": 1}, "number"),
        ({"to": 1}, "'from'"),
        ({"from": 0, "to": 1, "position": 50}, "position"),
        ([1, 2], "object"),
    ],
)
def test_heartbeat_bad_input_is_400_with_reason(world, body, fragment):
    recording = world["recording_a"]
    response = _beat(_client(world["attendee_a"]), recording, body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert not WatchSpan.objects.exists()


def test_heartbeat_span_too_long_rejected(world, settings):
    recording = world["recording_a"]
    Recording.objects.filter(pk=recording.pk).update(duration_seconds=600)
    recording.refresh_from_db()
    response = _beat(_client(world["attendee_a"]), recording, {"from": 0, "to": 100})
    assert response.status_code == 400
    assert "at most" in response.json()["error"]


def test_heartbeat_malformed_json_is_400(world):
    url = reverse("recordings:heartbeat", kwargs={"recording_id": world["recording_a"].pk})
    response = _client(world["attendee_a"]).post(url, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_heartbeat_refused_for_anonymous_and_non_attendee(world):
    recording = world["recording_a"]
    assert _beat(_client(), recording, {"from": 0, "to": 1}).status_code == 403
    assert _beat(_client(world["attendee_b"]), recording, {"from": 0, "to": 1}).status_code == 403
    assert not WatchSpan.objects.exists()


def test_heartbeat_rate_limited(world):
    recording = world["recording_a"]
    client = _client(world["attendee_a"])
    statuses = [
        _beat(client, recording, {"from": 0, "to": 1}).status_code
        for _ in range(watching.RATE_LIMIT + 2)
    ]
    assert statuses[: watching.RATE_LIMIT] == [200] * watching.RATE_LIMIT
    assert statuses[-1] == 429
    assert WatchSpan.objects.count() == watching.RATE_LIMIT


def test_beacon_form_heartbeat_with_csrf_token(world):
    recording, user = world["recording_a"], world["attendee_a"]
    client = _client(user, enforce_csrf_checks=True)
    page = client.get(_detail(recording)).content.decode()
    csrf = re.search(r'data-csrf="([^"]+)"', page)[1]
    url = reverse("recordings:heartbeat", kwargs={"recording_id": recording.pk})
    form = "application/x-www-form-urlencoded"

    denied = client.post(url, "from=0&to=1.5&position=1.5", content_type=form)
    accepted = client.post(
        url, f"from=0&to=1.5&position=1.5&csrfmiddlewaretoken={csrf}", content_type=form
    )
    assert denied.status_code == 403
    assert accepted.status_code == 200
    assert accepted.json()["ranges"] == [[0.0, 1.5]]


# --- pure functions --------------------------------------------------------------------------


def test_merge_ranges_joins_overlaps_and_keeps_gaps():
    ranges = watching.merge_ranges([], 10, 20)
    ranges = watching.merge_ranges(ranges, 30, 40)
    assert ranges == [[10.0, 20.0], [30.0, 40.0]]
    assert watching.merge_ranges(ranges, 20.3, 30) == [[10.0, 40.0]]
    assert watching.merge_ranges(ranges, 0, 5) == [[0.0, 5.0], [10.0, 20.0], [30.0, 40.0]]
    assert watching.covered_seconds([[0, 5], [10, 20]]) == 15


def test_parse_chapters_reads_cues_and_skips_garbage():
    text = (
        "\ufeffWEBVTT\n\nintro\n00:00:00.000 --> 00:01:00.000\nWelcome <b>all</b>\n\n"
        "garbage line\n\n01:00.000 --> 02:00.000\nMethods\n\n1:02:03.500 --> 1:03:00.000\nLate\n"
    )
    chapters = watching.parse_chapters(text)
    assert [c.title for c in chapters] == ["Welcome <b>all</b>", "Methods", "Late"]
    assert [c.start for c in chapters] == [0.0, 60.0, 3723.5]
    assert chapters[2].label == "1:02:03"


# --- the hall's screen in the venue ----------------------------------------------------------


@pytest.fixture
def hall_world():
    venue, event, moment = event_in_demo_venue()
    auditorium = venue.halls.get(slug="auditorium")
    earlier = SessionFactory(
        event=event,
        hall=auditorium,
        title="Morning plenary",
        starts_at=moment - dt.timedelta(hours=2),
        ends_at=moment - dt.timedelta(hours=1),
    )
    return {
        "event": event,
        "auditorium": auditorium,
        "moment": moment,
        "earlier": earlier,
        "recording": publish_test_recording(earlier),
        "attendee": RegistrationFactory(event=event).user,
        "url": reverse("venue:hall", kwargs={"event_slug": event.slug, "hall_slug": "auditorium"}),
    }


def test_hall_screen_plays_recording_after_the_session(hall_world):
    user, recording = hall_world["attendee"], hall_world["recording"]
    html = _client(user).get(hall_world["url"]).content.decode()

    assert 'id="hall-recording"' in html
    assert f'data-master-url="/recordings/{recording.pk}/files/{user.pk}.' in html
    assert _detail(recording) in html
    # The signed URL is per viewer, so it stays out of the shared manifest.
    assert "/files/" not in re.search(r'id="venue-manifest"[^>]*>(.*?)</script>', html, re.S)[1]


def test_hall_screen_keeps_live_session_while_one_is_on(hall_world):
    moment = hall_world["moment"]
    SessionFactory(
        event=hall_world["event"],
        hall=hall_world["auditorium"],
        title="Live now",
        starts_at=moment - dt.timedelta(minutes=5),
        ends_at=moment + dt.timedelta(minutes=55),
    )
    html = _client(hall_world["attendee"]).get(hall_world["url"]).content.decode()
    # Nothing autoplays: the player waits, hidden, for "Play here" (tests/conference/
    # test_hall_recordings.py); the live session keeps the screen.
    assert not _autoplaying(html)
    assert 'id="hall-recording-slot" hidden' in html


def _autoplaying(html: str) -> bool:
    video = re.search(r'<video id="hall-recording"[^>]*>', html, re.S)
    return bool(video) and "data-master-url" in video[0]


def test_hall_screen_only_replays_the_latest_session(hall_world):
    moment = hall_world["moment"]
    SessionFactory(
        event=hall_world["event"],
        hall=hall_world["auditorium"],
        title="Unrecorded session",
        starts_at=moment - dt.timedelta(minutes=50),
        ends_at=moment - dt.timedelta(minutes=10),
    )
    html = _client(hall_world["attendee"]).get(hall_world["url"]).content.decode()
    assert not _autoplaying(html)
    # The older recording stays reachable from the hall's list.
    assert "Recordings from this hall" in html


# --- the real pipeline's output --------------------------------------------------------------


def test_pipeline_output_is_served_with_every_uri_signed(world, tmp_path):
    """A recording processed by the pipeline: master, media playlists and segments all open."""
    source = make_test_video(tmp_path / "talk.mp4", seconds=3, size="640x360")
    recording = recording_with_source(source, session=world["session_a"])
    recording = process_recording(recording.pk)
    assert recording.status == RecordingStatus.READY
    user = world["attendee_a"]
    client = _client(user)

    master = client.get(_file_url(recording, user, "master.m3u8"))
    assert master.status_code == 200
    playlists = URI_LINE.findall(master.content.decode())
    assert playlists
    for playlist in playlists:
        media = client.get(playlist)
        assert media.status_code == 200, playlist
        segments = URI_LINE.findall(media.content.decode())
        assert segments and all(f"/files/{user.pk}." in s for s in segments)
        first = client.get(segments[0])
        assert (first.status_code, first["Content-Type"]) == (200, "video/mp2t")
    html = client.get(_detail(recording)).content.decode()
    assert 'class="chapter"' in html and "poster.jpg" in html


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 9)),
        ("bytes=90-", (90, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=95-200", (95, 99)),
        ("bytes=100-", None),
        ("bytes=9-3", None),
        ("bytes=-", None),
        ("bytes=0-1,5-6", None),
        ("items=0-9", None),
    ],
)
def test_parse_range_single_ranges_only(header, expected):
    assert serving.parse_range(header, 100) == expected
