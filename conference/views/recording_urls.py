from django.urls import path

from conference.views import recordings

app_name = "recordings"

urlpatterns = [
    path("<int:recording_id>/", recordings.detail, name="detail"),
    path("<int:recording_id>/progress/", recordings.heartbeat, name="heartbeat"),
    path("<int:recording_id>/files/<str:token>/<str:name>", recordings.media, name="media"),
    path(
        "<int:recording_id>/files/<str:token>/<str:folder>/<str:name>",
        recordings.media,
        name="media-nested",
    ),
    path(
        "<int:recording_id>/captions/<str:token>/<str:language>.vtt",
        recordings.caption,
        name="caption",
    ),
]
