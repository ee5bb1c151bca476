"""The broadcast recorder's pieces that need no browser: the SDP it writes (only the streams
Janus forwards, from Janus's address only), the composition, the ports, and reading Janus's
`rtp_forward` answers (whose forwarder ids stop the forwards)."""

import socket
import subprocess
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from conference.models import Stage
from conference.services.media import recorder
from conference.services.media.stage import forwarded_streams
from tests.factories import SessionFactory
from tests.support.media import media_port_ranges

# What Janus 1.1.2 answered to our audio_port/video_port rtp_forward (tests/e2e/test_media.py).
LEGACY_ANSWER = {
    "publisher_id": 11,
    "rtp_stream": {
        "audio_stream_id": 3259568288,
        "audio": 30666,
        "video_stream_id": 4196689314,
        "video": 30668,
        "warning": "deprecated_api",
        "host": "127.0.0.1",
    },
    "room": 10000001,
    "videoroom": "rtp_forward",
}


def test_forwarded_streams_reads_both_answer_forms():
    assert forwarded_streams(LEGACY_ANSWER) == ([3259568288, 4196689314], {30666, 30668})
    current = {"forwarders": [{"stream_id": 7, "port": 21002, "type": "video"}]}
    assert forwarded_streams(current) == ([7], {21002})
    assert forwarded_streams({}) == ([], set())


def lineup(*inputs, source="127.0.0.1"):
    return recorder.Lineup(key="k", layout="panel", inputs=tuple(inputs), source_address=source)


def test_sdp_names_only_the_forwarded_streams_from_janus_only(tmp_path, settings):
    settings.RECORDING_RTP_HOST = "127.0.0.1"
    path = tmp_path / "chunk.sdp"
    recorder.write_sdp(
        lineup(recorder.Input(0, 21000, 21002), recorder.Input(1, None, 21006)), path, title="t"
    )
    text = path.read_text()
    assert "a=source-filter: incl IN IP4 * 127.0.0.1" in text
    assert text.count("m=audio") == 1 and text.count("m=video") == 2
    assert "m=audio 21000 RTP/AVP 111" in text and "m=video 21006 RTP/AVP 96" in text


def test_the_composition_follows_the_lineup():
    graph, video, audio = recorder.filter_graph(lineup(recorder.Input(0, 21000, 21002)))
    assert (video, audio) == (True, True)
    assert "[0:1]scale=1280:720" in graph and "[0:0]aresample" in graph
    three = lineup(*(recorder.Input(slot, 21000 + 4 * slot, 21002 + 4 * slot) for slot in range(3)))
    graph, _, _ = recorder.filter_graph(three)
    assert "xstack=inputs=4" in graph and "color=c=black" in graph
    assert "amix=inputs=3" in graph
    screen_only = lineup(recorder.Input(0, None, 21002))
    graph, video, audio = recorder.filter_graph(screen_only)
    assert (video, audio) == (True, False) and "[0:0]scale" in graph


def test_the_recorder_reads_our_sdp_only_with_udp_and_rtp(tmp_path, settings):
    """ffmpeg refuses any other protocol the SDP could name, and other formats."""
    settings.RECORDING_RTP_HOST = "127.0.0.1"
    command = recorder.ffmpeg_command(
        tmp_path / "x.sdp", tmp_path / "x.ts", lineup(recorder.Input(0, 21000, 21002))
    )
    assert command[command.index("-protocol_whitelist") + 1] == "file,udp,rtp"
    assert command[command.index("-format_whitelist") + 1] == "sdp"
    assert command[command.index("-i") + 1] == f"file:{(tmp_path / 'x.sdp').resolve()}"


def test_rtp_from_another_address_is_not_recorded(tmp_path, settings):
    """The source filter: packets that do not come from Janus's address are dropped."""
    first = media_port_ranges()["recorder"][0] + 200
    first += first % 2
    settings.RECORDING_RTP_HOST = "127.0.0.1"
    item = recorder.Input(0, None, first)
    results = {}
    for source in ("127.0.0.1", "10.255.255.1"):
        sdp, out = tmp_path / f"{source}.sdp", tmp_path / f"{source}.ts"
        recorder.write_sdp(lineup(item, source=source), sdp, title="t")
        receiver = subprocess.Popen(
            [
                *recorder.ffmpeg_command(sdp, out, lineup(item, source=source))[:-3],
                "-t",
                "2",
                "-f",
                "mpegts",
                str(out),
            ],
            stderr=subprocess.DEVNULL,
        )
        wait_until_bound(first)
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-re",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=320x240:rate=15",
                "-t",
                "3",
                "-c:v",
                "libvpx",
                "-deadline",
                "realtime",
                "-g",
                "15",
                "-payload_type",
                "96",
                "-f",
                "rtp",
                f"rtp://127.0.0.1:{first}",
            ],
            check=True,
            timeout=30,
        )
        try:
            receiver.wait(timeout=15)
        except subprocess.TimeoutExpired:
            receiver.kill()
            receiver.wait()
        results[source] = out.exists() and out.stat().st_size > 0
    assert results == {"127.0.0.1": True, "10.255.255.1": False}


def wait_until_bound(port: int, seconds: float = 15) -> None:
    """Until some process has bound UDP `port` on loopback (our own bind then fails)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing bound UDP port {port}")


@pytest.mark.django_db
def test_recorder_ports_are_blocks_of_16_and_run_out_clearly(settings):
    settings.RECORDING_RTP_PORTS = "21000-21031"
    stages = [Stage.objects.create(session=SessionFactory()) for _ in range(3)]
    for stage in stages[:2]:
        stage.recorder_port = recorder.allocate_port(stage)
        stage.save()
    assert [s.recorder_port for s in stages[:2]] == [21000, 21016]
    assert recorder.slot_ports(21016, 3) == (21028, 21030)
    with pytest.raises(recorder.NoRecorderPorts, match="Every recorder port is in use"):
        recorder.allocate_port(stages[2])
    settings.RECORDING_RTP_PORTS = "21000"
    with pytest.raises(ImproperlyConfigured, match="first-last"):
        recorder.port_range()
