"""`/favicon.ico`: browsers ask for it on every page, whatever the page's `<link rel="icon">`."""

from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe


@lru_cache(maxsize=1)
def _icon() -> bytes | None:
    path = finders.find("favicon.svg")
    if not path:
        return None
    with open(path, "rb") as icon:
        return icon.read()


@require_safe
def favicon(request):
    """The site's SVG icon (every current browser accepts SVG at this address), cached a day."""
    icon = _icon()
    if icon is None:
        raise Http404("No icon.")
    response = HttpResponse(icon, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
