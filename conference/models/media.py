"""The stage of a session: who is on it, in which layout, and whether it is broadcasting.

The media itself lives in Janus; this row is what the server decided, so every web process (and
a restarted Janus) can be brought back to it.
"""

from django.conf import settings
from django.db import models


class StageLayout(models.TextChoices):
    SOLO = "solo", "One speaker"
    SCREEN = "screen", "Speaker with their shared screen"
    PANEL = "panel", "Panel (up to 4)"


class Stage(models.Model):
    session = models.OneToOneField(
        "conference.Session", on_delete=models.CASCADE, related_name="stage"
    )
    layout = models.CharField(max_length=10, choices=StageLayout.choices, default=StageLayout.SOLO)
    # Janus publisher ids of the backstage room that are on the stage, in slot order.
    live_feeds = models.JSONField(default=list, blank=True)
    # Names shown for the slots, in the same order (kept so the audience never asks Janus).
    live_names = models.JSONField(default=list, blank=True)
    on_air = models.BooleanField(default=False)
    live_from = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The RTP forwarders Janus runs for the stage now: [{"feed": id, "stream_ids": [...]}].
    forwarders = models.JSONField(default=list, blank=True)
    # The recording of the broadcast on air now (Janus forwards the live feeds to its recorder
    # too), and the first of the recorder's UDP ports (RECORDING_RTP_PORTS), one block per stage.
    recording = models.ForeignKey(
        "conference.Recording",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorder_port = models.PositiveIntegerField(null=True, blank=True, unique=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"stage of session {self.session_id} ({'on air' if self.on_air else 'off air'})"


class SideChatMessage(models.Model):
    """A line of a small side chat (the studio's backstage, a meeting room): the author's name
    as it was then, kept when the account goes."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.text[:40]}"


class BackstageMessage(SideChatMessage):
    """The private chat of a session's speakers and producers in the studio."""

    session = models.ForeignKey(
        "conference.Session", on_delete=models.CASCADE, related_name="backstage_messages"
    )


class CaptionSource(models.TextChoices):
    TYPED = "typed", "Typed in the studio"
    SERVICE = "service", "Speech-to-text service"


class LiveCaption(models.Model):
    """One live caption cue of a session's stage (a WebVTT-style cue: text, start, end), shown
    to the hall while it broadcasts and kept with the broadcast's recording as a WebVTT track."""

    session = models.ForeignKey(
        "conference.Session", on_delete=models.CASCADE, related_name="live_captions"
    )
    # The broadcast recording that was being made when the cue was sent.
    recording = models.ForeignKey(
        "conference.Recording",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="live_captions",
    )
    text = models.CharField(max_length=300)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=CaptionSource.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["recording", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.starts_at:%H:%M:%S} {self.text[:40]}"


class EncoderFeed(models.Model):
    """A session's external encoder (OBS, vMix): the SRT listener an ingest worker runs for it
    while `active`, and its stream key (the SRT passphrase). docs/media.md, "External encoder"."""

    session = models.OneToOneField(
        "conference.Session", on_delete=models.CASCADE, related_name="encoder"
    )
    # The SRT passphrase the encoder must present (10-79 characters; ours are 32).
    passphrase = models.CharField(max_length=79)
    # While active: the listener's place in ENCODER_SRT_PORTS (and the remote publisher's in
    # ENCODER_RTP_PORTS), unique among active encoders.
    slot = models.PositiveIntegerField(null=True, blank=True, unique=True)
    active = models.BooleanField(default=False)
    # Set while an encoder is connected and its media reaches Janus.
    connected_since = models.DateTimeField(null=True, blank=True)
    # The last reason the listener gave (an encoder that left, a refused input), for the producer.
    last_error = models.CharField(max_length=300, blank=True)
    key_created_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Touched by the ingest worker while it listens (the stall check resends a silent one).
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"encoder of session {self.session_id} ({'on' if self.active else 'off'})"
