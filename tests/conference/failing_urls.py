"""The project's URLs plus a view that fails, to see the server error page as served."""

from django.urls import path

from conference.urls import urlpatterns as project_urlpatterns

handler500 = "conference.unavailable.server_error"


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *project_urlpatterns]
