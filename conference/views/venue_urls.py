from django.urls import path

from conference.views import rooms, venue

app_name = "venue"

ROOM = "<slug:hall_slug>/rooms/<int:room_id>/"

urlpatterns = [
    path("", venue.lobby, name="lobby"),
    path("<slug:hall_slug>/", venue.hall, name="hall"),
    path("<slug:hall_slug>/map.svg", venue.hall_map, name="hall-map"),
    path("<slug:hall_slug>/rooms/", rooms.rooms, name="rooms"),
    path(ROOM, rooms.room, name="room"),
    path(ROOM + "join/", rooms.join, name="room-join"),
    path(ROOM + "leave/", rooms.leave, name="room-leave"),
    path(ROOM + "renew/", rooms.renew, name="room-renew"),
    path(ROOM + "state/", rooms.state, name="room-state"),
    path(ROOM + "chat/", rooms.chat, name="room-chat"),
    path(ROOM + "queue/", rooms.queue, name="room-queue"),
    path(ROOM + "admit/", rooms.admit, name="room-admit"),
    path(ROOM + "end-slot/", rooms.end_slot, name="room-end-slot"),
    path(ROOM + "note/", rooms.note, name="room-note"),
    path(ROOM + "moderate/", rooms.moderate, name="room-moderate"),
    path(ROOM + "report/", rooms.report, name="room-report"),
]
