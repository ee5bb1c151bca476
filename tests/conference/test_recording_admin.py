"""Recordings in the organizers' admin: upload checked by content, limits, status, scoping."""

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client

from conference.models import Recording, RecordingCaption, RecordingStatus
from tests.factories import (
    EventFactory,
    MembershipFactory,
    OrganizerFactory,
    SessionFactory,
    UserFactory,
)
from tests.support.admin import inline_management
from tests.support.recording import make_test_video, needs_ffmpeg

ADD_URL = "/admin/conference/recording/add/"
LIST_URL = "/admin/conference/recording/"
QUERIES_FOR_CHANGELIST = 11  # the same for 1 and 3 rows: no query per row


def change_url(recording: Recording, action: str = "change") -> str:
    return f"/admin/conference/recording/{recording.pk}/{action}/"


class Side:
    """One organizer with an event, a session and a staff member."""

    def __init__(self, name: str):
        organizer = OrganizerFactory(name=f"{name} Society", slug=f"{name.lower()}-society")
        self.event = EventFactory(organizer=organizer, title=f"{name} Congress")
        self.session = SessionFactory(event=self.event, title=f"{name} Keynote")
        self.staff = MembershipFactory(
            organizer=organizer, user__email=f"{name.lower()}@example.org"
        ).user


@pytest.fixture
def root(settings, tmp_path) -> Path:
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    return settings.RECORDINGS_ROOT


@pytest.fixture
def alpha(db) -> Side:
    return Side("Alpha")


@pytest.fixture
def beta(db) -> Side:
    return Side("Beta")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_test_video(tmp_path_factory.mktemp("clips") / "clip.mp4", seconds=2, size="320x180")


def make_recording(side: Side, root: Path, **fields) -> Recording:
    recording = Recording.objects.create(session=side.session, **fields)
    source = root / str(recording.pk) / "source" / "video"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"not really a video")
    Recording.objects.filter(pk=recording.pk).update(source_path="source/video")
    recording.refresh_from_db()
    return recording


def leftover_files(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.get(ADD_URL)
    assert response.status_code == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.content)
    return client, token.group(1).decode()


def upload(client: Client, token: str, session, path: Path, name: str | None = None):
    if name:
        path = Path(shutil.copy(path, path.parent / name))
    with path.open("rb") as handle:
        return client.post(
            ADD_URL, {"csrfmiddlewaretoken": token, "session": session.pk, "video": handle}
        )


def form_errors(response) -> list[str]:
    return [str(e) for errors in response.context["adminform"].form.errors.values() for e in errors]


# --- Upload -----------------------------------------------------------------------------------


@needs_ffmpeg
def test_upload_of_video_queues_recording_with_source_file(
    alpha, root, clip, django_capture_on_commit_callbacks
):
    client, token = csrf_client(alpha.staff)

    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(client, token, alpha.session, clip, name="Keynote final.MOV")

    recording = Recording.objects.get()
    assert (response.status_code, response.url) == (302, change_url(recording))
    assert (recording.status, recording.source_path, recording.original_name) == (
        RecordingStatus.QUEUED,
        "source/video",
        "Keynote final.MOV",
    )
    assert (recording.session, recording.created_by) == (alpha.session, alpha.staff)
    assert recording.size_bytes == clip.stat().st_size
    assert (recording.width, recording.height) == (320, 180)
    assert abs(recording.duration_seconds - Decimal(2)) < Decimal("0.2")
    assert leftover_files(root) == [f"{recording.pk}/source/video"]
    assert (root / str(recording.pk) / "source" / "video").read_bytes() == clip.read_bytes()
    assert len(callbacks) == 1  # the processing task leaves once the upload commits


def test_upload_without_csrf_token_is_refused_and_leaves_no_file(alpha, root, clip):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alpha.staff)

    with clip.open("rb") as handle:
        response = client.post(ADD_URL, {"session": alpha.session.pk, "video": handle})

    assert response.status_code == 403
    assert (Recording.objects.count(), leftover_files(root)) == (0, [])


def _pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n")
    return path


def _truncated(path: Path, clip: Path) -> Path:
    path.write_bytes(clip.read_bytes()[:4096])
    return path


def _playlist(path: Path) -> Path:
    segment = path.parent / "recordings" / "4" / "gen-1" / "360p" / "seg_00000.ts"
    path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\n{segment}\n#EXT-X-ENDLIST\n")
    return path


def _png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (64, 48), "teal").save(path, format="PNG")
    return path


@needs_ffmpeg
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_pdf, "This is a text file, not a video."),
        (_truncated, "This is not a video file ffmpeg can read"),
        (_png, "This is a still image, not a video."),
        (_playlist, "This file is an HLS playlist (a list naming other files or addresses)"),
    ],
    ids=["renamed-pdf", "truncated-mp4", "png-image", "hls-playlist"],
)
def test_upload_of_non_video_is_rejected_and_leaves_no_file(
    alpha, root, clip, tmp_path, make, message
):
    bad = make(tmp_path / "bad-input", clip) if make is _truncated else make(tmp_path / "bad-input")
    client, token = csrf_client(alpha.staff)

    response = upload(client, token, alpha.session, bad, name="lecture.mp4")

    assert response.status_code == 200
    errors = form_errors(response)
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert (Recording.objects.count(), leftover_files(root)) == (0, [])


@pytest.mark.parametrize("limit", [20_000, 1024], ids=["cut-while-streaming", "content-length"])
def test_upload_over_the_limit_is_rejected_and_leaves_no_file(alpha, root, clip, settings, limit):
    settings.RECORDING_MAX_UPLOAD_BYTES = limit
    big = root.parent / "big.mp4"
    size = 2 * 1024 * 1024 if limit == 1024 else 100_000  # beyond the multipart allowance or not
    big.write_bytes(b"\0" * size)
    client, token = csrf_client(alpha.staff)

    response = upload(client, token, alpha.session, big)

    expected = (
        "The file is larger than the limit of 19.5 KB."
        if limit == 20_000
        else ("The file is larger than the limit of 1 KB.")
    )
    assert response.status_code == 200
    assert form_errors(response) == [expected]
    assert (Recording.objects.count(), leftover_files(root)) == (0, [])


def test_upload_without_file_asks_for_one(alpha, root):
    client, token = csrf_client(alpha.staff)

    response = client.post(ADD_URL, {"csrfmiddlewaretoken": token, "session": alpha.session.pk})

    assert form_errors(response) == ["Choose the video file to upload."]


@needs_ffmpeg
def test_upload_for_other_organizers_session_is_rejected(alpha, beta, root, clip):
    client, token = csrf_client(beta.staff)

    response = upload(client, token, alpha.session, clip)

    assert response.status_code == 200
    assert "session" in response.context["adminform"].form.errors
    assert (Recording.objects.count(), leftover_files(root)) == (0, [])


def test_upload_page_offers_only_own_sessions(alpha, beta, root):
    client = Client()
    client.force_login(beta.staff)

    response = client.get(ADD_URL)

    field = response.context["adminform"].form.fields["session"]
    assert list(field.queryset) == [beta.session]


# --- Status, progress, poster -------------------------------------------------------------------


def test_status_endpoint_reports_progress_and_stage(alpha, root):
    recording = make_recording(
        alpha, root, status=RecordingStatus.PROCESSING, progress=40, stage="transcoding 720p"
    )
    client = Client()
    client.force_login(alpha.staff)

    response = client.get(change_url(recording, "status"))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "id": recording.pk,
        "status": "processing",
        "status_label": "Processing",
        "progress": 40,
        "stage": "transcoding 720p",
        "error": "",
        "polling": True,
    }


def test_status_endpoint_of_failed_recording_gives_the_reason(alpha, root):
    recording = make_recording(
        alpha, root, status=RecordingStatus.FAILED, progress=12, error="ffmpeg exited with 1"
    )
    client = Client()
    client.force_login(alpha.staff)

    data = client.get(change_url(recording, "status")).json()

    assert (data["status"], data["error"], data["polling"]) == (
        "failed",
        "ffmpeg exited with 1",
        False,
    )


def test_status_endpoint_is_refused_outside_the_organizer(alpha, beta, root):
    recording = make_recording(alpha, root, status=RecordingStatus.PROCESSING, progress=5)
    url = change_url(recording, "status")
    other, anonymous, member = Client(), Client(), Client()
    other.force_login(beta.staff)
    member.force_login(UserFactory(email="attendee@example.org"))

    statuses = [c.get(url).status_code for c in (other, anonymous, member)]

    assert statuses == [404, 403, 403]
    assert Client().get(change_url(recording, "status")).json() == {
        "error": "Staff login required."
    }


def test_change_page_shows_progress_bar_that_polls_while_processing(alpha, root):
    recording = make_recording(
        alpha, root, status=RecordingStatus.PROCESSING, progress=63, stage="transcoding 360p"
    )
    client = Client()
    client.force_login(alpha.staff)

    page = client.get(change_url(recording)).content.decode()

    assert '<progress max="100" value="63">63%</progress>' in page
    assert f'data-status-url="{change_url(recording, "status")}"' in page
    assert "63% — transcoding 360p" in page
    assert "dist/admin/recordings-progress.js" in page


def test_change_page_of_ready_recording_shows_poster_and_renditions(alpha, root):
    recording = make_recording(alpha, root, status=RecordingStatus.READY, published_dir="gen-1")
    published = root / str(recording.pk) / "gen-1"
    for name in ("720p", "360p", "audio"):
        (published / name).mkdir(parents=True)
        (published / name / "index.m3u8").write_text("#EXTM3U\n")
    (published / "poster.jpg").write_bytes(b"\xff\xd8\xff fake jpeg")
    client = Client()
    client.force_login(alpha.staff)

    page = client.get(change_url(recording)).content.decode()
    poster = client.get(change_url(recording, "poster"))

    assert "360p, 720p, audio only" in page
    assert f'<img src="{change_url(recording, "poster")}"' in page
    assert 'data-status-url=""' in page  # nothing to poll once ready
    assert (poster.status_code, poster["Content-Type"]) == (200, "image/jpeg")
    assert b"".join(poster.streaming_content) == b"\xff\xd8\xff fake jpeg"


# --- Scoping ------------------------------------------------------------------------------------


def test_changelist_lists_only_own_organizers_recordings(alpha, beta, root):
    make_recording(alpha, root, original_name="alpha-secret.mp4")
    own = make_recording(beta, root, original_name="beta.mp4")
    client = Client()
    client.force_login(beta.staff)

    response = client.get(LIST_URL)

    assert list(response.context["cl"].result_list) == [own]
    assert "Alpha" not in response.content.decode()


@pytest.mark.parametrize("action", ["change", "delete", "history"])
def test_other_organizers_recording_pages_are_not_found(alpha, beta, root, action):
    recording = make_recording(alpha, root)
    client = Client()
    client.force_login(beta.staff)

    response = client.get(change_url(recording, action))

    assert (response.status_code, response.url) == (302, "/admin/")


def test_other_organizers_poster_is_not_found(alpha, beta, root):
    recording = make_recording(alpha, root, status=RecordingStatus.READY, published_dir="gen-1")
    (root / str(recording.pk) / "gen-1").mkdir()
    (root / str(recording.pk) / "gen-1" / "poster.jpg").write_bytes(b"\xff\xd8\xff")
    client = Client()
    client.force_login(beta.staff)

    assert client.get(change_url(recording, "poster")).status_code == 404


def test_bulk_actions_never_touch_other_organizers_recordings(alpha, beta, root):
    theirs = make_recording(alpha, root, status=RecordingStatus.FAILED, error="x")
    client = Client()
    client.force_login(beta.staff)

    client.post(
        LIST_URL, {"action": "delete_selected", "_selected_action": [theirs.pk], "post": "yes"}
    )
    client.post(LIST_URL, {"action": "reprocess", "_selected_action": [theirs.pk]})

    theirs.refresh_from_db()
    assert (theirs.status, theirs.error) == (RecordingStatus.FAILED, "x")
    assert leftover_files(root) == [f"{theirs.pk}/source/video"]


# --- Actions and deletion ----------------------------------------------------------------------


def test_reprocess_action_queues_failed_recording_and_skips_one_without_source(
    alpha, root, django_capture_on_commit_callbacks
):
    failed = make_recording(alpha, root, status=RecordingStatus.FAILED, error="bad", progress=30)
    sourceless = Recording.objects.create(
        session=alpha.session, status=RecordingStatus.FAILED, error="gone"
    )
    client = Client()
    client.force_login(alpha.staff)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            LIST_URL,
            {"action": "reprocess", "_selected_action": [failed.pk, sourceless.pk]},
            follow=True,
        )

    failed.refresh_from_db()
    sourceless.refresh_from_db()
    assert (failed.status, failed.error, failed.progress) == (RecordingStatus.QUEUED, "", 0)
    assert sourceless.status == RecordingStatus.FAILED
    assert len(callbacks) == 1
    notes = [str(m) for m in response.context["messages"]]
    assert notes == [
        "1 recording(s) queued for processing.",
        f"Not queued: {sourceless} (no source file)",
    ]


def test_delete_in_admin_removes_the_recordings_folder(
    alpha, root, django_capture_on_commit_callbacks
):
    recording = make_recording(alpha, root, status=RecordingStatus.READY)
    client = Client()
    client.force_login(alpha.staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change_url(recording, "delete"), {"post": "yes"})

    assert response.status_code == 302
    assert not Recording.objects.exists()
    assert not (root / str(recording.pk)).exists()


def test_bulk_delete_removes_every_folder(alpha, root, django_capture_on_commit_callbacks):
    recordings = [make_recording(alpha, root) for _ in range(2)]
    client = Client()
    client.force_login(alpha.staff)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            LIST_URL,
            {
                "action": "delete_selected",
                "_selected_action": [r.pk for r in recordings],
                "post": "yes",
            },
        )

    assert not Recording.objects.exists()
    assert leftover_files(root) == []


# --- Captions on the change page ---------------------------------------------------------------

VTT = b"WEBVTT\n\n00:00.500 --> 00:01.500\nHello\n\n00:01.600 --> 00:01.900\nWorld\n"


def caption_post(recording: Recording, rows: list[dict], initial: int = 0) -> dict:
    data = {
        "captions-TOTAL_FORMS": len(rows),
        "captions-INITIAL_FORMS": initial,
        "captions-MIN_NUM_FORMS": 0,
        "captions-MAX_NUM_FORMS": 1000,
        "_continue": "Save",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"captions-{index}-{key}"] = value
        data[f"captions-{index}-recording"] = recording.pk
    return data


def vtt_file(data: bytes, name: str = "en.vtt"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/vtt")


def test_caption_upload_on_change_page_stores_validated_file(alpha, root):
    recording = make_recording(alpha, root, duration_seconds=Decimal("2.000"))
    client = Client()
    client.force_login(alpha.staff)

    response = client.post(
        change_url(recording),
        caption_post(
            recording, [{"language": "PT-br", "label": "Português", "file": vtt_file(VTT)}]
        ),
    )

    assert response.status_code == 302, form_errors(response)
    caption = RecordingCaption.objects.get()
    assert (caption.language, caption.label, caption.cue_count, caption.file_path) == (
        "pt-BR",
        "Português",
        2,
        "captions/pt-BR.vtt",
    )
    assert (root / str(recording.pk) / "captions" / "pt-BR.vtt").read_bytes() == VTT


def test_caption_upload_past_the_recordings_end_is_rejected(alpha, root):
    recording = make_recording(alpha, root, duration_seconds=Decimal("0.400"))
    client = Client()
    client.force_login(alpha.staff)

    response = client.post(
        change_url(recording),
        caption_post(recording, [{"language": "en", "label": "English", "file": vtt_file(VTT)}]),
    )

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors == [
        {
            "file": [
                "Line 3: the cue ends at 00:00:01.500, after the end of the recording "
                "(00:00:00.400)."
            ]
        }
    ]
    assert not RecordingCaption.objects.exists()
    assert leftover_files(root) == [f"{recording.pk}/source/video"]


def test_caption_reupload_on_its_row_replaces_the_file(alpha, root):
    recording = make_recording(alpha, root)
    client = Client()
    client.force_login(alpha.staff)
    client.post(
        change_url(recording),
        caption_post(recording, [{"language": "en", "label": "English", "file": vtt_file(VTT)}]),
    )
    caption = RecordingCaption.objects.get()
    newer = b"WEBVTT\n\n00:00.000 --> 00:00.900\nOnly one\n"

    response = client.post(
        change_url(recording),
        caption_post(
            recording,
            [
                {
                    "id": caption.pk,
                    "language": "en",
                    "label": "English (edited)",
                    "file": vtt_file(newer),
                }
            ],
            initial=1,
        ),
    )

    assert response.status_code == 302, response.context and form_errors(response)
    caption.refresh_from_db()
    assert (caption.cue_count, caption.label) == (1, "English (edited)")
    assert (root / str(recording.pk) / "captions" / "en.vtt").read_bytes() == newer


def test_caption_file_over_two_megabytes_is_rejected_without_being_kept(alpha, root):
    recording = make_recording(alpha, root)
    client = Client()
    client.force_login(alpha.staff)
    huge = b"WEBVTT\n\n" + b"00:00.000 --> 00:00.500\nx\n\n" * 120_000

    response = client.post(
        change_url(recording),
        caption_post(recording, [{"language": "en", "label": "English", "file": vtt_file(huge)}]),
    )

    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors == [{"file": ["The caption file is larger than 2 MB."]}]
    assert not RecordingCaption.objects.exists()


def test_session_page_lists_its_recordings_with_upload_link(alpha, root):
    recording = make_recording(alpha, root, original_name="keynote.mp4")
    client = Client()
    client.force_login(alpha.staff)

    page = client.get(f"/admin/conference/session/{alpha.session.pk}/change/").content.decode()

    assert "keynote.mp4" in page
    assert f"{ADD_URL}?session={alpha.session.pk}" in page
    assert change_url(recording) in page


def test_uploads_folder_keeps_no_stale_partial_files(root):
    from conference.services.recordings import ingest

    folder = root / ".uploads"
    folder.mkdir(parents=True)
    stale, fresh = folder / "upload-old.part", folder / "upload-new.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    import os

    os.utime(stale, (1, 1))

    assert ingest.remove_stale_uploads() == 1
    assert sorted(p.name for p in folder.iterdir()) == ["upload-new.part"]
    shutil.rmtree(folder)


def test_session_form_post_needs_no_data_for_the_recordings_list(alpha, root):
    make_recording(alpha, root, original_name="keynote.mp4")
    client = Client()
    client.force_login(alpha.staff)

    response = client.post(
        f"/admin/conference/session/{alpha.session.pk}/change/",
        {"event": alpha.event.pk, **inline_management("credit_exclusions")},
    )

    formsets = response.context["inline_admin_formsets"]
    assert response.status_code == 200
    assert [f.formset.prefix for f in formsets] == ["credit_exclusions"]
    assert "ManagementForm" not in response.content.decode()
    assert "title" in response.context["adminform"].form.errors


def test_change_page_post_over_the_caption_limit_saves_nothing(alpha, root, settings):
    recording = make_recording(alpha, root)
    client = Client()
    client.force_login(alpha.staff)
    huge = b"WEBVTT\n\n" + b"x" * (26 * 1024 * 1024)

    response = client.post(
        change_url(recording),
        caption_post(recording, [{"language": "en", "label": "English", "file": vtt_file(huge)}]),
        follow=True,
    )

    assert response.redirect_chain == [(change_url(recording), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Nothing was saved: the upload is too large (caption files are at most 2 MB)."
    ]
    assert not RecordingCaption.objects.exists()


@pytest.mark.parametrize("rows", [1, 3])
def test_changelist_queries_do_not_grow_with_rows(alpha, root, rows, django_assert_num_queries):
    for _ in range(rows):
        make_recording(alpha, root, status=RecordingStatus.PROCESSING, progress=10)
    client = Client()
    client.force_login(alpha.staff)

    with django_assert_num_queries(QUERIES_FOR_CHANGELIST):
        response = client.get(LIST_URL)

    assert len(response.context["cl"].result_list) == rows
