"""A hall's earlier recordings in the venue ("Recordings from this hall", "Play here").

The list is per viewer (signed URLs), so it is rendered into the page and never into the
shared manifest; it is there while a session is live, and the live behaviour is unchanged.
"""

import datetime as dt
import json
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conference.models import Recording, RecordingStatus, RegistrationStatus, WatchProgress
from conference.services.recordings import access, watching
from tests.factories import (
    EventFactory,
    MembershipFactory,
    RegistrationFactory,
    SessionFactory,
    SpeakerFactory,
    UserFactory,
)
from tests.support.recording_watch import event_in_demo_venue, publish_test_recording

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_recordings(recordings_root):
    """Every test: a recordings folder of its own and an empty cache (watch grants, limits)."""
    cache.clear()


@pytest.fixture
def seminar():
    """The demo venue; in its seminar hall a session is live and an earlier one is recorded."""
    venue, event, moment = event_in_demo_venue(timezone="America/Chicago")
    hall = venue.halls.get(slug="seminar")
    earlier = SessionFactory(
        event=event,
        hall=hall,
        title="ECG pitfalls",
        starts_at=moment - dt.timedelta(hours=3),
        ends_at=moment - dt.timedelta(hours=2),
    )
    live = SessionFactory(
        event=event,
        hall=hall,
        title="Workshop: point-of-care echocardiography",
        starts_at=moment - dt.timedelta(minutes=10),
        ends_at=moment + dt.timedelta(minutes=50),
    )
    return {
        "venue": venue,
        "event": event,
        "hall": hall,
        "moment": moment,
        "earlier": earlier,
        "live": live,
        "recording": publish_test_recording(earlier),
        "attendee": RegistrationFactory(event=event).user,
        "url": reverse("venue:hall", kwargs={"event_slug": event.slug, "hall_slug": "seminar"}),
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(user, url) -> str:
    response = _client(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def _listed_ids(html: str) -> list[int]:
    return [
        int(i)
        for i in re.findall(
            r'<li class="hall-recordings__item[^"]*" data-recording-id="(\d+)"', html
        )
    ]


def _earlier_session(world, title: str, hours_ago: float):
    moment = world["moment"]
    return SessionFactory(
        event=world["event"],
        hall=world["hall"],
        title=title,
        starts_at=moment - dt.timedelta(hours=hours_ago + 1),
        ends_at=moment - dt.timedelta(hours=hours_ago),
    )


def test_hall_lists_earlier_recording_while_a_session_is_live(seminar):
    user, recording = seminar["attendee"], seminar["recording"]
    html = _page(user, seminar["url"])

    assert "Recordings from this hall" in html
    assert _listed_ids(html) == [recording.pk]
    assert "ECG pitfalls" in html
    # Time in the event's zone (America/Chicago), not UTC.
    local = timezone.localtime(seminar["earlier"].starts_at, seminar["event"].tzinfo)
    assert f"{local:%H:%M}–" in html
    assert local.tzname() in html
    assert f'data-master-url="/recordings/{recording.pk}/files/{user.pk}.' in html
    assert reverse("recordings:detail", kwargs={"recording_id": recording.pk}) in html
    assert ">Play here</button>" in html
    # The live state is unchanged: no recording autoplays; the player waits hidden for "Play here".
    assert 'id="hall-recording-slot" hidden' in html
    assert "data-master-url" not in re.search(r'<video id="hall-recording"[^>]*>', html)[0]
    assert 'id="hall-back-to-live"' in html
    assert 'role="status"' in html
    # Signed URLs are per viewer: never in the shared manifest.
    manifest = re.search(r'id="venue-manifest"[^>]*>(.*?)</script>', html, re.S)[1]
    assert "/files/" not in manifest


def test_hall_lists_newest_first_and_one_entry_per_session(seminar):
    older = _earlier_session(seminar, "Arrhythmia basics", hours_ago=5)
    older_recording = publish_test_recording(older)
    newer = _earlier_session(seminar, "Heart sounds", hours_ago=1)
    newer_recording = publish_test_recording(newer)
    replaced = publish_test_recording(newer, generation=2)  # a re-published one of the same session

    html = _page(seminar["attendee"], seminar["url"])

    assert _listed_ids(html) == [replaced.pk, seminar["recording"].pk, older_recording.pk]
    assert newer_recording.pk not in _listed_ids(html)


def test_hall_list_leaves_out_not_ready_other_halls_other_events_and_future(seminar):
    event, hall, moment = seminar["event"], seminar["hall"], seminar["moment"]
    processing = publish_test_recording(_earlier_session(seminar, "Still processing", 6))
    Recording.objects.filter(pk=processing.pk).update(status=RecordingStatus.PROCESSING)
    failed = publish_test_recording(_earlier_session(seminar, "Unpublished files", 7))
    Recording.objects.filter(pk=failed.pk).update(published_dir="")
    other_hall = publish_test_recording(
        SessionFactory(
            event=event,
            hall=seminar["venue"].halls.get(slug="auditorium"),
            starts_at=moment - dt.timedelta(hours=3),
            ends_at=moment - dt.timedelta(hours=2),
        )
    )
    other_event = EventFactory(venue=seminar["venue"], organizer=event.organizer)
    foreign = publish_test_recording(
        SessionFactory(
            event=other_event,
            hall=hall,
            starts_at=moment - dt.timedelta(hours=4),
            ends_at=moment - dt.timedelta(hours=3, minutes=30),
        )
    )
    # The live session's own (say, an early upload) is not an earlier recording.
    live_recording = publish_test_recording(seminar["live"])

    listed = _listed_ids(_page(seminar["attendee"], seminar["url"]))

    assert listed == [seminar["recording"].pk]
    for left_out in (processing, failed, other_hall, foreign, live_recording):
        assert left_out.pk not in listed


def test_hall_list_empty_for_staff_of_an_unpublished_event(seminar):
    # Staff may enter the venue of an unpublished event, but nobody may watch its recordings.
    event = seminar["event"]
    event.is_published = False
    event.save()
    staff = MembershipFactory(organizer=event.organizer).user

    html = _page(staff, seminar["url"])

    assert "Recordings from this hall" not in html
    assert 'id="hall-recording"' not in html


def test_hall_recordings_service_filters_by_may_watch(seminar):
    event, hall = seminar["event"], seminar["hall"]
    recording = seminar["recording"]
    speaker_user = UserFactory()
    seminar["earlier"].speakers.add(SpeakerFactory(event=event, user=speaker_user))
    viewers = {
        "attendee": seminar["attendee"],
        "speaker": speaker_user,
        "staff": MembershipFactory(organizer=event.organizer).user,
        "stranger": UserFactory(),
        "other event attendee": RegistrationFactory(event=EventFactory()).user,
        "cancelled": RegistrationFactory(event=event, status=RegistrationStatus.CANCELLED).user,
    }
    for name, user in viewers.items():
        entries = watching.hall_recordings(event, hall.pk, user=user, moment=timezone.now())
        expected = [recording.pk] if access.may_watch(user, recording) else []
        assert [e["id"] for e in entries] == expected, name
    assert access.may_watch(viewers["speaker"], recording)
    assert not access.may_watch(viewers["stranger"], recording)

    event.recordings_public = True
    event.save()
    recording.refresh_from_db()
    entries = watching.hall_recordings(
        event, hall.pk, user=viewers["stranger"], moment=timezone.now()
    )
    assert [e["id"] for e in entries] == [recording.pk]


def test_hall_recordings_carry_resume_position(seminar):
    user, recording = seminar["attendee"], seminar["recording"]
    WatchProgress.objects.create(recording=recording, user=user, position_seconds=1.5)

    (entry,) = watching.hall_recordings(
        seminar["event"], seminar["hall"].pk, user=user, moment=timezone.now()
    )

    assert entry["resume"] == 1.5
    assert entry["title"] == "ECG pitfalls"
    assert entry["heartbeat_url"] == reverse(
        "recordings:heartbeat", kwargs={"recording_id": recording.pk}
    )


def test_hall_recordings_carry_signed_captions_and_chapters(seminar):
    user, recording = seminar["attendee"], seminar["recording"]

    (entry,) = watching.hall_recordings(
        seminar["event"], seminar["hall"].pk, user=user, moment=timezone.now()
    )

    assert [(c["srclang"], c["label"]) for c in entry["captions"]] == [
        ("en", "English"),
        ("es", "Español"),
    ]
    for caption in entry["captions"]:
        # Signed for this viewer, exactly as the recording page builds them.
        token = re.search(rf"/recordings/{recording.pk}/captions/([^/]+)/", caption["url"])[1]
        watch = access.read_watch_token(token, recording)
        assert watch.viewer == access.viewer_of(user)
        assert caption["url"] == access.caption_url(recording, token, caption["srclang"])
    assert entry["chapters"] == [
        {"start": 0.0, "title": "Welcome and objectives"},
        {"start": 2.0, "title": "Case discussion"},
    ]


def test_hall_recording_without_chapters_or_captions_has_empty_lists(seminar):
    bare = publish_test_recording(
        _earlier_session(seminar, "No extras", hours_ago=1), chapters=(), captions=()
    )

    entries = watching.hall_recordings(
        seminar["event"], seminar["hall"].pk, user=seminar["attendee"], moment=timezone.now()
    )

    assert entries[0]["id"] == bare.pk
    assert entries[0]["captions"] == [] and entries[0]["chapters"] == []


def test_hall_page_carries_captions_and_chapters_for_the_player(seminar):
    user, recording = seminar["attendee"], seminar["recording"]
    html = _page(user, seminar["url"])

    media = json.loads(re.search(r'id="hall-recording-media"[^>]*>(.*?)</script>', html, re.S)[1])
    entry = media[str(recording.pk)]
    assert [c["srclang"] for c in entry["captions"]] == ["en", "es"]
    assert entry["captions"][0]["url"].startswith(f"/recordings/{recording.pk}/captions/{user.pk}.")
    assert [c["title"] for c in entry["chapters"]] == ["Welcome and objectives", "Case discussion"]
    # The signed caption URL really serves the captions to this viewer.
    response = _client(user).get(entry["captions"][0]["url"])
    assert response.status_code == 200
    assert b"[English] Test pattern" in b"".join(response.streaming_content)
    # The panel's caption menu and chapter list are there, waiting for a recording.
    assert '<label for="hall-recording-captions">Captions</label>' in html
    assert 'id="hall-recording-chapters"' in html
    # Per viewer: never in the shared manifest.
    manifest = re.search(r'id="venue-manifest"[^>]*>(.*?)</script>', html, re.S)[1]
    assert "/captions/" not in manifest


def test_hall_without_live_session_keeps_autoplaying_the_latest_and_lists_it(seminar):
    seminar["live"].delete()
    html = _page(seminar["attendee"], seminar["url"])

    video = re.search(r'<video id="hall-recording"[^>]*>', html, re.S)[0]
    assert f'data-master-url="/recordings/{seminar["recording"].pk}/files/' in video
    assert 'id="hall-back-to-live"' not in html
    assert _listed_ids(html) == [seminar["recording"].pk]
    assert 'class="hall-recordings__item is-playing"' in html
    assert 'hidden aria-current="true"' in html


def test_lobby_has_no_recording_list(seminar):
    url = reverse("venue:lobby", kwargs={"event_slug": seminar["event"].slug})
    assert "Recordings from this hall" not in _page(seminar["attendee"], url)


def _hall_queries(world) -> int:
    client = _client(world["attendee"])
    client.get(world["url"])  # warm caches (session, site, ...)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(world["url"])
    assert response.status_code == 200
    return len(queries)


def test_hall_page_query_count_does_not_grow_with_recordings(seminar):
    one = _hall_queries(seminar)
    for index in range(2):
        publish_test_recording(_earlier_session(seminar, f"Extra session {index}", 4 + index))
    three = _hall_queries(seminar)

    assert len(_listed_ids(_page(seminar["attendee"], seminar["url"]))) == 3
    assert three == one


def test_hall_recordings_service_query_count_is_fixed(seminar, django_assert_max_num_queries):
    for index in range(2):
        publish_test_recording(_earlier_session(seminar, f"Extra session {index}", 4 + index))
    # The recordings, the may-watch checks (3), the resume positions, the captions.
    with django_assert_max_num_queries(6):
        entries = watching.hall_recordings(
            seminar["event"], seminar["hall"].pk, user=seminar["attendee"], moment=timezone.now()
        )
    assert len(entries) == 3
