from django.contrib import admin
from django.urls import include, path

from accounts.forms import ThrottledAdminAuthenticationForm
from conference.health import healthz
from conference.views.presenter import presenter

# The admin login shares the brute-force throttle of the attendee login.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/events/<slug:event_slug>/venue/", include("conference.api.venue_urls")),
    path("api/", include("conference.api.urls")),
    path(
        "events/<slug:event_slug>/venue/<slug:hall_slug>/presenter/",
        presenter,
        name="presenter",
    ),
    path("events/<slug:event_slug>/venue/", include("conference.views.venue_urls")),
    path("", include("conference.views.urls")),
]
