"""Chapters of a recording from the schedule: which sessions of the hall it covers, and when.

`build_chapters` is pure: from the sessions' titles, speakers and times, the recording's start
and its duration, it returns the chapters with offsets clamped to [0, duration]; stretches
between sessions longer than MIN_GAP_SECONDS become chapters of their own ("Before the
session", "Break", "After the session"). `chapters_vtt` writes them as WebVTT.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from conference.models import Recording, RecordingSource, Session

MIN_GAP_SECONDS = Decimal(1)
MILLISECOND = Decimal("0.001")


@dataclass(frozen=True)
class ScheduledTalk:
    """What a chapter is made of: one session of the schedule."""

    title: str
    speakers: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Chapter:
    start: Decimal
    end: Decimal
    title: str


def build_chapters(
    talks: list[ScheduledTalk], *, recording_start: datetime, duration: Decimal
) -> list[Chapter]:
    """The chapters of a recording starting at `recording_start` and lasting `duration` s."""
    duration = Decimal(duration)
    if duration <= 0:
        return []
    sessions = []
    for talk in sorted(talks, key=lambda t: (t.starts_at, t.ends_at, t.title)):
        start = _clamp(_offset(talk.starts_at, recording_start), duration)
        end = _clamp(_offset(talk.ends_at, recording_start), duration)
        if end > start:
            sessions.append(Chapter(start, end, chapter_title(talk)))
    return _with_gaps(_without_overlaps(sessions), duration)


def chapter_title(talk: ScheduledTalk) -> str:
    title = " ".join(talk.title.split())
    names = ", ".join(" ".join(name.split()) for name in talk.speakers if name.strip())
    return f"{title} — {names}" if names else title


def chapters_vtt(chapters: list[Chapter]) -> str:
    """WebVTT text of `chapters` (cue text escaped)."""
    lines = ["WEBVTT", ""]
    for number, chapter in enumerate(chapters, start=1):
        lines += [
            str(number),
            f"{format_timestamp(chapter.start)} --> {format_timestamp(chapter.end)}",
            escape_cue_text(chapter.title),
            "",
        ]
    return "\n".join(lines)


def escape_cue_text(text: str) -> str:
    text = " ".join(text.split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def format_timestamp(seconds: Decimal) -> str:
    """HH:MM:SS.mmm for WebVTT."""
    millis = int((Decimal(seconds) * 1000).to_integral_value(ROUND_HALF_UP))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def recording_window_start(recording: Recording) -> datetime:
    """Captures and studio broadcasts start at capture_starts_at; uploads are taken to start with the session."""
    captured = (RecordingSource.CAPTURE, RecordingSource.STUDIO)
    if recording.source in captured and recording.capture_starts_at:
        return recording.capture_starts_at
    return recording.session.starts_at


def scheduled_talks(recording: Recording, *, duration: Decimal) -> list[ScheduledTalk]:
    """The sessions of the recording's hall whose times intersect the recording's window."""
    session = recording.session
    start = recording_window_start(recording)
    end = start + timedelta(seconds=float(duration))
    candidates = Session.objects.filter(pk=session.pk)
    if session.hall_id:
        candidates = Session.objects.filter(
            hall_id=session.hall_id, starts_at__lt=end, ends_at__gt=start
        ) | Session.objects.filter(pk=session.pk)
    return [
        ScheduledTalk(
            title=s.title,
            speakers=tuple(speaker.name for speaker in s.speakers.all()),
            starts_at=s.starts_at,
            ends_at=s.ends_at,
        )
        for s in candidates.distinct().prefetch_related("speakers").order_by("starts_at", "pk")
    ]


def recording_chapters_vtt(recording: Recording, *, duration: Decimal) -> str:
    talks = scheduled_talks(recording, duration=duration)
    chapters = build_chapters(
        talks, recording_start=recording_window_start(recording), duration=duration
    )
    return chapters_vtt(chapters)


def _offset(moment: datetime, start: datetime) -> Decimal:
    return Decimal(str((moment - start).total_seconds())).quantize(MILLISECOND)


def _clamp(value: Decimal, duration: Decimal) -> Decimal:
    return min(max(value, Decimal(0)), duration)


def _without_overlaps(chapters: list[Chapter]) -> list[Chapter]:
    """A chapter ends where the next one starts (schedules may overlap by mistake)."""
    result: list[Chapter] = []
    for chapter in chapters:
        if result and chapter.start < result[-1].end:
            previous = result.pop()
            if chapter.start > previous.start:
                result.append(Chapter(previous.start, chapter.start, previous.title))
        result.append(chapter)
    return result


def _with_gaps(chapters: list[Chapter], duration: Decimal) -> list[Chapter]:
    if not chapters:
        return [Chapter(Decimal(0), duration, "Recording")]
    result: list[Chapter] = []
    cursor = Decimal(0)
    for index, chapter in enumerate(chapters):
        if chapter.start - cursor >= MIN_GAP_SECONDS:
            result.append(
                Chapter(cursor, chapter.start, "Before the session" if index == 0 else "Break")
            )
        result.append(chapter)
        cursor = max(cursor, chapter.end)
    if duration - cursor >= MIN_GAP_SECONDS:
        result.append(Chapter(cursor, duration, "After the session"))
    return result
