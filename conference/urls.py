from django.contrib import admin
from django.urls import include, path

from accounts.forms import ThrottledAdminAuthenticationForm
from accounts.views import admin_login
from conference.health import healthz, healthz_live, healthz_ready
from conference.views.cme import verify as cme_verify
from conference.views.favicon import favicon
from conference.views.invitations import invitation
from conference.views.presenter import presenter

# The admin login shares the brute-force throttle of the attendee login.
admin.site.login_form = ThrottledAdminAuthenticationForm

# A database outage raised outside a view answers 503 + Retry-After (conference/unavailable.py).
handler500 = "conference.unavailable.server_error"

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", healthz, name="healthz"),
    path("healthz/live", healthz_live, name="healthz-live"),
    path("healthz/ready", healthz_ready, name="healthz-ready"),
    # Before the admin's own "login/" so that a throttled attempt answers 429.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("cme/", include("conference.views.cme_urls")),
    path("recordings/", include("conference.views.recording_urls")),
    path("issuers/<slug:organizer_slug>/", include("conference.views.issuer_urls")),
    path("verify/<str:code>/", cme_verify, name="cme-verify"),
    path("invitations/<str:token>/", invitation, name="invitation"),
    path("verify/<str:code>/v<int:version>/", cme_verify, name="cme-verify-version"),
    path("api/events/<slug:event_slug>/venue/", include("conference.api.venue_urls")),
    path("api/", include("conference.api.urls")),
    path(
        "events/<slug:event_slug>/venue/<slug:hall_slug>/presenter/",
        presenter,
        name="presenter",
    ),
    path("events/<slug:event_slug>/venue/", include("conference.views.venue_urls")),
    path(
        "events/<slug:event_slug>/sessions/<int:session_id>/",
        include("conference.views.media_urls"),
    ),
    path("", include("conference.views.urls")),
]
