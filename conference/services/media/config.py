"""The settings of the media layer, and the configuration `make run` writes for its own Janus.

Settings (conference/settings.py, from the environment; see the README's table) name one or more
Janus hosts. Without them, and with no local Janus configured by `make run`, live media is off and
every media page says so.
"""

import json
import secrets
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from conference.services.media.janus import JanusHost

INSTALL_HINT = "Live media is off: install the Janus WebRTC server (apt-get install janus) and restart make run."
PLUGINS_FOLDERS = (
    Path("/usr/lib/x86_64-linux-gnu/janus"),
    Path("/usr/lib/aarch64-linux-gnu/janus"),
    Path("/usr/lib/janus"),
    Path("/opt/janus/lib/janus"),
)
KEPT_PLUGINS = {"libjanus_videoroom.so", "libjanus_streaming.so"}
KEPT_TRANSPORTS = {"libjanus_websockets.so", "libjanus_http.so"}


def media_hosts() -> list[JanusHost]:
    return [
        JanusHost(ws_url=ws, admin_url=admin, admin_secret=settings.JANUS_ADMIN_SECRET)
        for ws, admin in zip(settings.JANUS_WS_URLS, settings.JANUS_ADMIN_URLS, strict=True)
    ]


def media_enabled() -> bool:
    return bool(settings.JANUS_WS_URLS)


def host_for_hall(hall_id: int | None) -> JanusHost:
    """Each hall's stage lives on one host, the same one every time (a session without a hall,
    which has no stage page, would use the first)."""
    hosts = media_hosts()
    return hosts[(hall_id or 0) % len(hosts)]


def janus_private_address(hall_id: int | None) -> str:
    """The hall's Janus host on the private network: its admin API's host (loopback for `make
    run`). The recorder reads packets only from it; the ingest worker sends encoders' media to it."""
    host = urlsplit(host_for_hall(hall_id).admin_url).hostname or "127.0.0.1"
    return "127.0.0.1" if host == "localhost" else host


def janus_library_folder() -> Path | None:
    for folder in PLUGINS_FOLDERS:
        if (folder / "plugins" / "libjanus_videoroom.so").exists():
            return folder
    return None


def _disabled(folder: Path, kept: set[str]) -> str:
    names = sorted(p.name for p in folder.glob("libjanus_*.so") if p.name not in kept)
    return ",".join(names)


def local_secrets(folder: Path) -> dict[str, Any]:
    """The local Janus's secrets, generated once and kept in `folder` (mode 0600)."""
    path = folder / "secrets.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    values = {
        "admin_secret": secrets.token_urlsafe(24),
        "token_secret": secrets.token_urlsafe(32),
        "room_secret": secrets.token_urlsafe(24),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def write_local_janus(
    folder: Path,
    *,
    ws_port: int,
    admin_port: int,
    rtp_ports: tuple[int, int],
    streaming_ports: tuple[int, int],
    library: Path,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a loopback-only Janus configuration into `folder` and the file the web process
    reads to reach it (`medvenue.json`); returns that file's content."""
    folder.mkdir(parents=True, exist_ok=True)
    values = values or local_secrets(folder)
    files = {
        "janus.jcfg": f"""general: {{
	configs_folder = "{folder}"
	plugins_folder = "{library / "plugins"}"
	transports_folder = "{library / "transports"}"
	events_folder = "{library / "events"}"
	loggers_folder = "{library / "loggers"}"
	debug_level = 3
	admin_secret = "{values["admin_secret"]}"
	token_auth = true
	token_auth_secret = "{values["token_secret"]}"
	session_timeout = 60
	server_name = "medvenue"
}}
media: {{
	rtp_port_range = "{rtp_ports[0]}-{rtp_ports[1]}"
}}
nat: {{
	nice_debug = false
}}
plugins: {{
	disable = "{_disabled(library / "plugins", KEPT_PLUGINS)}"
}}
transports: {{
	disable = "{_disabled(library / "transports", KEPT_TRANSPORTS)}"
}}
loggers: {{
	disable = "{_disabled(library / "loggers", set())}"
}}
events: {{
	broadcast = false
	disable = "{_disabled(library / "events", set())}"
}}
""",
        "janus.transport.websockets.jcfg": f"""general: {{
	json = "compact"
	ws = true
	ws_port = {ws_port}
	ws_ip = "127.0.0.1"
	wss = false
}}
admin: {{
	admin_ws = false
	admin_wss = false
}}
""",
        "janus.transport.http.jcfg": f"""general: {{
	json = "compact"
	http = false
	https = false
}}
admin: {{
	admin_base_path = "/admin"
	admin_http = true
	admin_port = {admin_port}
	admin_ip = "127.0.0.1"
	admin_https = false
}}
""",
        "janus.plugin.videoroom.jcfg": f"""general: {{
	admin_key = "{values["room_secret"]}"
	lock_rtp_forward = true
}}
""",
        "janus.plugin.streaming.jcfg": f"""general: {{
	admin_key = "{values["room_secret"]}"
	rtp_port_range = "{streaming_ports[0]}-{streaming_ports[1]}"
}}
""",
    }
    for name, text in files.items():
        path = folder / name
        path.write_text(text)
        path.chmod(0o600)
    client = {
        "ws_url": f"ws://127.0.0.1:{ws_port}/",
        "admin_url": f"http://127.0.0.1:{admin_port}/admin",
        **values,
    }
    path = folder / "medvenue.json"
    path.write_text(json.dumps(client))
    path.chmod(0o600)
    return client


def janus_installed() -> bool:
    return shutil.which("janus") is not None and janus_library_folder() is not None
