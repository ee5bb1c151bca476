"""A real Janus for the media tests: its own configuration (written by the same code as
`make run`'s), free loopback ports, its own secrets; stopped when the test ends."""

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import websockets

from conference.services.media.config import janus_library_folder, write_local_janus


@dataclass(frozen=True)
class JanusServer:
    ws_url: str
    admin_url: str
    admin_secret: str
    token_secret: str
    room_secret: str
    folder: Path

    def settings(self) -> dict:
        first, last = media_port_ranges()["recorder"]
        return {
            "RECORDING_RTP_PORTS": f"{first}-{last}",
            "JANUS_WS_URLS": [self.ws_url],
            "JANUS_ADMIN_URLS": [self.admin_url],
            "JANUS_ADMIN_SECRET": self.admin_secret,
            "JANUS_TOKEN_SECRET": self.token_secret,
            "JANUS_ROOM_SECRET": self.room_secret,
        }

    def environment(self) -> dict[str, str]:
        first, last = media_port_ranges()["recorder"]
        return {
            "RECORDING_RTP_PORTS": f"{first}-{last}",
            "JANUS_WS_URLS": self.ws_url,
            "JANUS_ADMIN_URLS": self.admin_url,
            "JANUS_ADMIN_SECRET": self.admin_secret,
            "JANUS_TOKEN_SECRET": self.token_secret,
            "JANUS_ROOM_SECRET": self.room_secret,
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def udp_port_free(port: int) -> bool:
    """Nothing is bound to UDP `port` on loopback (a listener of a test's worker would be)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_udp_ports(count: int) -> list[int]:
    """`count` consecutive free UDP ports on loopback, the first even (an RTP port and the RTCP
    port next to it, and so on)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1] & ~1
        ports = list(range(first, first + count))
        if all(udp_port_free(port) for port in ports):
            return ports


def _answers(admin_url: str, admin_secret: str) -> bool:
    body = json.dumps({"janus": "info", "transaction": "t", "admin_secret": admin_secret}).encode()
    request = urllib.request.Request(admin_url, body, {"Content-Type": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 - loopback
            return json.load(response).get("janus") == "server_info"
    except OSError:
        return False


def media_port_range() -> tuple[int, int]:
    """The UDP ports this test run's Janus and recorders may use (`MEDVENUE_TEST_MEDIA_PORTS`,
    "first-last", default 20000-21999), so test runs on one machine can be kept apart."""
    first, _, last = os.environ.get("MEDVENUE_TEST_MEDIA_PORTS", "20000-21999").partition("-")
    return int(first), int(last)


def media_port_ranges() -> dict[str, tuple[int, int]]:
    """The range split in three: Janus's own RTP ports (ICE), the stage mountpoints' ports and
    the recorders' ports."""
    first, last = media_port_range()
    third = (last - first + 1) // 3
    return {
        "rtp": (first, first + third - 1),
        "stage": (first + third, first + 2 * third - 1),
        "recorder": (first + 2 * third, last),
    }


def janus_available() -> bool:
    return shutil.which("janus") is not None and janus_library_folder() is not None


@contextmanager
def janus_server(timeout: float = 20.0):
    folder = Path(tempfile.mkdtemp(prefix="medvenue-janus-"))
    values = {
        "admin_secret": secrets.token_urlsafe(16),
        "token_secret": secrets.token_urlsafe(24),
        "room_secret": secrets.token_urlsafe(16),
    }
    ws_port, admin_port = _free_port(), _free_port()
    client = write_local_janus(
        folder,
        ws_port=ws_port,
        admin_port=admin_port,
        rtp_ports=media_port_ranges()["rtp"],
        streaming_ports=media_port_ranges()["stage"],
        library=janus_library_folder(),
        values=values,
    )
    log = (folder / "janus.log").open("wb")
    process = subprocess.Popen(
        [
            shutil.which("janus"),
            "--configs-folder",
            str(folder),
            "--config",
            str(folder / "janus.jcfg"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not _answers(client["admin_url"], values["admin_secret"]):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"Janus did not start: {(folder / 'janus.log').read_text()[-2000:]}"
                )
            time.sleep(0.1)
        yield JanusServer(
            ws_url=client["ws_url"],
            admin_url=client["admin_url"],
            folder=folder,
            **values,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


class JanusClient:
    """A minimal client of Janus's WebSocket API (what janus.js sends), for the tests."""

    def __init__(self, url: str):
        self.url = url

    async def __aenter__(self):
        self.ws = await websockets.connect(self.url, subprotocols=["janus-protocol"])
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def request(self, body: dict) -> dict:
        transaction = secrets.token_hex(6)
        await self.ws.send(json.dumps({**body, "transaction": transaction}))
        while True:
            answer = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if answer.get("transaction") == transaction and answer.get("janus") != "ack":
                return answer


def janus_request(url: str, *bodies: dict) -> list[dict]:
    async def run():
        async with JanusClient(url) as client:
            return [await client.request(body) for body in bodies]

    return asyncio.run(run())
