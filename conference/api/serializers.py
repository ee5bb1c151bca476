"""Serializers per audience: the public (anyone) and the attendee (their own registrations).

Times leave in UTC (ISO 8601, "Z"); the event's IANA time zone name travels alongside so
clients can show local wall-clock times.
"""

from datetime import UTC

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conference.api.permissions import events_visible_to
from conference.models import Disclosure, Event, Organizer, Registration, Session, Speaker, Track
from venues.models import Hall


class UTCDateTimeField(serializers.DateTimeField):
    """An ISO 8601 timestamp in UTC, whatever time zone is active for the request."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)


class OrganizerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organizer
        fields = ["name", "slug", "website"]


class EventSerializer(serializers.ModelSerializer):
    organizer = OrganizerSerializer(read_only=True)
    registration_opens_at = UTCDateTimeField(read_only=True, allow_null=True)
    registration_closes_at = UTCDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = [
            "slug",
            "title",
            "description",
            "organizer",
            "timezone",
            "start_date",
            "end_date",
            "is_published",
            "registration_opens_at",
            "registration_closes_at",
            "capacity",
        ]
        read_only_fields = fields


class EventBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["slug", "title", "timezone", "start_date", "end_date"]
        read_only_fields = fields


class HallSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hall
        fields = ["id", "name", "slug", "kind"]
        read_only_fields = fields


class TrackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Track
        fields = ["id", "name", "color"]
        read_only_fields = fields


class DisclosureSerializer(serializers.ModelSerializer):
    relationship_display = serializers.CharField(source="get_relationship_display", read_only=True)

    class Meta:
        model = Disclosure
        fields = ["company", "relationship", "relationship_display", "details", "mitigated"]
        read_only_fields = fields


class SpeakerBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Speaker
        fields = ["id", "name", "credentials", "affiliation"]
        read_only_fields = fields


class SpeakerSerializer(serializers.ModelSerializer):
    """A speaker as learners see them: never their e-mail address or user account."""

    event: serializers.SlugRelatedField[Event] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    disclosures = DisclosureSerializer(many=True, read_only=True)
    disclosure_signed_at = UTCDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Speaker
        fields = [
            "id",
            "event",
            "name",
            "credentials",
            "affiliation",
            "bio",
            "has_nothing_to_disclose",
            "disclosure_signed_at",
            "disclosures",
        ]
        read_only_fields = fields


class ScheduleSessionSerializer(serializers.ModelSerializer):
    """One slot of an event's schedule."""

    hall = HallSerializer(read_only=True, allow_null=True)
    track = TrackSerializer(read_only=True, allow_null=True)
    # A list serializer (`many=True`); SessionSerializer shows the speakers in full.
    speakers: serializers.BaseSerializer[Speaker] = SpeakerBriefSerializer(
        many=True, read_only=True
    )
    starts_at = UTCDateTimeField(read_only=True)
    ends_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Session
        fields = [
            "id",
            "title",
            "kind",
            "starts_at",
            "ends_at",
            "hall",
            "track",
            "speakers",
            "is_cme_eligible",
        ]
        read_only_fields = fields


class ScheduleSerializer(serializers.Serializer):
    """An event's whole schedule, with the time zone its attendees see it in."""

    event = serializers.CharField(read_only=True, help_text="The event's slug.")
    timezone = serializers.CharField(
        read_only=True, help_text="IANA time zone the event shows its times in."
    )
    sessions = ScheduleSessionSerializer(many=True, read_only=True)


class SessionSerializer(ScheduleSessionSerializer):
    """A session with its abstract and the disclosures learners must see before it."""

    event = EventBriefSerializer(read_only=True)
    speakers = SpeakerSerializer(many=True, read_only=True)
    duration_minutes = serializers.IntegerField(read_only=True)

    class Meta(ScheduleSessionSerializer.Meta):
        fields = [
            *ScheduleSessionSerializer.Meta.fields,
            "event",
            "abstract",
            "duration_minutes",
            "designated_minutes",
            "qa_moderation_required",
        ]
        read_only_fields = fields


class RegistrationSerializer(serializers.ModelSerializer):
    event = EventBriefSerializer(read_only=True)
    created_at = UTCDateTimeField(read_only=True)
    cancelled_at = UTCDateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Registration
        fields = ["id", "event", "role", "status", "created_at", "cancelled_at"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.STR)
class VisibleEventField(serializers.SlugRelatedField):
    """An event named by slug, among the events the caller may see (others do not exist)."""

    default_error_messages = {
        "does_not_exist": "There is no event with the slug “{value}”.",
        "invalid": "Give the event's slug as a string.",
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", **kwargs)

    def get_queryset(self):
        return events_visible_to(self.context["request"].user)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RegistrationCreateSerializer(serializers.Serializer):
    event = VisibleEventField(help_text="The slug of the event to register for.")
