"""Content-Security-Policy and Permissions-Policy on every response (docs/security.md).

Django 5.2 has no CSP of its own (it arrives in 6.0), so this middleware sends it:

- a fresh nonce per request, `request.csp_nonce`, for any inline `<script>` or `<style>` a
  template needs (`nonce="{{ request.csp_nonce }}"`); pages have no inline script and no inline
  event handler, their JavaScript comes from `static/`;
- the SHA-256 hashes of the fixed `<style>` blocks of a few templates we do not write per
  request (the error pages, which render without a request, and the admin's own change list),
  computed from the templates themselves when the process starts;
- `Cache-Control: private, no-store` on every response to a signed-in person unless the view
  set its own (signed recording segments keep their private caching); views that serve
  personal data to a token rather than a session (the agenda feed) use `never_cache`;
- camera, microphone and screen capture for the site itself only on the pages that publish
  media (`MEDIA_CAPTURE_VIEWS`, by URL name: the speakers' studio, a meeting room); denied
  everywhere else.
"""

import base64
import hashlib
import re
import secrets
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from venues.floorplan import STYLE as FLOOR_PLAN_STYLE

# URL names of the pages that capture camera, microphone or screen (getUserMedia,
# getDisplayMedia). Everything else is denied those features.
MEDIA_CAPTURE_VIEWS = frozenset({"media:studio", "venue:room"})

# Templates whose fixed <style> blocks are allowed by hash.
HASHED_STYLE_TEMPLATES = (
    "500.html",
    "503.html",
    "admin/change_list.html",
    "drf_spectacular/swagger_ui.html",
)

CAPTURE_FEATURES = ("camera", "microphone", "display-capture")
DENIED_FEATURES = (
    "geolocation",
    "payment",
    "usb",
    "serial",
    "bluetooth",
    "hid",
    "midi",
    "magnetometer",
    "gyroscope",
    "accelerometer",
    "browsing-topics",
)

STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


@cache
def style_hashes() -> tuple[str, ...]:
    """Hashes of the template-tag-free <style> blocks of HASHED_STYLE_TEMPLATES and of the
    floor plan's stylesheet."""
    found: list[str] = []
    for name in HASHED_STYLE_TEMPLATES:
        try:
            source = get_template(name).template.source  # type: ignore[attr-defined]  # the Django engine's
        except TemplateDoesNotExist:
            continue
        for body in STYLE_BLOCK.findall(source):
            if "{%" not in body and "{{" not in body:
                found.append(_hash(body))
    # The floor plan SVG (admin hall page, the 2D view, map.svg) carries its own fixed <style>.
    found.append(_hash(FLOOR_PLAN_STYLE))
    return tuple(dict.fromkeys(found))


@cache
def janus_origins() -> tuple[str, ...]:
    """The Janus hosts browsers connect to (`ws://host:port`), for connect-src."""
    origins = []
    for url in getattr(settings, "JANUS_WS_URLS", []):
        parts = urlsplit(url)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(dict.fromkeys(origins))


def content_security_policy(nonce: str, host: str, secure: bool) -> str:
    socket = f"{'wss' if secure else 'ws'}://{host}" if host else ""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", f"'nonce-{nonce}'"],
        "style-src": ["'self'", f"'nonce-{nonce}'", *style_hashes()],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:"],
        # hls.js runs its demuxer in a worker made from a blob.
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'", *([socket] if socket else []), *janus_origins()],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def permissions_policy(*, capture: bool) -> str:
    allowed = "(self)" if capture else "()"
    parts = [f"{feature}={allowed}" for feature in CAPTURE_FEATURES]
    parts += [f"{feature}=()" for feature in DENIED_FEATURES]
    return ", ".join(parts)


NO_STORE = "private, no-store"


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)  # absent on static files (answered before auth)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    """Send Content-Security-Policy and Permissions-Policy unless a view set its own, and
    `Cache-Control: private, no-store` on every answer to a signed-in person whose view did not
    choose its own caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(18)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            try:
                host = request.get_host()
            except DisallowedHost:  # answered 400; the policy names no host then
                host = ""
            response["Content-Security-Policy"] = content_security_policy(
                request.csp_nonce, host, request.is_secure()
            )
        if "Cache-Control" not in response and _signed_in(request):
            # Whatever a signed-in person is shown is theirs (their name at the least, often
            # their profile, credit or certificates): no cache, shared or the browser's, keeps it.
            response["Cache-Control"] = NO_STORE
        if "Permissions-Policy" not in response:
            match = getattr(request, "resolver_match", None)
            capture = match is not None and match.view_name in MEDIA_CAPTURE_VIEWS
            response["Permissions-Policy"] = permissions_policy(capture=capture)
        return response
