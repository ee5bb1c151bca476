"""A forward proxy on loopback through which the capture's ffmpeg reaches ONE origin (issue 12).

A live HLS stream is a playlist that names its segments (and a master playlist names media
playlists); ffmpeg opens whatever they name. The stream URL's origin (scheme, host, port) is
the only place a capture may read from: a playlist naming another host (an internal address,
a cloud metadata service, another organizer's server) must not make the worker fetch it.
ffmpeg cannot restrict hosts itself, so each capture run starts a `StreamGate` and gives
ffmpeg its address as HTTP proxy (`-http_proxy`, and `http_proxy` in its environment):

- plain http: ffmpeg sends `GET http://host:port/path`; the gate forwards it only when host
  and port are the origin's and the scheme is the stream URL's, else answers 403;
- https: ffmpeg sends `CONNECT host:port`; the gate tunnels it only to the origin.

Refused targets are kept in `refused` (shown redacted in the capture's error). The protocol
whitelist of the capture (`http,https,tcp,tls,crypto,httpproxy`) keeps `file:` and every other
protocol out; the gate keeps every other host out.
"""

import http.client
import http.server
import selectors
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"
READ_TIMEOUT_SECONDS = 15
CHUNK_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> "Origin":
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        return cls(scheme, host, parts.port or DEFAULT_PORTS.get(scheme, 0))

    def matches(self, scheme: str, host: str, port: int | None) -> bool:
        port = port or DEFAULT_PORTS.get(scheme, 0)
        return (scheme, host.lower().strip("[]"), port) == (self.scheme, self.host, self.port)


class StreamGate:
    """`with StreamGate(url) as gate:` a proxy at `gate.proxy_url` that reaches `url`'s origin
    only."""

    def __init__(self, url: str) -> None:
        self.origin = Origin.of(url)
        self.refused: list[str] = []
        self.unreachable = ""  # why the origin could not be reached, last time it could not
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None

    @property
    def proxy_url(self) -> str:
        assert self._server is not None  # noqa: S101 - only used inside `with`
        return f"http://{LOOPBACK}:{self._server.server_port}"

    def __enter__(self) -> "StreamGate":
        handler = type("Handler", (_GateHandler,), {"gate": self})
        self._server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None  # noqa: S101
        self._server.shutdown()
        self._server.server_close()

    def refuse(self, target: str) -> None:
        with self._lock:
            if target not in self.refused:
                self.refused.append(target)


class _GateHandler(http.server.BaseHTTPRequestHandler):
    gate: StreamGate
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_SECONDS

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_CONNECT(self) -> None:
        host, _, port = self.path.rpartition(":")
        if not port.isdigit() or not self.gate.origin.matches("https", host, int(port)):
            self._refuse(f"https://{self.path}/")
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
        except OSError as error:
            self._unreachable(error)
            return
        with upstream:
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            _relay(self.connection, upstream)
        self.close_connection = True

    def do_GET(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def _forward(self) -> None:
        self.close_connection = True
        try:
            parts = urlsplit(self.path)
            port = parts.port
        except ValueError:
            self._refuse("(an invalid address)")
            return
        if not parts.hostname or not self.gate.origin.matches(parts.scheme, parts.hostname, port):
            self._refuse(self.path)
            return
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        connection = http.client.HTTPConnection(
            parts.hostname, port or 80, timeout=READ_TIMEOUT_SECONDS
        )
        try:
            connection.request(self.command, path, headers=headers)
            response = connection.getresponse()
            self._relay_response(response)
        except OSError as error:
            self._unreachable(error)
        finally:
            connection.close()

    def _relay_response(self, response: http.client.HTTPResponse) -> None:
        self.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        while chunk := response.read(CHUNK_BYTES):
            self.wfile.write(chunk)

    def _unreachable(self, error: OSError) -> None:
        self.gate.unreachable = error.strerror or str(error) or type(error).__name__
        self.send_error(502, "Cannot reach the stream")

    def _refuse(self, target: str) -> None:
        self.gate.refuse(target)
        self.close_connection = True
        body = b"Only the stream's own host may be read.\n"
        self.send_response(403, "Forbidden")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes or stays silent for the read timeout."""
    # Each side's descriptor -> (that side, the other side).
    ends = {client.fileno(): (client, upstream), upstream.fileno(): (upstream, client)}
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ)
        selector.register(upstream, selectors.EVENT_READ)
        while events := selector.select(timeout=READ_TIMEOUT_SECONDS):
            for key, _ in events:
                source, target = ends[key.fd]
                try:
                    data = source.recv(CHUNK_BYTES)
                    if not data:
                        return
                    target.sendall(data)
                except OSError:
                    return
