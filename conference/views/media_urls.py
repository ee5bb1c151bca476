from django.urls import path

from conference.views import media

app_name = "media"

urlpatterns = [
    path("studio/", media.studio, name="studio"),
    path("studio/grant/", media.studio_grant, name="studio-grant"),
    path("studio/renew/", media.renew, name="renew"),
    path("studio/state/", media.studio_state, name="studio-state"),
    path("studio/stage/", media.studio_stage, name="studio-stage"),
    path("studio/chat/", media.studio_chat, name="studio-chat"),
    path("studio/caption/", media.studio_caption, name="studio-caption"),
    path("studio/encoder/", media.studio_encoder, name="studio-encoder"),
    path("stage/grant/", media.stage_grant, name="stage-grant"),
    path("stage/hls/<str:token>/<str:name>", media.stage_hls, name="stage-hls"),
]
