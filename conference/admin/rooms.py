"""Meeting rooms (docs/rooms.md): their hosts and lock, and the reports attendees send."""

from datetime import tzinfo

from django.contrib import admin
from django.http import HttpRequest

from conference.admin.moderation import ModerationAreaAdmin
from conference.admin.scoping import EventZoneFormMixin, OrganizerScopedAdmin, ScopedInlineMixin
from conference.models import Event, MeetingRoom, RoomHostSlot, RoomReport
from conference.services.organizers import Area


class RoomHostSlotInline(ScopedInlineMixin, admin.TabularInline):
    """The published times when a host is in the room (the poster's author at the poster)."""

    model = RoomHostSlot
    extra = 1
    raw_id_fields = ["host"]
    fields = ["host", "starts_at", "ends_at"]
    verbose_name_plural = "host times (shown to attendees; in the event's time zone)"


@admin.register(MeetingRoom)
class MeetingRoomAdmin(EventZoneFormMixin, OrganizerScopedAdmin):
    """The room itself (kind, capacity, place) is a meeting room placement of the hall's layout;
    here the organizer names its hosts (the expert, the poster's author, booth staff) and
    publishes the times when they are there."""

    organizer_lookup = "placement__hall__venue__organizers"
    area = Area.CONTENT
    list_display = ["room", "hall", "kind", "capacity", "locked"]
    list_select_related = ["placement__hall"]
    search_fields = ["placement__label", "placement__hall__name"]
    raw_id_fields = ["hosts"]
    fields = ["placement", "hosts", "locked"]
    readonly_fields = ["placement"]

    inlines = [RoomHostSlotInline]

    def has_add_permission(self, request):
        return False  # a room appears when its placement is first used

    def form_zone(self, request: HttpRequest, object_id: str | None) -> tzinfo | None:
        """The zone of the latest event held in the room's venue."""
        if object_id is None:
            return None
        room = MeetingRoom.objects.filter(pk=object_id).select_related("placement__hall").first()
        if room is None:
            return None
        event = (
            Event.objects.filter(venue_id=room.placement.hall.venue_id)
            .order_by("-start_date")
            .first()
        )
        return event.tzinfo if event else None

    def save_related(self, request, form, formsets, change) -> None:
        """Whoever has a host time hosts the room (admits, mutes, removes there)."""
        super().save_related(request, form, formsets, change)
        hosts = RoomHostSlot.objects.filter(room=form.instance).values_list("host_id", flat=True)
        form.instance.hosts.add(*set(hosts))

    @admin.display(description="Room", ordering="placement__label")
    def room(self, obj: MeetingRoom) -> str:
        return obj.placement.label

    @admin.display(description="Hall", ordering="placement__hall__name")
    def hall(self, obj: MeetingRoom) -> str:
        return obj.placement.hall.name

    @admin.display(description="Kind")
    def kind(self, obj: MeetingRoom) -> str:
        return str((obj.placement.props or {}).get("room", ""))

    @admin.display(description="Capacity")
    def capacity(self, obj: MeetingRoom) -> str:
        return str((obj.placement.props or {}).get("capacity", "default"))


@admin.register(RoomReport)
class RoomReportAdmin(ModerationAreaAdmin):
    """What attendees reported from a room: the room, the time and who was in it then. The
    organizer's staff mark a report handled; moderators have no admin; reports are kept."""

    organizer_lookup = "room__placement__hall__venue__organizers"
    list_display = ["created_at", "room", "reporter_name", "reason", "people_names", "handled"]
    list_filter = ["handled"]
    list_select_related = ["room__placement"]
    date_hierarchy = "created_at"
    fields = ["room", "created_at", "reporter_name", "reason", "people_names", "handled"]
    readonly_fields = ["room", "created_at", "reporter_name", "reason", "people_names"]

    @admin.display(description="People in the room")
    def people_names(self, obj: RoomReport) -> str:
        return ", ".join(person.get("name", "?") for person in obj.people) or "nobody"
