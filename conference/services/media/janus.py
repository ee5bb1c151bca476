"""The Janus admin API, as the web process and the workers use it (HTTP, loopback or a private
network only; the admin secret never leaves the server).

Plugin requests go through the admin API's `message_plugin`, which answers synchronously and needs
no Janus session of the server's own.
"""

import json
import logging
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
STREAMING = "janus.plugin.streaming"
TIMEOUT_SECONDS = 5.0


class MediaUnavailable(Exception):
    """Janus could not be reached or refused a request; the message says which."""


@dataclass(frozen=True, slots=True)
class JanusHost:
    ws_url: str  # what browsers connect to
    admin_url: str  # what the server calls, e.g. http://127.0.0.1:7088/admin
    admin_secret: str


class JanusAdmin:
    def __init__(self, host: JanusHost, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.host = host
        self.timeout = timeout

    def call(self, body: dict[str, Any], *, path: str = "") -> dict[str, Any]:
        """POST one admin request; returns Janus's answer or raises MediaUnavailable."""
        request_body = {
            **body,
            "transaction": secrets.token_hex(8),
            "admin_secret": self.host.admin_secret,
        }
        request = urllib.request.Request(  # noqa: S310 - admin URL from settings
            self.host.admin_url.rstrip("/") + path,
            data=json.dumps(request_body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - admin URL from settings
                answer = json.load(response)
        except (OSError, urllib.error.URLError, ValueError) as error:
            raise MediaUnavailable(f"Janus admin API at {self.host.admin_url}: {error}") from error
        if answer.get("janus") == "error":
            reason = answer.get("error", {}).get("reason", "unknown error")
            raise MediaUnavailable(f"Janus refused {body.get('janus')}: {reason}")
        return dict(answer)

    def plugin(
        self, plugin: str, request: dict[str, Any], *, allow_codes: tuple[int, ...] = ()
    ) -> dict[str, Any]:
        """A synchronous plugin request; a plugin error (other than `allow_codes`) raises."""
        answer = self.call({"janus": "message_plugin", "plugin": plugin, "request": request})
        response = answer.get("response") or {}
        code = response.get("error_code")
        if code and code not in allow_codes:
            raise MediaUnavailable(
                f"{plugin} refused {request.get('request')}: {response.get('error')}"
            )
        return response

    def info(self) -> dict[str, Any]:
        return self.call({"janus": "info"})

    def sessions(self) -> list[int]:
        return list(self.call({"janus": "list_sessions"}).get("sessions") or [])

    def handles(self, session_id: int) -> list[int]:
        answer = self.call({"janus": "list_handles"}, path=f"/{session_id}")
        return list(answer.get("handles") or [])

    def handle_info(self, session_id: int, handle_id: int) -> dict[str, Any]:
        answer = self.call({"janus": "handle_info"}, path=f"/{session_id}/{handle_id}")
        return answer.get("info") or {}

    def destroy_session(self, session_id: int) -> None:
        try:
            self.call({"janus": "destroy_session"}, path=f"/{session_id}")
        except MediaUnavailable as error:
            # Gone between listing and destroying: what we wanted.
            logger.info("session %s was already gone: %s", session_id, error)
