import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from conference.models.organizers import Organizer


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Berlin).")


class EventQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Event(models.Model):
    organizer = models.ForeignKey(Organizer, on_delete=models.PROTECT, related_name="events")
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="Times are shown to attendees in this zone (IANA name, e.g. America/Chicago).",
    )
    start_date = models.DateField()
    end_date = models.DateField()
    venue = models.ForeignKey(
        "venues.Venue", on_delete=models.PROTECT, related_name="events", null=True, blank=True
    )
    is_published = models.BooleanField(default=False)
    registration_opens_at = models.DateTimeField(null=True, blank=True)
    registration_closes_at = models.DateTimeField(null=True, blank=True)
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most active registrations; empty for no limit."
    )
    cme_provider = models.CharField(
        "accredited CME provider",
        max_length=200,
        blank=True,
        help_text="The provider named in the designation statement.",
    )
    accreditation_statement = models.TextField(
        blank=True,
        help_text="Printed verbatim on certificates, as set by the accreditor. Empty: the "
        "accreditor's standard statement for each credit type, naming the provider (and the "
        "joint providers below).",
    )
    cme_joint_providers = models.TextField(
        "joint providers",
        blank=True,
        help_text="Non-accredited organizations that planned the activity with the accredited "
        "provider (joint providership), one per line; named in the standard ACCME statement.",
    )
    moderation_keywords = models.TextField(
        "moderation keywords",
        blank=True,
        help_text=(
            "Optional. One word or phrase per line (or separated by commas): chat messages and "
            "questions that contain one (whole words, any case) are held for a moderator's "
            "review in the hall's panel."
        ),
    )
    recordings_public = models.BooleanField(
        "recordings are public",
        default=False,
        help_text="Anyone may watch this event's recordings; otherwise registered attendees only.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="event_end_on_or_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("conference:event-detail", kwargs={"event_slug": self.slug})

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def starts_at(self) -> datetime:
        """The first instant of the event's first day, in its time zone."""
        return datetime.combine(self.start_date, time.min, tzinfo=self.tzinfo)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the event's last day, in its time zone."""
        return datetime.combine(self.end_date + timedelta(days=1), time.min, tzinfo=self.tzinfo)

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The event cannot end before it starts."
        opens, closes = self.registration_opens_at, self.registration_closes_at
        if opens and closes and closes <= opens:
            errors["registration_closes_at"] = "Registration must close after it opens."
        if errors:
            raise ValidationError(errors)


class Track(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tracks")
    name = models.CharField(max_length=120)
    color = models.CharField(
        max_length=7, default="#2563eb", help_text="A hex colour such as #2563eb."
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["event", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["event", "name"], name="unique_track_name_per_event")
        ]

    def __str__(self) -> str:
        return self.name


class SessionKind(models.TextChoices):
    PLENARY = "plenary", "Plenary"
    SEMINAR = "seminar", "Seminar"
    WORKSHOP = "workshop", "Workshop"
    POSTER = "poster", "Poster session"
    BREAK = "break", "Break"


class Session(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    hall = models.ForeignKey(
        "venues.Hall", on_delete=models.PROTECT, related_name="sessions", null=True, blank=True
    )
    track = models.ForeignKey(
        Track, on_delete=models.SET_NULL, related_name="sessions", null=True, blank=True
    )
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=12, choices=SessionKind.choices, default=SessionKind.SEMINAR)
    abstract = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    speakers = models.ManyToManyField("conference.Speaker", related_name="sessions", blank=True)
    is_cme_eligible = models.BooleanField("CME eligible", default=False)
    is_cancelled = models.BooleanField(
        "cancelled", default=False, help_text="A cancelled session earns no credit."
    )
    designated_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(24 * 60)],
        help_text="Credit-eligible minutes designated for this session.",
    )
    qa_moderation_required = models.BooleanField(
        "Q&A moderation required",
        default=False,
        help_text="Questions wait for a moderator's approval before attendees see them.",
    )
    stream_url = models.URLField("live stream URL (HLS)", blank=True)
    captioners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="captioned_sessions",
        blank=True,
        help_text="People (registered for the event) who type live captions in this session's "
        "studio. Its speakers and moderators may caption too.",
    )
    attention_check_minutes = models.PositiveSmallIntegerField(
        "attention check every (minutes)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="Ask attendees to confirm they are present this often; empty for never.",
    )
    attention_window_seconds = models.PositiveSmallIntegerField(
        "attention check answer window (seconds)",
        default=60,
        validators=[MinValueValidator(15), MaxValueValidator(600)],
    )

    class Meta:
        ordering = ["starts_at", "hall__order", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="session_ends_after_start",
            )
        ]
        indexes = [models.Index(fields=["event", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "conference:session-detail",
            kwargs={"event_slug": self.event.slug, "session_id": self.pk},
        )

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class SessionCreditExclusion(models.Model):
    """A part of a session that earns no credit (a break, a non-accredited segment), given in
    minutes from the session's start so it needs no time zone."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="credit_exclusions")
    offset_minutes = models.PositiveIntegerField(
        "starts after (minutes)", help_text="Minutes from the session's start."
    )
    length_minutes = models.PositiveIntegerField(
        "length (minutes)", validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    reason = models.CharField(max_length=120, help_text="e.g. Coffee break, industry segment")

    class Meta:
        ordering = ["session", "offset_minutes"]
        verbose_name = "part without credit"
        verbose_name_plural = "parts without credit (breaks, non-accredited segments)"

    def __str__(self) -> str:
        return f"{self.reason}: +{self.offset_minutes} min for {self.length_minutes} min"

    def clean(self) -> None:
        super().clean()
        session = getattr(self, "session", None)
        known = (self.offset_minutes, self.length_minutes)
        if session is None or session.starts_at is None or session.ends_at is None:
            return
        if None not in known and sum(known) > session.duration_minutes:
            raise ValidationError(
                f"This part ends after the session ({session.duration_minutes} minutes)."
            )
