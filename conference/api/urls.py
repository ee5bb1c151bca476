from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from conference.api import views

app_name = "api"

router = DefaultRouter()
router.register("events", views.EventViewSet, basename="event")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("speakers", views.SpeakerViewSet, basename="speaker")
router.register("me/registrations", views.MyRegistrationViewSet, basename="my-registration")

# Only Swagger UI: drf-spectacular's Redoc template loads fonts from Google, which we do not allow.
# The split view serves Swagger UI's start script as a file (`?script=`), not inline (CSP).
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]
