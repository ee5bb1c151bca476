"""Media input can never name another file or a URL (issue 12): the real attacks, real ffmpeg.

Each attack is a small text file named `lecture.mp4` that ffmpeg would take for a list of other
inputs: an HLS playlist naming another recording's segment, a concat list, an `http://` entry,
a `subfile:` entry. The target "segment" is a named pipe that records whether anything opened
it, and the `http://` target is a loopback server that records every request, so "nothing was
read" is observed, not assumed. A control test shows plain ffprobe does follow such a playlist.
"""

import http.server
import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from conference.models import RecordingStatus
from conference.services.recordings import capture, media_input, paths, pipeline, transcode
from conference.services.recordings.probe import NotAVideo, probe, run_ffprobe
from conference.services.recordings.stream_gate import StreamGate
from tests.factories import SessionFactory
from tests.support.capture import LiveHlsStream
from tests.support.recording import make_test_video, needs_ffmpeg
from tests.support.recording_pipeline import folders, recording_with_source

pytestmark = needs_ffmpeg

HLS_REASON = "This file is an HLS playlist (a list naming other files or addresses), not a video."
CONCAT_REASON = "This file is a concat list (a list naming other files), not a video."
WHITELIST_HLS = HLS_REASON
WHITELIST_CONCAT = CONCAT_REASON


class OpenSentinel:
    """A named pipe standing in for another recording's segment: `opened` is set when
    anything opens it for reading."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        self.opened = threading.Event()
        self.closing = False
        self.thread = threading.Thread(target=self._wait, daemon=True)
        self.thread.start()

    def _wait(self) -> None:
        descriptor = os.open(self.path, os.O_WRONLY)  # returns once a reader opens the pipe
        if not self.closing:
            self.opened.set()
        os.close(descriptor)

    def close(self) -> None:
        self.closing = True
        reader = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self.thread.join(timeout=5)
        os.close(reader)


class RecordingServer:
    """A loopback HTTP server that records the path of every request it receives."""

    def __init__(self):
        self.requests: list[str] = []
        recorder = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                recorder.append(self.path)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def segment(tmp_path):
    """Organizer A's private segment, as a sentinel pipe."""
    sentinel = OpenSentinel(tmp_path / "recordings" / "4" / "gen-1" / "360p" / "seg_00000.ts")
    yield sentinel
    sentinel.close()


@pytest.fixture
def web():
    server = RecordingServer()
    yield server
    server.close()


def _playlist(entry: str) -> str:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\n{entry}\n#EXT-X-ENDLIST\n"


def _attacks(segment: Path, web: str) -> dict[str, tuple[str, str]]:
    """name -> (content of lecture.mp4, the reason it is refused with)."""
    subfile = f"subfile,,start,0,end,0,,:{segment}"
    return {
        "hls-file": (_playlist(str(segment)), HLS_REASON),
        "hls-http": (_playlist(f"{web}/seg_00000.ts"), HLS_REASON),
        "hls-subfile": (_playlist(subfile), HLS_REASON),
        "concat-file": (f"ffconcat version 1.0\nfile '{segment}'\n", CONCAT_REASON),
        "concat-http": (f"ffconcat version 1.0\nfile '{web}/seg_00000.ts'\n", CONCAT_REASON),
        "concat-subfile": (f"ffconcat version 1.0\nfile '{subfile}'\n", CONCAT_REASON),
    }


ATTACKS = ["hls-file", "hls-http", "hls-subfile", "concat-file", "concat-http", "concat-subfile"]


def _attack_file(tmp_path: Path, segment, web, name: str) -> tuple[Path, str]:
    content, reason = _attacks(segment.path, web.origin)[name]
    upload = tmp_path / "upload" / "lecture.mp4"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text(content)
    return upload, reason


def test_plain_ffprobe_follows_a_playlist_named_mp4(tmp_path, segment, web):
    """The control: without the protections ffprobe opens the file the playlist names.
    (ffmpeg 5.1 itself keeps a local playlist to file/crypto/data entries; the http entries
    matter for a playlist that ffmpeg reads over http, see the capture tests below.)"""
    upload, _ = _attack_file(tmp_path, segment, web, "hls-file")

    subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", str(upload)],
        capture_output=True,
        timeout=30,
        check=False,
    )

    assert segment.opened.wait(timeout=5)


@pytest.mark.parametrize("name", ATTACKS)
def test_probe_refuses_list_files_and_reads_nothing(tmp_path, segment, web, name):
    upload, reason = _attack_file(tmp_path, segment, web, name)

    with pytest.raises(NotAVideo) as refused:
        probe(upload)

    assert str(refused.value) == f"{reason} Upload the video file itself " + (
        "(MP4/MOV, MKV/WebM, MPEG-TS or AVI)."
    )
    assert (segment.opened.is_set(), web.requests) == (False, [])


@pytest.mark.parametrize("name", ATTACKS)
def test_ffprobe_alone_refuses_list_formats_and_reads_nothing(tmp_path, segment, web, name):
    """Defence in depth: past the first-bytes check, ffprobe's own whitelists refuse."""
    upload, reason = _attack_file(tmp_path, segment, web, name)

    with pytest.raises(NotAVideo) as refused:
        run_ffprobe(upload)

    assert str(refused.value).startswith(reason), refused.value
    assert (segment.opened.is_set(), web.requests) == (False, [])


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["hls-file", "hls-http", "concat-subfile"])
def test_process_recording_of_a_list_fails_with_reason_and_publishes_nothing(
    recordings_root, tmp_path, segment, web, name
):
    upload, reason = _attack_file(tmp_path, segment, web, name)
    recording = recording_with_source(upload)

    result = pipeline.process_recording(recording.pk)

    assert (result.status, result.error.startswith(reason), result.published_dir) == (
        RecordingStatus.FAILED,
        True,
        "",
    )
    assert folders(paths.recording_root(recording)) == ["source"]
    assert (segment.opened.is_set(), web.requests) == (False, [])


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://10.0.0.1/x.m3u8\n", HLS_REASON),
        (b"\xef\xbb\xbf  #extm3u\n", HLS_REASON),
        (
            b"<?xml version='1.0'?>\n<MPD xmlns='urn:mpeg:dash:schema:mpd:2011'>",
            "This file is a DASH",
        ),
        (
            b"v=0\no=- 0 0 IN IP4 10.0.0.1\nc=IN IP4 10.0.0.1\nm=video 5004 RTP/AVP 96\n",
            "This file is a session",
        ),
        (b"just some notes\n", "This is a text file, not a video."),
    ],
    ids=["master-playlist", "bom-lowercase", "dash", "sdp", "text"],
)
def test_indirection_reason_names_what_the_text_is(tmp_path, content, reason):
    path = tmp_path / "talk.mp4"
    path.write_bytes(content)

    assert media_input.indirection_reason(path).startswith(reason)


def test_indirection_reason_leaves_a_real_video_to_ffprobe(tmp_path):
    video = make_test_video(tmp_path / "talk.mkv", seconds=1, size="160x90")

    assert (media_input.indirection_reason(video), probe(video).demuxer) == ("", "matroska")


def test_video_in_a_format_off_the_list_is_refused(tmp_path):
    flv = make_test_video(tmp_path / "talk.flv", seconds=1, size="160x90", audio=False)

    with pytest.raises(NotAVideo) as refused:
        probe(flv)

    assert str(refused.value) == (
        "Videos in the flv format are not accepted. Upload the video file itself "
        "(MP4/MOV, MKV/WebM, MPEG-TS or AVI)."
    )


def test_transcode_commands_open_only_the_file_with_the_probed_demuxer(tmp_path):
    source = make_test_video(tmp_path / "talk.mp4", seconds=1, size="320x180")
    plan = transcode.plan_renditions(probe(source))

    for command in transcode.build_commands(source, tmp_path / "w", plan):
        at = command.index("-i")
        assert command[at - 6 : at + 2] == [
            *("-protocol_whitelist", "file"),
            *("-format_whitelist", "mov,matroska,mpegts,avi"),
            *("-f", "mov", "-i", f"file:{source.resolve()}"),
        ]


# --- Capture: only the stream's own scheme and host -----------------------------------------


class PlaylistServer(RecordingServer):
    """Serves one live-looking playlist whose entries point elsewhere."""

    def __init__(self, playlist: str):
        super().__init__()
        body = playlist.encode()
        recorder = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                recorder.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.apple.mpegurl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server.RequestHandlerClass = Handler


def _live_playlist(entry: str) -> str:
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:1.0,\n{entry}\n"
    )


@pytest.fixture
def short_capture(settings, tmp_path):
    settings.RECORDINGS_ROOT = tmp_path / "recordings"
    settings.RECORDING_CAPTURE_MARGIN_SECONDS = 0


def _capture_once(url: str):
    from django.utils import timezone

    recording = capture.Recording.objects.create(
        session=SessionFactory(stream_url=url), source=capture.RecordingSource.CAPTURE
    )
    path = capture.chunk_folder(recording) / "chunk_00000.ts"
    path.parent.mkdir(parents=True)
    deadline = timezone.now() + timezone.timedelta(seconds=4)
    return capture.run_ffmpeg(url, path, deadline=deadline), path


@pytest.mark.django_db
def test_capture_refuses_segments_on_another_host(short_capture, web):
    stage = PlaylistServer(_live_playlist(f"{web.origin}/private/seg_00000.ts"))
    try:
        attempt, path = _capture_once(f"{stage.origin}/live.m3u8")
    finally:
        stage.close()

    assert web.requests == []
    assert stage.requests and set(stage.requests) == {"/live.m3u8"}
    assert attempt.error == (
        f"The stream at {stage.origin}/live.m3u8 names addresses on other hosts, which are not "
        "read (only the stream's own scheme and host are): "
        f"{web.origin}/private/seg_00000.ts"
    )
    assert not path.exists() or path.stat().st_size == 0


@pytest.mark.django_db
def test_capture_refuses_a_file_entry(short_capture, segment):
    stage = PlaylistServer(_live_playlist(f"file://{segment.path}"))
    try:
        attempt, _ = _capture_once(f"{stage.origin}/live.m3u8")
    finally:
        stage.close()

    assert segment.opened.is_set() is False
    assert attempt.error.startswith(f"The stream at {stage.origin}/live.m3u8 could not be read")


@pytest.mark.django_db
def test_capture_of_a_stream_on_its_own_host_still_records(short_capture, tmp_path):
    with LiveHlsStream(tmp_path / "hls") as stream:
        attempt, path = _capture_once(stream.url)

    assert attempt.error == ""
    assert probe(path).demuxer == "mpegts"


def test_stream_gate_tunnels_https_only_to_the_origin():
    echo = socket.create_server(("127.0.0.1", 0))
    port = echo.getsockname()[1]

    def serve_once():
        connection, _ = echo.accept()
        with connection:
            connection.sendall(connection.recv(100).upper())

    threading.Thread(target=serve_once, daemon=True).start()
    with StreamGate(f"https://127.0.0.1:{port}/live.m3u8") as gate:
        proxy = gate.proxy_url.removeprefix("http://").split(":")
        answers = []
        for target in (f"127.0.0.1:{port + 1}", f"localhost:{port}", f"127.0.0.1:{port}"):
            with socket.create_connection((proxy[0], int(proxy[1])), timeout=5) as client:
                client.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
                head = client.recv(200).split(b"\r\n", 1)[0]
                if head.endswith(b"200 Connection established"):
                    client.sendall(b"hello")
                    head += b" " + client.recv(100)
                answers.append(head.decode())
        refused = list(gate.refused)
    echo.close()

    assert answers == [
        "HTTP/1.1 403 Forbidden",
        "HTTP/1.1 403 Forbidden",
        "HTTP/1.1 200 Connection established HELLO",
    ]
    assert refused == [f"https://127.0.0.1:{port + 1}/", f"https://localhost:{port}/"]
