"""A live HLS test stream on loopback, for the capture tests.

ffmpeg encodes a test pattern with a tone in real time (`-re`) into a sliding HLS playlist
(1 s segments, six in the playlist, old ones deleted), and a threaded http.server serves the
folder on 127.0.0.1 at a free port: the same thing a stage encoder and CDN give the capture.
"""

import functools
import http.server
import socket
import subprocess
import threading
import time
from pathlib import Path

PLAYLIST = "live.m3u8"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class LiveHlsStream:
    """`with LiveHlsStream(folder) as stream:` serves a live stream at `stream.url`."""

    def __init__(self, folder: Path, *, size: str = "320x180", rate: int = 25):
        self.folder = folder
        self.size = size
        self.rate = rate
        self.encoder: subprocess.Popen | None = None
        self.server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/{PLAYLIST}"

    def __enter__(self) -> "LiveHlsStream":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.encoder = subprocess.Popen(self.encoder_command(), stdin=subprocess.DEVNULL)
        handler = functools.partial(QuietHandler, directory=str(self.folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.wait_for_segments(3)
        return self

    def __exit__(self, *exc) -> None:
        self.encoder.terminate()
        try:
            self.encoder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.encoder.kill()
            self.encoder.wait()
        self.server.shutdown()
        self.server.server_close()

    def encoder_command(self) -> list[str]:
        command = ["ffmpeg", "-v", "error", "-nostdin", "-re"]
        command += ["-f", "lavfi", "-i", f"testsrc=size={self.size}:rate={self.rate}"]
        command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
        command += ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"]
        command += ["-g", str(self.rate), "-pix_fmt", "yuv420p", "-c:a", "aac"]
        command += ["-f", "hls", "-hls_time", "1", "-hls_list_size", "6"]
        command += ["-hls_flags", "delete_segments+temp_file"]
        command += ["-hls_segment_filename", str(self.folder / "seg_%05d.ts")]
        return [*command, str(self.folder / PLAYLIST)]

    def wait_for_segments(self, count: int, *, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        playlist = self.folder / PLAYLIST
        while time.monotonic() < deadline:
            if playlist.exists() and playlist.read_text().count("#EXTINF") >= count:
                return
            if self.encoder.poll() is not None:
                raise RuntimeError(f"the test encoder exited with {self.encoder.returncode}")
            time.sleep(0.1)
        raise RuntimeError(f"the test stream had no {count} segments after {timeout} s")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
