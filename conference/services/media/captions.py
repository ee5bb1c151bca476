"""Live captions of a session's stage (docs/media.md, "Live captions").

A cue is text with a start and an end (WebVTT's model). It comes from the studio (a captioner,
a speaker or a producer types it) or from a speech-to-text service through the
`live_captions` management command; it is stored, pushed to the hall as `stage.caption`
(docs/protocol.md) and, when the broadcast's recording is made, written into a WebVTT track of
that recording (`attach_to_recording`).
"""

import logging
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import throttle
from conference.models import CaptionSource, LiveCaption, Recording, Session, Stage
from conference.services import hall_events
from conference.services.recordings import captions as recording_captions
from conference.services.refusals import Refused

logger = logging.getLogger(__name__)

MAX_CAPTION_CHARS = 300
MIN_CUE_SECONDS = 2.0  # a cue's default length is at least this (its reading time)
MAX_CUE_SECONDS = 10.0
READING_CHARS_PER_SECOND = 15
# At most this many cues per sender per session in RATE_WINDOW_SECONDS.
RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 10
LANGUAGE = "en"
LABEL = "Live captions"


class CaptionRefused(Refused):
    """A cue that cannot be shown (`invalid`, `conflict` off air, `rate_limited`)."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(code, message)


def clean_text(text: str) -> str:
    """One line of plain text: whitespace collapsed, no WebVTT cue-timing arrow, no markup
    (the page shows it as text; the track escapes it)."""
    text = re.sub(r"\s+", " ", str(text or "")).strip()
    text = text.replace("-->", "→")
    if not text or len(text) > MAX_CAPTION_CHARS:
        raise CaptionRefused(f"A caption has 1 to {MAX_CAPTION_CHARS} characters.")
    return text


def reading_seconds(text: str) -> float:
    """How long a cue stays up when the sender does not say: its reading time, 2 to 10 s."""
    return min(MAX_CUE_SECONDS, max(MIN_CUE_SECONDS, len(text) / READING_CHARS_PER_SECOND))


def _throttle(session: Session, sender: str) -> None:
    if throttle.hit(f"mv:captions:{session.pk}:{sender}", window=RATE_WINDOW_SECONDS) > RATE_LIMIT:
        raise CaptionRefused(
            f"At most {RATE_LIMIT} captions in {RATE_WINDOW_SECONDS} seconds; wait a moment.",
            code="rate_limited",
        )


def post_caption(
    session: Session,
    *,
    text: str,
    source: str,
    author_id: int | None = None,
    author_name: str = "",
    seconds: float | None = None,
    now: datetime | None = None,
) -> LiveCaption:
    """Store a cue that starts now and push it to the hall. Only while the stage broadcasts:
    captions belong to what the audience watches."""
    if source not in CaptionSource.values:
        raise CaptionRefused("Unknown caption source.")
    text = clean_text(text)
    if seconds is None:
        seconds = reading_seconds(text)
    if not MIN_CUE_SECONDS / 4 <= float(seconds) <= MAX_CUE_SECONDS:
        raise CaptionRefused(f"A caption stays up 0.5 to {MAX_CUE_SECONDS:g} seconds.")
    stage = Stage.objects.filter(session=session).first()
    if stage is None or not stage.on_air:
        raise CaptionRefused(
            "The stage is not broadcasting: captions are shown while it is.", code="conflict"
        )
    _throttle(session, str(author_id) if author_id else source)
    start = now or timezone.now()
    cue = LiveCaption.objects.create(
        session=session,
        recording_id=stage.recording_id,
        text=text,
        starts_at=start,
        ends_at=start + timedelta(seconds=float(seconds)),
        source=source,
        author_id=author_id,
        author_name=author_name[:200],
    )
    data = caption_data(cue)
    hall_id = session.hall_id
    if hall_id is not None:  # a session without a hall has nobody to show the cue to
        transaction.on_commit(lambda: _push(hall_id, session.pk, data))
    return cue


def caption_data(cue: LiveCaption) -> dict[str, Any]:
    """The `stage.caption` push (docs/protocol.md)."""
    return {
        "session": cue.session_id,
        "id": cue.pk,
        "text": cue.text,
        "start": cue.starts_at.isoformat(),
        "end": cue.ends_at.isoformat(),
    }


def _push(hall_id: int, session_id: int, data: dict[str, Any]) -> None:
    hall_events.stage_caption(hall_id, session_id, data)


def recent_captions(session: Session, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest cues, newest last (for the studio's caption panel)."""
    cues = list(LiveCaption.objects.filter(session=session).order_by("-starts_at", "-pk")[:limit])
    return [caption_data(cue) for cue in reversed(cues)]


# --- the recording's track -------------------------------------------------------------------
def _timestamp(seconds: float) -> str:
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}.{ms:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(cues: list[LiveCaption], *, origin: datetime, until: datetime | None = None) -> str:
    """A WebVTT file of `cues`, timed from `origin` (the broadcast's start). A cue is cut where
    the next one starts (one caption at a time, as on the stage) and at `until`."""
    lines = ["WEBVTT", "", "NOTE Live captions of the broadcast (MedVenue)", ""]
    number = 0
    for index, cue in enumerate(cues):
        start = (cue.starts_at - origin).total_seconds()
        end = (cue.ends_at - origin).total_seconds()
        if index + 1 < len(cues):
            end = min(end, (cues[index + 1].starts_at - origin).total_seconds())
        if until is not None:
            end = min(end, (until - origin).total_seconds())
        start = max(0.0, start)
        if end - start < 0.001:
            continue
        number += 1
        lines += [str(number), f"{_timestamp(start)} --> {_timestamp(end)}", _escape(cue.text), ""]
    return "\n".join(lines) + "\n" if number else ""


def attach_to_recording(recording: Recording) -> bool:
    """Write the cues sent during the broadcast into the recording's WebVTT track ("Live
    captions", language en); False when there were none. Called by the recorder when it has
    joined the broadcast, before processing."""
    cues = list(LiveCaption.objects.filter(recording=recording).order_by("starts_at", "pk"))
    origin = recording.capture_starts_at
    if not cues or origin is None:
        return False
    text = webvtt(cues, origin=origin, until=recording.capture_ends_at)
    if not text:
        return False
    try:
        recording_captions.attach_caption(
            recording, language=LANGUAGE, label=LABEL, data=text.encode()
        )
    except recording_captions.InvalidCaptions as error:  # our own file: a defect, logged, not fatal
        logger.error("live captions of recording %s not kept: %s", recording.pk, error)
        return False
    return True


def cue_seconds(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(Decimal(str(value)))
    except ArithmeticError:
        raise CaptionRefused("`seconds` is a number of seconds.") from None
