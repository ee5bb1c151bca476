"""Live captions (docs/media.md, "Live captions"): who may caption, the limits, the push to a
real hall socket, the WebVTT track kept with the broadcast's recording, and the speech-to-text
hook (the `live_captions` command)."""

import datetime as dt
import io
import json

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from conference.models import (
    LiveCaption,
    Recording,
    RecordingSource,
    RecordingStatus,
    Registration,
    RegistrationRole,
    Stage,
)
from conference.services.media import captions
from conference.services.media import stage as media
from conference.services.recordings import paths
from tests.live.conftest import connect
from tests.support.stage_world import people, session_on_now

CAPTION_URL = "/events/{slug}/sessions/{pk}/studio/caption/"


@pytest.fixture
def party(db, settings, tmp_path):
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    cache.clear()
    event, hall, session = session_on_now(started=5, left=60)
    roles = {
        "speaker": RegistrationRole.SPEAKER,
        "captioner": RegistrationRole.ATTENDEE,
        "moderator": RegistrationRole.MODERATOR,
        "attendee": RegistrationRole.ATTENDEE,
    }
    found = people(session, roles, speakers=["speaker"])
    session.captioners.add(found["captioner"])
    return {"event": event, "hall": hall, "session": session, **found}


def on_air(session, recording=None) -> Stage:
    stage, _ = Stage.objects.get_or_create(session=session)
    stage.on_air = True
    stage.recording = recording
    stage.save()
    return stage


def post(client, party, user, body):
    client.force_login(user)
    url = CAPTION_URL.format(slug=party["event"].slug, pk=party["session"].pk)
    return client.post(url, json.dumps(body), content_type="application/json")


def test_captioners_speakers_and_producers_caption_attendees_do_not(client, party, settings):
    settings.JANUS_WS_URLS = []  # captions need no media server
    on_air(party["session"])
    assert media.studio_access(party["captioner"], party["session"]).role == media.CAPTIONER
    for key in ("captioner", "speaker", "moderator"):
        answer = post(client, party, party[key], {"text": f"  said by\n{key}  "})
        assert answer.status_code == 201, answer.content
        assert answer.json()["text"] == f"said by {key}"
    refused = post(client, party, party["attendee"], {"text": "hello"})
    assert refused.status_code == 403
    assert LiveCaption.objects.filter(session=party["session"]).count() == 3
    # A captioner whose registration is cancelled is out of the studio.
    Registration.objects.filter(user=party["captioner"]).update(status="cancelled")
    assert post(client, party, party["captioner"], {"text": "x"}).status_code == 403


def test_a_captioner_is_never_put_on_the_stage(party):
    producer = media.studio_access(party["moderator"], party["session"])
    feed = media.feed_id(party["captioner"].pk, media.CAMERA)
    with pytest.raises(media.MediaRefused, match="speakers and producers can go live"):
        media._validate_feeds(party["session"], "solo", [feed], {feed: {"name": "C"}})
    assert producer.role == media.PRODUCER


def test_caption_limits(client, party):
    speaker = party["speaker"]
    off = post(client, party, speaker, {"text": "Too early"})
    assert off.status_code == 409
    assert "not broadcasting" in off.json()["error"]
    on_air(party["session"])
    assert post(client, party, speaker, {"text": ""}).status_code == 400
    assert post(client, party, speaker, {"text": "x" * 301}).status_code == 400
    assert post(client, party, speaker, {"text": "ok", "seconds": 60}).status_code == 400
    assert post(client, party, speaker, {"text": "ok", "seconds": "soon"}).status_code == 400
    cue = post(client, party, speaker, {"text": "a --> b <b>bold</b>", "seconds": 3}).json()
    assert cue["text"] == "a → b <b>bold</b>"
    length = dt.datetime.fromisoformat(cue["end"]) - dt.datetime.fromisoformat(cue["start"])
    assert length == dt.timedelta(seconds=3)
    answers = [post(client, party, speaker, {"text": f"line {n}"}).status_code for n in range(25)]
    assert answers.count(201) == captions.RATE_LIMIT - 1  # one cue above counted already
    assert answers[-1] == 429


def test_reading_time_sets_the_cue_length():
    assert captions.reading_seconds("ok") == captions.MIN_CUE_SECONDS
    assert captions.reading_seconds("x" * 75) == 5
    assert captions.reading_seconds("x" * 300) == captions.MAX_CUE_SECONDS


@pytest.mark.django_db(transaction=True)
async def test_a_cue_is_pushed_to_the_hall_socket(party):
    from channels.db import database_sync_to_async

    session = party["session"]
    await database_sync_to_async(on_air)(session)
    connected, ws = await connect(party["attendee"], party["hall"].pk)
    assert connected
    from tests.live.conftest import Client

    client = Client(ws)
    hello = await client.next_push()
    assert hello["event"] == "hello"
    await database_sync_to_async(captions.post_caption)(
        session, text="Statins first.", source="typed", author_id=party["speaker"].pk
    )
    while True:
        frame = await client.next_push(timeout=5)
        if frame.get("event") == "stage.caption":
            break
    data = frame["data"]
    assert "seq" not in frame
    assert (data["session"], data["text"]) == (session.pk, "Statins first.")
    assert set(data) == {"session", "id", "text", "start", "end"}
    await client.close()


def test_the_cues_become_the_recordings_webvtt_track(party):
    session = party["session"]
    start = timezone.now() - dt.timedelta(seconds=30)
    recording = Recording.objects.create(
        session=session,
        source=RecordingSource.STUDIO,
        status=RecordingStatus.CAPTURING,
        capture_starts_at=start,
        capture_ends_at=start + dt.timedelta(seconds=20),
    )
    on_air(session, recording)
    for offset, text, seconds in (
        (2, "Welcome & thanks.", 3),
        (4, "Second <cue>", 5),  # cut where the next starts
        (6, "Last one", 9),  # cut at the broadcast's end
        (25, "After the end", 2),  # after the broadcast: left out
    ):
        captions.post_caption(
            session,
            text=text,
            source="typed",
            seconds=seconds,
            now=start + dt.timedelta(seconds=offset),
        )
    LiveCaption.objects.filter(text="Last one").update(ends_at=start + dt.timedelta(seconds=29))
    assert captions.attach_to_recording(recording)
    track = recording.captions.get()
    assert (track.language, track.label, track.cue_count) == ("en", "Live captions", 3)
    text = (paths.recording_root(recording) / track.file_path).read_text()
    assert text.startswith("WEBVTT\n")
    assert "00:00:02.000 --> 00:00:04.000\nWelcome &amp; thanks." in text
    assert "00:00:04.000 --> 00:00:06.000\nSecond &lt;cue&gt;" in text
    assert "00:00:06.000 --> 00:00:20.000\nLast one" in text
    assert "After the end" not in text
    # A broadcast without cues gets no track.
    other = Recording.objects.create(
        session=session, source=RecordingSource.STUDIO, capture_starts_at=start
    )
    assert captions.attach_to_recording(other) is False


def test_the_speech_to_text_command(party, monkeypatch):
    session = party["session"]
    on_air(session)
    lines = "\n".join(
        [
            "First words from the service",
            json.dumps({"text": "Timed cue", "seconds": 4}),
            "{not json",
            "",
            "y" * 400,
        ]
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(lines + "\n"))
    errors = io.StringIO()
    with pytest.raises(CommandError, match="2 line"):
        call_command("live_captions", str(session.pk), "--name", "Whisper", stderr=errors)
    cues = list(LiveCaption.objects.filter(session=session).order_by("pk"))
    assert [c.text for c in cues] == ["First words from the service", "Timed cue"]
    assert {c.source for c in cues} == {"service"}
    assert cues[0].author_name == "Whisper"
    assert (cues[1].ends_at - cues[1].starts_at) == dt.timedelta(seconds=4)
    said = errors.getvalue()
    assert "line 3: not a JSON object" in said and "line 5: A caption has 1 to 300" in said
    with pytest.raises(CommandError, match="No session"):
        call_command("live_captions", "999999")
