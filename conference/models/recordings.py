"""Recordings of sessions: uploaded or captured video, processed into adaptive HLS.

A recording's files live under `settings.RECORDINGS_ROOT/<recording id>/` (never under
MEDIA_ROOT): the source in `source/`, each processing run in `work-<generation>/`, and the
published output in `gen-<generation>/`, which is only ever created by one rename once complete.
`published_dir` names the published folder; a recording is READY only when that folder exists.
Viewers reach the files only through the application with signed, expiring URLs.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models


class RecordingSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded"
    CAPTURE = "capture", "Captured from the live stream"
    STUDIO = "studio", "Recorded from the studio's broadcast"


class RecordingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Capture scheduled"
    CAPTURING = "capturing", "Capturing the live stream"
    QUEUED = "queued", "Queued for processing"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Recording(models.Model):
    session = models.ForeignKey(
        "conference.Session", on_delete=models.CASCADE, related_name="recordings"
    )
    source = models.CharField(
        max_length=8, choices=RecordingSource.choices, default=RecordingSource.UPLOAD
    )
    status = models.CharField(
        max_length=10, choices=RecordingStatus.choices, default=RecordingStatus.QUEUED
    )
    # Progress of the current stage, 0 to 100, and what that stage is ("transcoding 720p").
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    stage = models.CharField(max_length=60, blank=True)
    error = models.TextField(blank=True, help_text="Why processing failed, for the organizer.")
    original_name = models.CharField(max_length=255, blank=True)
    # Path of the source video relative to the recording's folder (e.g. "source/video").
    source_path = models.CharField(max_length=300, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    probe = models.JSONField(default=dict, blank=True)
    duration_seconds = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Each processing run writes a new generation; the published one is named here.
    generation = models.PositiveIntegerField(default=0)
    published_dir = models.CharField(max_length=40, blank=True)
    capture_starts_at = models.DateTimeField(null=True, blank=True)
    capture_ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(source="capture"),
                name="one_capture_per_session",
            ),
        ]

    def __str__(self) -> str:
        return f"recording {self.pk} of {self.session} ({self.status})"


class RecordingCaption(models.Model):
    """A validated WebVTT caption file of a recording, one per language."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="captions")
    language = models.CharField(max_length=35, help_text="BCP 47 language tag, e.g. en or pt-BR.")
    label = models.CharField(max_length=60, help_text="Shown in the player, e.g. English.")
    # Path relative to the recording's folder (e.g. "captions/en.vtt").
    file_path = models.CharField(max_length=300)
    cue_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recording", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["recording", "language"], name="unique_caption_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.language})"


class WatchProgress(models.Model):
    """Where a viewer is in a recording and which parts they have played (merged ranges)."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="progress_rows")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_progress"
    )
    position_seconds = models.DecimalField(max_digits=10, decimal_places=3, default=0)
    # Played ranges as [[start, end], ...] in seconds, merged and sorted.
    ranges = models.JSONField(default=list, blank=True)
    watched_seconds = models.DecimalField(max_digits=10, decimal_places=3, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recording", "user"], name="unique_watch_progress"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} watched {self.watched_seconds}s of {self.recording_id}"


class WatchSpan(models.Model):
    """One player heartbeat: the viewer played [start, end) seconds (append-only evidence)."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="watch_spans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="watch_spans"
    )
    start_seconds = models.DecimalField(max_digits=10, decimal_places=3)
    end_seconds = models.DecimalField(max_digits=10, decimal_places=3)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recording", "user", "received_at", "id"]
        indexes = [models.Index(fields=["recording", "user"])]

    def __str__(self) -> str:
        return f"{self.user_id} played {self.start_seconds}-{self.end_seconds}"
