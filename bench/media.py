"""Live media on one Janus: glass-to-glass latency of the WebRTC stage, Janus CPU per subscriber
for a 720p stage, and how many subscribers one Janus process serves before frames drop.

    .venv/bin/python bench/media.py [--seconds 15] [--latency-seconds 30]
        [--steps 1,10,20,40,60,80,120]
        [--database-url postgres://postgres@127.0.0.1:5432/medvenue_studio_bench]
        [--redis-url redis://127.0.0.1:6379/4] [--port 8400 (and 8401)] [--janus-ports 8450,8451]
        [--rtp-ports 30000-30999]

One run, everything real and on this machine:

1. recreates the bench database, starts a Janus of its own (the configuration `make run`
   writes: loopback, signed tokens) and MedVenue (uvicorn);
2. a speaker opens the studio in headless Chromium and presses "Start camera and microphone";
   the page's camera is a 1280x720 30 fps canvas that draws the wall clock (`Date.now()` mod
   2^32, 32 black/white blocks of 40x40 px along the top) plus a moving bar, its microphone a
   tone (the studio code publishes whatever getUserMedia gives it);
3. the producer's action is taken through the service (`set_stage`, solo, on air): Janus
   forwards the speaker into the stage mountpoint, as in production;
4. **latency**: an attendee opens the hall (in the 2D twin: WebGL in software would take the
   cores) and its
   stage plays the speaker; for `--seconds`, on every frame the page presents
   (`requestVideoFrameCallback`) it reads the blocks back and subtracts the time code from its
   own `Date.now()` (same browser process, same clock): camera -> encoder -> Janus VideoRoom ->
   RTP forward -> Streaming mountpoint -> WebRTC -> decoder -> presented frame;
5. **latency of the HLS stage** (beyond WebRTC capacity): a capture worker starts (the
   broadcast's recorder: RTP forward -> ffmpeg composition -> 1 s HLS segments), and a second
   MedVenue process with `JANUS_WEBRTC_CAPACITY=0` serves a second attendee, whose grant is
   therefore HLS; its hall stage plays the playlist with hls.js and the time code is read back
   the same way for `--latency-seconds`: camera -> encoder -> Janus -> RTP forward -> ffmpeg
   (decode, compose, encode) -> segment -> playlist -> hls.js -> decoder -> presented frame.
   The recorder then runs through the subscriber steps too, as it does in production;
6. **subscribers**: one page opens N raw WebRTC subscriptions to the stage mountpoint (Janus
   WebSocket API with the Streaming plugin, as the stage does, without janus.js), N going
   through `--steps`; at each step, after the subscriptions play, it measures for `--seconds`
   the Janus process's CPU (/proc) and per subscriber the video frames received per second and
   packets lost. The capacity is the last step at which every subscriber received at least 90 %
   of the frames the speaker sent and lost under 1 % of packets.

The subscribers' browser runs on the same 2 cores as Janus, so past some N the client, not
Janus, drops frames: the bench prints both CPUs so the reader can tell which side gave out.
Figures are recorded in docs/performance.md ("Live media").
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from support import (
    ROOT,
    cpu_seconds,
    recreate_database,
    setup_django,
    start_worker,
    stop_worker,
)

CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = ["--no-sandbox", "--disable-background-networking", "--no-first-run"]
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]

# The speaker's camera and microphone: a canvas with the time code, and a tone.
TIME_CODE_CAMERA = """
(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const canvas = document.createElement("canvas");
    canvas.width = 1280; canvas.height = 720;
    const ctx = canvas.getContext("2d");
    let x = 0;
    const draw = () => {
      const code = Date.now() % 4294967296;
      ctx.fillStyle = "#406080"; ctx.fillRect(0, 0, 1280, 720);
      ctx.fillStyle = "#e0e0e0"; ctx.fillRect(x, 200, 120, 400); x = (x + 8) % 1160;
      for (let bit = 0; bit < 32; bit++) {
        ctx.fillStyle = Math.floor(code / 2 ** (31 - bit)) % 2 ? "#ffffff" : "#000000";
        ctx.fillRect(bit * 40, 0, 40, 40);
      }
    };
    draw(); setInterval(draw, 1000 / 60);
    const stream = canvas.captureStream(30);
    const audio = new AudioContext();
    const tone = audio.createOscillator(); const sink = audio.createMediaStreamDestination();
    tone.connect(sink); tone.start();
    if (constraints.audio) stream.addTrack(sink.stream.getAudioTracks()[0]);
    return stream;
  };
  window.__originalGetUserMedia = original;
})();
"""

# The attendees' hall pages open in the 2D twin: Debian's Chromium renders WebGL in software,
# and building the 3D hall would take the cores the media needs (docs/venue-frontend.md).
TWIN_VIEW = "localStorage.setItem('medvenue:venue-mode', '2d')"

# Predicates passed to `wait_for_function` are written as functions: Playwright polls a bare
# expression with eval(), which the pages' Content-Security-Policy refuses (docs/security.md).

# Reads the time code back from the hall's stage video on every presented frame.
READ_BACK = """async (seconds) => {
  const video = [...document.querySelectorAll('#hall-stage video')].find((v) => !v.hidden && v.videoWidth);
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const delays = []; let unreadable = 0;
  const end = performance.now() + seconds * 1000;
  await new Promise((resolve) => {
    const frame = () => {
      if (performance.now() > end) return resolve();
      const w = video.videoWidth, h = video.videoHeight;
      const block = w / 32;
      const row = Math.max(1, Math.floor(block));
      canvas.width = w; canvas.height = row;
      ctx.drawImage(video, 0, 0, w, row, 0, 0, w, row);  // only the strip with the time code
      const strip = ctx.getImageData(0, 0, w, row).data;
      let code = 0; let clear = true;
      for (let bit = 0; bit < 32; bit++) {
        const at = (Math.floor(row / 2) * w + Math.floor(bit * block + block / 2)) * 4;
        const [r, g, b] = [strip[at], strip[at + 1], strip[at + 2]];
        const level = (r + g + b) / 3;
        if (level > 60 && level < 190) clear = false;
        code = code * 2 + (level >= 128 ? 1 : 0);
      }
      const delay = (Date.now() % 4294967296) - code;
      if (clear && delay >= 0 && delay < 60000) delays.push(delay); else unreadable++;
      video.requestVideoFrameCallback(frame);
    };
    video.requestVideoFrameCallback(frame);
  });
  return { delays, unreadable, width: video.videoWidth, height: video.videoHeight };
}"""

# N raw subscriptions to the stage mountpoint over Janus's WebSocket API (Streaming plugin).
SUBSCRIBERS = """async ({ url, token, mountpoint, pin, count }) => {
  window.subs = window.subs || [];
  const request = (ws, body) => new Promise((resolve, reject) => {
    const transaction = Math.random().toString(36).slice(2);
    const listener = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.transaction !== transaction || msg.janus === "ack") return;
      ws.removeEventListener("message", listener);
      msg.janus === "error" ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg);
    };
    ws.addEventListener("message", listener);
    ws.send(JSON.stringify({ ...body, transaction, token }));
  });
  const one = async () => {
    const ws = new WebSocket(url, "janus-protocol");
    await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
    const session = (await request(ws, { janus: "create" })).data.id;
    setInterval(() => ws.send(JSON.stringify({ janus: "keepalive", session_id: session, token, transaction: "k" })), 15000);
    const handle = (await request(ws, { janus: "attach", session_id: session, plugin: "janus.plugin.streaming" })).data.id;
    const offer = await new Promise((resolve) => {
      const listener = (event) => {
        const msg = JSON.parse(event.data);
        if (msg.jsep && msg.jsep.type === "offer") { ws.removeEventListener("message", listener); resolve(msg.jsep); }
      };
      ws.addEventListener("message", listener);
      ws.send(JSON.stringify({ janus: "message", session_id: session, handle_id: handle, token, transaction: "w",
                               body: { request: "watch", id: mountpoint, pin } }));
    });
    const pc = new RTCPeerConnection();
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((r) => { if (pc.iceGatheringState === "complete") r(); pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && r(); });
    ws.send(JSON.stringify({ janus: "message", session_id: session, handle_id: handle, token, transaction: "s",
                             body: { request: "start" }, jsep: { type: "answer", sdp: pc.localDescription.sdp } }));
    window.subs.push({ ws, pc });
  };
  for (let i = 0; i < count; i++) await one();
  return window.subs.length;
}"""

SUB_STATS = """async () => {
  const out = [];
  for (const { pc } of window.subs) {
    let frames = 0, lost = 0, packets = 0, width = 0, bytes = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        frames += s.framesReceived || 0; lost += s.packetsLost || 0; packets += s.packetsReceived || 0;
        bytes += s.bytesReceived || 0;
        width = Math.max(width, s.frameWidth || 0);
      }
    });
    out.push({ frames, lost, packets, width, bytes });
  }
  return out;
}"""

SENT_FPS = """async () => {
  let frames = 0, width = 0, height = 0;
  for (const pc of window.__benchPCs || []) {
    (await pc.getStats()).forEach((s) => {
      if (s.type === "outbound-rtp" && s.kind === "video") { frames += s.framesSent || 0; width = s.frameWidth || width; height = s.frameHeight || height; }
    });
  }
  return { frames, width, height };
}"""

# Keep a handle on the speaker's PeerConnections (to read what was sent).
TRACK_PCS = """
(() => {
  const Original = window.RTCPeerConnection;
  window.__benchPCs = [];
  window.RTCPeerConnection = function (...args) { const pc = new Original(...args); window.__benchPCs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Original.prototype;
})();
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def wait_http(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--latency-seconds", type=int, default=30)
    parser.add_argument("--steps", default="1,10,20,40,60,80,120")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/medvenue_studio_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--janus-ports", default="8450,8451")
    parser.add_argument("--rtp-ports", default="30000-30999")
    args = parser.parse_args()
    ws_port, admin_port = (int(p) for p in args.janus_ports.split(","))
    low, high = (int(p) for p in args.rtp_ports.split("-"))
    third = (high - low + 1) // 3

    values = {
        "admin_secret": secrets.token_urlsafe(16),
        "token_secret": secrets.token_urlsafe(24),
        "room_secret": secrets.token_urlsafe(16),
    }
    janus_env = {
        "JANUS_WS_URLS": f"ws://127.0.0.1:{ws_port}/",
        "JANUS_ADMIN_URLS": f"http://127.0.0.1:{admin_port}/admin",
        "JANUS_ADMIN_SECRET": values["admin_secret"],
        "JANUS_TOKEN_SECRET": values["token_secret"],
        "JANUS_ROOM_SECRET": values["room_secret"],
        "RECORDING_RTP_PORTS": f"{low + 2 * third}-{high}",
        # The subscriber steps measure Janus past the capacity MedVenue enforces (the grant
        # would switch viewers to HLS at JANUS_WEBRTC_CAPACITY); the HLS server sets it to 0.
        "JANUS_WEBRTC_CAPACITY": "100000",
    }
    recreate_database(args.database_url)
    data_dir = Path(tempfile.mkdtemp(prefix="medvenue-bench-media-"))
    setup_django(
        args.database_url,
        args.redis_url,
        MEDVENUE_DATA_DIR=str(data_dir),
        ALLOWED_HOSTS="127.0.0.1",
        **janus_env,
    )
    from conference.services.media.config import janus_library_folder, write_local_janus

    folder = Path(tempfile.mkdtemp(prefix="medvenue-bench-janus-"))
    client = write_local_janus(
        folder,
        ws_port=ws_port,
        admin_port=admin_port,
        rtp_ports=(low, low + third - 1),
        streaming_ports=(low + third, low + 2 * third - 1),
        library=janus_library_folder(),
        values=values,
    )
    janus_log = (folder / "janus.log").open("wb")
    janus = subprocess.Popen(
        ["janus", "--configs-folder", str(folder), "--config", str(folder / "janus.jcfg")],
        stdout=janus_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/uvicorn"),
            "conference.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ},
        start_new_session=True,
    )
    # The HLS viewer's server: the same platform, every viewer beyond WebRTC capacity.
    hls_server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/uvicorn"),
            "conference.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port + 1),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "JANUS_WEBRTC_CAPACITY": "0"},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not janus_answers(client):
            if janus.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"Janus did not start: {(folder / 'janus.log').read_text()[-2000:]}"
                )
            time.sleep(0.2)
        wait_http(args.port, server)
        wait_http(args.port + 1, hls_server)
        run(args, janus, data_dir)
    finally:
        for process in (server, hls_server, janus):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        janus_log.close()
        for scratch in (folder, data_dir):  # the Janus configuration holds its secrets
            shutil.rmtree(scratch, ignore_errors=True)


def janus_answers(client: dict) -> bool:
    import urllib.request

    body = json.dumps(
        {"janus": "info", "transaction": "t", "admin_secret": client["admin_secret"]}
    ).encode()
    request = urllib.request.Request(
        client["admin_url"], body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return json.load(response).get("janus") == "server_info"
    except OSError:
        return False


def people():
    import datetime as dt

    from django.utils import timezone

    from accounts.models import User
    from conference.models import Event, Registration, RegistrationRole, Session, Speaker
    from venues.demo import build_demo_venue

    venue = build_demo_venue()
    now = timezone.now()
    from conference.models import Organizer

    organizer = Organizer.objects.create(name="Bench society", slug="bench-society")
    event = Event.objects.create(
        organizer=organizer,
        title="Media bench",
        slug="media-bench",
        timezone="UTC",
        start_date=now.date() - dt.timedelta(days=1),
        end_date=now.date() + dt.timedelta(days=1),
        venue=venue,
        is_published=True,
    )
    session = Session.objects.create(
        event=event,
        hall=venue.halls.get(slug="auditorium"),
        title="Bench stage",
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=2),
    )
    users = {}
    for key, role in (
        ("speaker", RegistrationRole.SPEAKER),
        ("producer", RegistrationRole.MODERATOR),
        ("viewer", RegistrationRole.ATTENDEE),
        ("hls_viewer", RegistrationRole.ATTENDEE),
    ):
        user = User.objects.create_user(
            email=f"{key}@bench.test", password="x", display_name=key.title()
        )
        Registration.objects.create(user=user, event=event, role=role)
        users[key] = user
    session.speakers.add(Speaker.objects.create(event=event, user=users["speaker"], name="Speaker"))
    return session, users


def cookie(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def run(args, janus: subprocess.Popen, data_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    from conference.services.media import stage as media

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    session, users = people()
    base = f"http://127.0.0.1:{args.port}"
    load = os.getloadavg()
    print(f"machine load before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*BASE_ARGS, *FAKE_MEDIA]
        )

        def page_for(user, path, *scripts, base=base):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.add_cookies([{"name": "sessionid", "value": cookie(user), "url": base}])
            for script in scripts:
                context.add_init_script(script)
            page = context.new_page()
            page.goto(base + path)
            return page

        event = session.event.slug
        speaker = page_for(
            users["speaker"],
            f"/events/{event}/sessions/{session.pk}/studio/",
            TRACK_PCS,
            TIME_CODE_CAMERA,
        )
        if not speaker.locator("#studio-start").count():
            raise SystemExit(f"the studio page did not open: {speaker.inner_text('body')[:500]}")
        speaker.click("#studio-start")
        speaker.wait_for_function("() => document.body.dataset.publishing === '1'", timeout=60000)
        producer = media.studio_access(users["producer"], session)
        feed = media.feed_id(users["speaker"].pk, media.CAMERA)
        deadline = time.monotonic() + 30
        while True:
            try:  # off Playwright's thread: set_stage announces to the hall with async_to_sync
                with ThreadPoolExecutor(1) as pool:
                    pool.submit(
                        media.set_stage, producer, session, layout="solo", feeds=[feed], on_air=True
                    ).result()
                break
            except media.MediaRefused:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        viewer = page_for(users["viewer"], f"/events/{event}/venue/auditorium/", TWIN_VIEW)
        viewer.wait_for_function(
            "() => [...document.querySelectorAll('#hall-stage video')]"
            ".some((v) => !v.hidden && v.videoWidth > 0)",
            timeout=90000,
        )
        viewer.wait_for_timeout(3000)  # past the first keyframes and the jitter buffer's start
        result = viewer.evaluate(READ_BACK, args.latency_seconds)
        delays = result["delays"]
        sent = speaker.evaluate(SENT_FPS)
        print(
            f"speaker sends {sent['width']}x{sent['height']}; attendee decodes "
            f"{result['width']}x{result['height']}"
        )
        if delays:
            print(
                f"glass-to-glass (WebRTC stage): frames read {len(delays)}, unreadable "
                f"{result['unreadable']}, p50 {statistics.median(delays):.0f} ms, "
                f"p95 {percentile(delays, 0.95):.0f} ms, max {max(delays):.0f} ms"
            )
        else:
            print(f"glass-to-glass: no frame read ({result['unreadable']} unreadable)")
        viewer.context.close()

        # The HLS stage: the recorder (a capture worker) composes it; the second server sends
        # every viewer there (JANUS_WEBRTC_CAPACITY=0).
        with (data_dir / "capture-worker.log").open("wb") as log:
            worker = start_worker(log, queue="capture", name="capture-bench")
            try:
                hls_latency(args, browser, page_for, users["hls_viewer"], event)
            finally:
                stop_worker(worker)

        farm = browser.new_context()
        farm_page = farm.new_page()
        farm_page.goto(base + "/healthz")
        subscribed = 0
        rows = []
        for step in (int(n) for n in args.steps.split(",")):
            grant = media.stage_grant(users["viewer"], session)  # a fresh token for each step
            subscribed = farm_page.evaluate(
                SUBSCRIBERS,
                {
                    "url": grant["server"],
                    "token": grant["token"],
                    "mountpoint": grant["mountpoint"],
                    "pin": grant["pin"],
                    "count": step - subscribed,
                },
            )
            farm_page.wait_for_timeout(4000)  # ICE, DTLS, first keyframe
            before_stats = farm_page.evaluate(SUB_STATS)
            sent_before = speaker.evaluate(SENT_FPS)["frames"]
            janus_before, browser_before = cpu_seconds(janus.pid), total_cpu("chrom")
            started = time.monotonic()
            farm_page.wait_for_timeout(args.seconds * 1000)
            elapsed = time.monotonic() - started
            janus_cpu = (cpu_seconds(janus.pid) - janus_before) / elapsed
            browser_cpu = (total_cpu("chrom") - browser_before) / elapsed
            sent_fps = (speaker.evaluate(SENT_FPS)["frames"] - sent_before) / elapsed
            after_stats = farm_page.evaluate(SUB_STATS)
            fps = [
                (a["frames"] - b["frames"]) / elapsed
                for a, b in zip(after_stats, before_stats, strict=True)
            ]
            lost = [
                (a["lost"] - b["lost"])
                / max(1, a["packets"] - b["packets"] + a["lost"] - b["lost"])
                for a, b in zip(after_stats, before_stats, strict=True)
            ]
            kbits = [
                (a["bytes"] - b["bytes"]) * 8 / 1000 / elapsed
                for a, b in zip(after_stats, before_stats, strict=True)
            ]
            ok = min(fps) >= 0.9 * sent_fps and max(lost) < 0.01
            rows.append(
                {
                    "subscribers": subscribed,
                    "sent_fps": round(sent_fps, 1),
                    "min_fps": round(min(fps), 1),
                    "median_fps": round(statistics.median(fps), 1),
                    "max_loss": round(max(lost), 4),
                    "kbit_s_each": round(statistics.median(kbits)),
                    "janus_out_mbit_s": round(sum(kbits) / 1000, 1),
                    "janus_cpu": round(janus_cpu, 3),
                    "chromium_cpu": round(browser_cpu, 2),
                    "ok": ok,
                }
            )
            print(json.dumps(rows[-1]))
            sys.stdout.flush()
            if not ok:
                break
        if len(rows) >= 2:
            first, last = rows[0], rows[-1]
            per = (last["janus_cpu"] - first["janus_cpu"]) / max(
                1, last["subscribers"] - first["subscribers"]
            )
            print(f"Janus CPU per added subscriber: {per * 100:.2f} % of a core")
        good = [row["subscribers"] for row in rows if row["ok"]]
        print(f"largest step with no frames dropped: {max(good) if good else 0}")
        load = os.getloadavg()
        print(f"machine load after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        browser.close()


def hls_latency(args, browser, page_for, user, event: str) -> None:
    """Glass-to-glass latency of the HLS stage, read back like the WebRTC one."""
    base = f"http://127.0.0.1:{args.port + 1}"
    started = time.monotonic()
    viewer = page_for(user, f"/events/{event}/venue/auditorium/", TWIN_VIEW, base=base)
    viewer.wait_for_selector("#hall-stage[data-mode='hls']", state="attached", timeout=60000)
    viewer.wait_for_function(
        "() => document.querySelector('#hall-stage video').videoWidth > 0", timeout=120000
    )
    print(f"HLS stage playing {time.monotonic() - started:.1f} s after the page opened")
    viewer.wait_for_timeout(3000)
    clock = (
        "() => { const v = document.querySelector('#hall-stage video');"
        " const q = v.getVideoPlaybackQuality();"
        " return [performance.now(), v.currentTime, q.totalVideoFrames, q.droppedVideoFrames]; }"
    )
    before = viewer.evaluate(clock)
    recorder_before, browser_before = total_cpu("ffmpeg"), total_cpu("chrom")
    result = viewer.evaluate(READ_BACK, args.latency_seconds)
    after = viewer.evaluate(clock)
    wall = (after[0] - before[0]) / 1000
    print(
        f"HLS video: {after[1] - before[1]:.1f} s of media played in {wall:.1f} s, "
        f"{(after[2] - before[2]) / wall:.1f} frames/s decoded, {after[3] - before[3]} dropped; "
        f"the recorder's ffmpeg used {(total_cpu('ffmpeg') - recorder_before) / wall:.2f} cores, "
        f"the bench's Chromium {(total_cpu('chrom') - browser_before) / wall:.2f}"
    )
    player = viewer.evaluate(
        "() => { const h = window.medvenueStage.hls;"
        " return { latency: h.latency, target: h.targetLatency, drift: h.drift }; }"
    )
    print(
        f"hls.js: {player['latency']:.1f} s behind the playlist's live edge "
        f"(its target {player['target']:.1f} s)"
    )
    delays = result["delays"]
    if delays:
        print(
            f"glass-to-glass (HLS stage, {result['width']}x{result['height']}): frames read "
            f"{len(delays)}, unreadable {result['unreadable']}, p50 "
            f"{statistics.median(delays):.0f} ms, p95 {percentile(delays, 0.95):.0f} ms, "
            f"max {max(delays):.0f} ms"
        )
    else:
        print(f"glass-to-glass (HLS stage): no frame read ({result['unreadable']} unreadable)")
    sys.stdout.flush()
    viewer.context.close()


def total_cpu(name: str) -> float:
    """CPU seconds of this bench's own processes whose command name starts with `name` (the
    browser it launched; other people's browsers on the machine are not counted)."""
    from support import CLK_TCK

    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        command = text[text.index("(") + 1 : text.rindex(")")]
        table[int(stat.parent.name)] = (int(fields[1]), command, int(fields[11]) + int(fields[12]))
    mine = {os.getpid()}
    changed = True
    while changed:
        changed = False
        for pid, (parent, _command, _ticks) in table.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                changed = True
    ticks = sum(t for pid, (_p, c, t) in table.items() if pid in mine and c.startswith(name))
    return ticks / CLK_TCK


if __name__ == "__main__":
    main()
