"""WebVTT caption files: strict validation with line numbers, language tags, atomic storage."""

from decimal import Decimal

import pytest

from conference.models import Recording, RecordingCaption
from conference.services.recordings import captions
from conference.services.recordings.captions import InvalidCaptions, validate_webvtt
from tests.factories import SessionFactory

GOOD = (
    "\ufeffWEBVTT - Keynote captions\r\n"
    "Kind: captions\r\n"
    "\r\n"
    "NOTE reviewed by the organizer\r\n"
    "\r\n"
    "STYLE\r\n"
    "::cue { color: yellow }\r\n"
    "\r\n"
    "intro\r\n"
    "00:00:00.000 --> 00:00:02.500 align:start\r\n"
    "Welcome to the <b>keynote</b>\r\n"
    "\r\n"
    "01:02.000 --> 01:04.250\r\n"
    "Café, naïve — UTF-8\r\n"
    "second line\r\n"
).encode()


def test_validate_webvtt_counts_cues_of_a_valid_file():
    assert validate_webvtt(GOOD) == 2
    assert validate_webvtt(GOOD, duration=Decimal("64.250")) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "WEBVTT\n\n00:01.000 --> 00:02.000\nol\xe1\n".encode("latin-1"),
            "The caption file is not UTF-8 text (byte 35 cannot be read).",
        ),
        (
            b"1\n00:00:01,000 --> 00:00:02,000\nSubRip\n",
            "The file does not start with the \u201cWEBVTT\u201d header",
        ),
        (b"WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n", "The file does not start with"),
        (
            b"WEBVTT\n\n00:01,000 --> 00:02.000\nx\n",
            "Line 3: \u201c00:01,000 --> 00:02.000\u201d is not a valid cue timing",
        ),
        (
            b"WEBVTT\n\n00:61.000 --> 01:02.000\nx\n",
            "Line 3: \u201c00:61.000 --> 01:02.000\u201d is not a valid cue timing",
        ),
        (
            b"WEBVTT\n\n00:05.000 --> 00:05.000\nx\n",
            "Line 3: the cue ends (00:00:05.000) before or when it starts (00:00:05.000).",
        ),
        (
            b"WEBVTT\n\n00:05.000 --> 00:04.000\nx\n",
            "Line 3: the cue ends (00:00:04.000) before or when it starts (00:00:05.000).",
        ),
        (
            b"WEBVTT\n\nintro\nHello without timing\n",
            "Line 3: expected a cue timing line",
        ),
        (
            b"WEBVTT\n\n00:01.000 --> 00:02.000\nx\n00:03.000 --> 00:04.000\ny\n",
            "Line 5: cue text cannot contain \u201c-->\u201d",
        ),
        (b"WEBVTT\n\nNOTE nothing here\n", "The caption file has no cues."),
        (b"WEBVTT\n", "The caption file has no cues."),
        (b"WEBVTT\n\n00:01.000 --> 00:02.000\nx\0y\n", "The caption file contains NUL"),
        (
            b"WEBVTT\n\n" + b"00:00.000 --> 00:00.500\nxx\n\n" * 80_000,
            "The caption file is larger than 2 MB.",
        ),
    ],
    ids=[
        "not-utf8",
        "srt",
        "bad-header",
        "comma-timestamp",
        "bad-seconds",
        "zero-length",
        "ends-before-start",
        "no-timing",
        "missing-blank-line",
        "only-note",
        "header-only",
        "nul",
        "too-large",
    ],
)
def test_validate_webvtt_rejects_with_clear_message(data, message):
    with pytest.raises(InvalidCaptions) as error:
        validate_webvtt(data)

    assert str(error.value).startswith(message), str(error.value)


def test_validate_webvtt_rejects_cue_after_the_recordings_end():
    data = b"WEBVTT\n\n00:01.000 --> 00:02.000\na\n\n01:00:00.000 --> 01:00:03.000\nb\n"

    with pytest.raises(InvalidCaptions) as error:
        validate_webvtt(data, duration=Decimal("3600.5"))

    assert str(error.value) == (
        "Line 6: the cue ends at 01:00:03.000, after the end of the recording (01:00:00.500)."
    )
    assert validate_webvtt(data, duration=Decimal("3602.5")) == 2  # within a second


@pytest.mark.parametrize(
    ("tag", "normal"),
    [("en", "en"), ("PT-br", "pt-BR"), ("zh-hant-tw", "zh-Hant-TW"), ("es-419", "es-419")],
)
def test_normalize_language_gives_usual_case(tag, normal):
    assert captions.normalize_language(tag) == normal


@pytest.mark.parametrize("tag", ["", "english", "en_US", "../../etc", "e", "en-", "en US"])
def test_normalize_language_rejects_non_tags(tag):
    with pytest.raises(InvalidCaptions, match="is not a language tag"):
        captions.normalize_language(tag)


@pytest.fixture
def recording(db, settings, tmp_path) -> Recording:
    settings.RECORDINGS_ROOT = tmp_path
    return Recording.objects.create(session=SessionFactory(), duration_seconds=Decimal("70"))


def test_attach_caption_stores_file_and_replaces_same_language(recording, tmp_path):
    first = captions.attach_caption(recording, language="en", label="English", data=GOOD)
    newer = b"WEBVTT\n\n00:00.000 --> 00:01.000\nnew\n"

    second = captions.attach_caption(recording, language="EN", label=" ", data=newer)

    assert second.pk == first.pk
    row = RecordingCaption.objects.get()
    assert (row.language, row.label, row.cue_count, row.file_path) == (
        "en",
        "en",
        1,
        "captions/en.vtt",
    )
    folder = tmp_path / str(recording.pk) / "captions"
    assert [p.name for p in folder.iterdir()] == ["en.vtt"]  # no temp files left
    assert (folder / "en.vtt").read_bytes() == newer


def test_attach_caption_with_invalid_file_stores_nothing(recording, tmp_path):
    with pytest.raises(InvalidCaptions):
        captions.attach_caption(recording, language="en", label="English", data=b"WEBVTT\n")

    assert not RecordingCaption.objects.exists()
    assert not (tmp_path / str(recording.pk)).exists()


def test_remove_caption_deletes_row_and_file(
    recording, tmp_path, django_capture_on_commit_callbacks
):
    caption = captions.attach_caption(recording, language="de", label="Deutsch", data=GOOD)

    with django_capture_on_commit_callbacks(execute=True):
        captions.remove_caption(caption)

    assert not RecordingCaption.objects.exists()
    assert list((tmp_path / str(recording.pk) / "captions").iterdir()) == []
