"""ASGI entry point: HTTP through Django, websockets through Channels (origin-checked, with the
Django session authenticating the user)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conference.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from conference.live.db import LiveAuthMiddlewareStack  # noqa: E402
from conference.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            # The channels stubs want their own (stub-only) URL pattern type, which `path()`
            # never returns; Channels routes Django's URLPatterns at run time.
            LiveAuthMiddlewareStack(URLRouter(websocket_urlpatterns))  # type: ignore[arg-type]
        ),
    }
)

# A hall with a thousand sockets holds millions of long-lived objects; Python's full garbage
# collections then pause the event loop for hundreds of milliseconds (measured: 180-340 ms).
# Everything loaded at start-up is frozen out of collection, and young collections run less often,
# so full collections become rare. See docs/performance.md.
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 50, 100)
