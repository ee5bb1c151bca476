"""Meeting rooms (docs/rooms.md): their hosts and lock, and the reports attendees send."""

from django.contrib import admin

from conference.admin.moderation import ModerationAreaAdmin
from conference.admin.scoping import OrganizerScopedAdmin
from conference.models import MeetingRoom, RoomReport
from conference.services.organizers import Area


@admin.register(MeetingRoom)
class MeetingRoomAdmin(OrganizerScopedAdmin):
    """The room itself (kind, capacity, place) is a meeting room placement of the hall's layout;
    here the organizer names its hosts (the expert, the poster's author, booth staff)."""

    organizer_lookup = "placement__hall__venue__organizers"
    area = Area.CONTENT
    list_display = ["room", "hall", "kind", "capacity", "locked"]
    list_select_related = ["placement__hall"]
    search_fields = ["placement__label", "placement__hall__name"]
    raw_id_fields = ["hosts"]
    fields = ["placement", "hosts", "locked"]
    readonly_fields = ["placement"]

    def has_add_permission(self, request):
        return False  # a room appears when its placement is first used

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
