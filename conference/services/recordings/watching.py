"""Watching a recording: player heartbeats as evidence, merged progress, resume and chapters.

Every heartbeat says "I played from `from` to `to`, and I am now at `position`". A valid one
is kept as an append-only WatchSpan row and merged into the viewer's WatchProgress (sorted,
non-overlapping ranges; the watched total; the resume position).
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import timezone

from accounts import throttle
from accounts.models import User
from conference.models import (
    Event,
    Recording,
    RecordingStatus,
    Session,
    WatchProgress,
    WatchSpan,
)
from conference.services.recordings import access
from conference.services.recordings.paths import published_folder
from conference.services.refusals import Refused

HEARTBEAT_INTERVAL_SECONDS = 10
# One heartbeat covers at most this much media (a few intervals, at up to double speed).
MAX_SPAN_SECONDS = HEARTBEAT_INTERVAL_SECONDS * 4
# At most this many heartbeats per viewer and recording in a rate window.
RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 60
# Ranges closer than this are joined (a heartbeat boundary is not a gap in viewing).
JOIN_TOLERANCE = 0.5
# Resume from the start when the viewer stopped this close to the end (at most 5 % of it).
END_MARGIN_SECONDS = 5
MILLIS = Decimal("0.001")


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str

    @property
    def label(self) -> str:
        return format_clock(self.start)


def _seconds(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(MILLIS, rounding=ROUND_HALF_UP)


def duration_of(recording: Recording) -> float:
    return float(recording.duration_seconds or 0)


def _number(data: dict[str, Any], key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or value is None:
        raise Refused("invalid", f"'{key}' must be a number of seconds.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Refused("invalid", f"'{key}' must be a number of seconds.") from None
    if not math.isfinite(number):
        raise Refused("invalid", f"'{key}' must be a finite number of seconds.")
    return number


def validate_heartbeat(data: dict[str, Any], *, duration: float) -> tuple[float, float, float]:
    """(from, to, position) of a heartbeat, or raise `Refused` (`invalid`) with the reason."""
    if not isinstance(data, dict):
        raise Refused("invalid", "Send an object with 'from', 'to' and 'position'.")
    start, end = _number(data, "from"), _number(data, "to")
    position = _number(data, "position") if data.get("position") is not None else end
    limit = duration + 1 if duration > 0 else math.inf
    if not 0 <= start < end <= limit:
        raise Refused("invalid", "'from' and 'to' must satisfy 0 <= from < to <= the duration.")
    if end - start > MAX_SPAN_SECONDS:
        raise Refused("invalid", f"One heartbeat may cover at most {MAX_SPAN_SECONDS} seconds.")
    if not 0 <= position <= limit:
        raise Refused("invalid", "'position' must lie within the recording.")
    return start, end, position


def merge_ranges(ranges: list[Any], start: float, end: float) -> list[list[float]]:
    """`ranges` ([[a, b], ...], sorted, disjoint) with [start, end] added and joined."""
    spans = [[float(a), float(b)] for a, b in ranges if float(b) > float(a)]
    spans.append([float(start), float(end)])
    spans.sort()
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + JOIN_TOLERANCE:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [[round(a, 3), round(b, 3)] for a, b in merged]


def covered_seconds(ranges: list[list[float]]) -> float:
    return round(sum(b - a for a, b in ranges), 3)


def _take_rate_slot(recording: Recording, user: User) -> bool:
    key = f"recordings:heartbeats:{recording.pk}:{user.pk}"
    return throttle.hit(key, window=RATE_WINDOW_SECONDS) <= RATE_LIMIT


def record_heartbeat(recording: Recording, *, user: User, data: dict[str, Any]) -> WatchProgress:
    """Validate and keep one heartbeat of `user`; return the merged progress."""
    start, end, position = validate_heartbeat(data, duration=duration_of(recording))
    if not _take_rate_slot(recording, user):
        raise Refused("rate_limited", "Too many heartbeats; slow down.")
    with transaction.atomic():
        WatchSpan.objects.create(
            recording=recording, user=user, start_seconds=_seconds(start), end_seconds=_seconds(end)
        )
        progress, _ = WatchProgress.objects.select_for_update().get_or_create(
            recording=recording, user=user
        )
        progress.ranges = merge_ranges(progress.ranges or [], start, end)
        progress.watched_seconds = _seconds(covered_seconds(progress.ranges))
        progress.position_seconds = _seconds(position)
        progress.save(update_fields=["ranges", "watched_seconds", "position_seconds", "updated_at"])
    return progress


def resume_position(recording: Recording, user: User | AnonymousUser) -> float:
    """Where `user` left off (0 for a new viewer, or when they had reached the end)."""
    if not user.is_authenticated:
        return 0.0
    progress = WatchProgress.objects.filter(recording=recording, user=user).first()
    if progress is None:
        return 0.0
    position = float(progress.position_seconds)
    duration = duration_of(recording)
    if duration and position >= duration - min(END_MARGIN_SECONDS, duration * 0.05):
        return 0.0
    return position


def progress_of(recording: Recording, user: User | AnonymousUser) -> WatchProgress | None:
    if not user.is_authenticated:
        return None
    return WatchProgress.objects.filter(recording=recording, user=user).first()


# --- chapters --------------------------------------------------------------------------------

CUE_TIMING = re.compile(
    r"^\s*((?:\d+:)?\d{1,2}:\d{2}\.\d{3})\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}\.\d{3})"
)
MAX_CHAPTERS = 500


def parse_clock(value: str) -> float:
    parts = [float(part) for part in value.split(":")]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def format_clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def parse_chapters(text: str) -> list[Chapter]:
    """The cues of a WebVTT chapters file, in order; malformed blocks are skipped."""
    chapters: list[Chapter] = []
    for block in re.split(r"\r?\n\s*\r?\n", text.replace("\ufeff", "")):
        lines = [line for line in block.splitlines() if line.strip()]
        for index, line in enumerate(lines):
            match = CUE_TIMING.match(line)
            if match:
                title = " ".join(lines[index + 1 :]).strip()
                if title:
                    start, end = parse_clock(match[1]), parse_clock(match[2])
                    chapters.append(Chapter(start=start, end=end, title=title[:200]))
                break
        if len(chapters) >= MAX_CHAPTERS:
            break
    return sorted(chapters, key=lambda chapter: chapter.start)


def recording_chapters(recording: Recording) -> list[Chapter]:
    folder = published_folder(recording)
    if folder is None:
        return []
    path = folder / "chapters.vtt"
    try:
        return parse_chapters(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


# --- a hall's screen after its session -------------------------------------------------------


def last_session_recording(event: Event, hall_id: int, *, moment: datetime) -> Recording | None:
    """The ready recording of the most recent session in the hall that has ended by `moment`.

    Only that session counts: when the latest session has no ready recording, an older one is
    not replayed in its place.
    """
    session = (
        Session.objects.filter(event=event, hall_id=hall_id, ends_at__lte=moment)
        .order_by("-ends_at", "-pk")
        .first()
    )
    if session is None:
        return None
    return (
        Recording.objects.filter(session=session, status=RecordingStatus.READY)
        .exclude(published_dir="")
        .select_related("session__event")
        .prefetch_related("captions")
        .order_by("-ready_at", "-created_at", "-pk")
        .first()
    )


def hall_screen_recording(
    event: Event, hall_id: int, *, user: User | AnonymousUser, moment: datetime
) -> dict[str, Any] | None:
    """What a hall's screen plays for `user` once its session is over, or None.

    Per viewer (the URLs are signed for them), so it is not part of the shared manifest.
    """
    recording = last_session_recording(event, hall_id, moment=moment)
    if recording is None or not access.may_watch(user, recording):
        return None
    return playable_entry(recording, user=user, resume=resume_position(recording, user))


# --- a hall's earlier recordings, reachable while a session is on -----------------------------


def _session_time(session: Session, zone: tzinfo) -> str:
    """ "Wed 25 Nov, 09:00–10:00 CST" in the event's time zone."""
    start = timezone.localtime(session.starts_at, zone)
    end = timezone.localtime(session.ends_at, zone)
    return f"{start:%a} {start.day} {start:%b}, {start:%H:%M}–{end:%H:%M} {start.tzname()}"


def _resume_positions(recordings: list[Recording], user: User | AnonymousUser) -> dict[int, float]:
    """resume_position of every recording for `user`, from one query."""
    if not user.is_authenticated or not recordings:
        return {}
    rows = WatchProgress.objects.filter(recording__in=recordings, user=user).values_list(
        "recording_id", "position_seconds"
    )
    positions = dict(rows)
    result = {}
    for recording in recordings:
        position = float(positions.get(recording.pk, 0))
        duration = duration_of(recording)
        if duration and position >= duration - min(END_MARGIN_SECONDS, duration * 0.05):
            position = 0.0
        result[recording.pk] = position
    return result


def caption_entries(recording: Recording, token: str) -> list[dict[str, Any]]:
    """The recording's captions with URLs signed by `token` (prefetch `captions` for lists)."""
    return [
        {
            "label": caption.label,
            "srclang": caption.language,
            "url": access.caption_url(recording, token, caption.language),
        }
        for caption in recording.captions.all()
    ]


def chapter_entries(recording: Recording) -> list[dict[str, Any]]:
    """The published chapters.vtt as [{start (seconds), title}], for the hall's player."""
    return [
        {"start": chapter.start, "title": chapter.title}
        for chapter in recording_chapters(recording)
    ]


def playable_entry(
    recording: Recording, *, user: User | AnonymousUser, resume: float
) -> dict[str, Any]:
    """What the hall's player needs for `recording` and `user`: signed URLs (per viewer),
    captions (signed like the recording page's) and chapters."""
    token = access.sign_watch_token(recording, user=user)
    folder = published_folder(recording)
    has_poster = folder is not None and (folder / "poster.jpg").is_file()
    return {
        "id": recording.pk,
        "title": recording.session.title,
        "page_url": reverse("recordings:detail", kwargs={"recording_id": recording.pk}),
        "master_url": access.media_url(recording, token, "master.m3u8"),
        "poster_url": access.media_url(recording, token, "poster.jpg") if has_poster else "",
        "heartbeat_url": (
            reverse("recordings:heartbeat", kwargs={"recording_id": recording.pk})
            if user.is_authenticated
            else ""
        ),
        "resume": resume,
        "captions": caption_entries(recording, token),
        "chapters": chapter_entries(recording),
    }


def hall_recordings(
    event: Event, hall_id: int, *, user: User | AnonymousUser, moment: datetime
) -> list[dict[str, Any]]:
    """The hall's ended sessions of `event` with a ready recording `user` may watch.

    Newest session first, one entry per session (its newest ready recording), each with the
    session's time in the event's time zone and URLs signed for `user` (so never part of the
    shared manifest). A fixed number of queries, however many recordings there are.
    """
    recordings = (
        Recording.objects.filter(
            session__event=event,
            session__hall_id=hall_id,
            session__ends_at__lte=moment,
            status=RecordingStatus.READY,
        )
        .exclude(published_dir="")
        .select_related("session__event")
        .order_by("-session__ends_at", "-session_id", "-ready_at", "-created_at", "-pk")
    )
    newest: dict[int, Recording] = {}
    for recording in recordings:
        newest.setdefault(recording.session_id, recording)
    allowed = access.watchable_among(user, list(newest.values()))
    prefetch_related_objects(allowed, "captions")
    resumes = _resume_positions(allowed, user)
    zone = event.tzinfo
    entries = []
    for recording in allowed:
        entry = playable_entry(recording, user=user, resume=resumes.get(recording.pk, 0.0))
        entry["when"] = _session_time(recording.session, zone)
        entry["starts_at"] = recording.session.starts_at.isoformat()
        entries.append(entry)
    return entries
