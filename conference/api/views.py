"""REST API viewsets. Each scopes `get_queryset()` to the caller; writes go through services."""

from django.db.models import Prefetch
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from conference.api import permissions as scopes
from conference.api.serializers import (
    EventSerializer,
    RegistrationCreateSerializer,
    RegistrationSerializer,
    ScheduleSerializer,
    SessionSerializer,
    SpeakerSerializer,
)
from conference.models import Disclosure, Speaker
from conference.services.refusals import Refused
from conference.services.registrations import (
    cancel_registration,
    register_attendee,
)

EVENT_FILTER = OpenApiParameter(
    "event", str, description="Only items of the event with this slug.", required=False
)
ERROR_RESPONSE = inline_serializer(
    "RegistrationErrorResponse",
    fields={"detail": serializers.CharField(), "code": serializers.CharField()},
)


def _filter_by_event(queryset, request: Request):
    slug = request.query_params.get("event")
    return queryset.filter(event__slug=slug) if slug else queryset


def _error_response(error: Refused) -> Response:
    return Response(
        {"detail": error.message, "code": error.code}, status=status.HTTP_400_BAD_REQUEST
    )


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """Published events, plus the unpublished events of the caller's own organizers."""

    serializer_class = EventSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return scopes.events_visible_to(self.request.user).select_related("organizer")

    @extend_schema(responses=ScheduleSerializer)
    @action(detail=True, methods=["get"], pagination_class=None)
    def schedule(self, request: Request, slug: str) -> Response:
        """The event's sessions with hall, track and speakers; times in UTC."""
        event = self.get_object()
        sessions = (
            event.sessions.select_related("hall", "track")
            .prefetch_related(Prefetch("speakers", queryset=Speaker.objects.order_by("name")))
            .order_by("starts_at", "hall__order", "title")
        )
        data = {"event": event.slug, "timezone": event.timezone, "sessions": sessions}
        return Response(ScheduleSerializer(data, context=self.get_serializer_context()).data)


def _speakers_with_disclosures():
    return Prefetch(
        "speakers",
        queryset=Speaker.objects.select_related("event").prefetch_related(
            Prefetch("disclosures", queryset=Disclosure.objects.order_by("company"))
        ),
    )


@extend_schema_view(list=extend_schema(parameters=[EVENT_FILTER]))
class SessionViewSet(viewsets.ReadOnlyModelViewSet):
    """Sessions of the events the caller may see, with speakers and their disclosures."""

    serializer_class = SessionSerializer

    def get_queryset(self):
        sessions = scopes.sessions_visible_to(self.request.user)
        if self.action == "list":
            sessions = _filter_by_event(sessions, self.request)
        return sessions.select_related("event", "hall", "track").prefetch_related(
            _speakers_with_disclosures()
        )


@extend_schema_view(list=extend_schema(parameters=[EVENT_FILTER]))
class SpeakerViewSet(viewsets.ReadOnlyModelViewSet):
    """Speakers of the events the caller may see, with their financial disclosures."""

    serializer_class = SpeakerSerializer

    def get_queryset(self):
        speakers = scopes.speakers_visible_to(self.request.user)
        if self.action == "list":
            speakers = _filter_by_event(speakers, self.request)
        return speakers.select_related("event").prefetch_related(
            Prefetch("disclosures", queryset=Disclosure.objects.order_by("company"))
        )


@extend_schema_view(
    create=extend_schema(
        request=RegistrationCreateSerializer,
        responses={
            201: RegistrationSerializer,
            400: OpenApiResponse(ERROR_RESPONSE, description="Registration not possible."),
        },
    ),
    destroy=extend_schema(
        description="Cancel the registration. The row is kept with status `cancelled`.",
        responses={204: None, 400: ERROR_RESPONSE},
    ),
)
@extend_schema(tags=["registrations"])
class MyRegistrationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own registrations: list, register for an event, cancel."""

    serializer_class = RegistrationSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return scopes.registrations_of(self.request.user).select_related("event")

    def create(self, request: Request, *args, **kwargs) -> Response:
        user = request.user
        if not isinstance(user, User):  # `IsAuthenticated` lets only signed-in users this far
            raise exceptions.NotAuthenticated
        payload = RegistrationCreateSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        try:
            registration = register_attendee(payload.validated_data["event"], user)
        except Refused as error:
            return _error_response(error)
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        try:
            cancel_registration(self.get_object())
        except Refused as error:
            return _error_response(error)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: RegistrationSerializer, 400: ERROR_RESPONSE})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel the registration and return it. The row is kept with status `cancelled`."""
        try:
            registration = cancel_registration(self.get_object())
        except Refused as error:
            return _error_response(error)
        return Response(RegistrationSerializer(registration).data)
