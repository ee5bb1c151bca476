// The hall's live stage for the audience: the session's Janus Streaming mountpoint, watched over
// WebRTC while the producer has the broadcast on air. It fills the side panel's stage (2D twin
// and 3D page alike) and a canvas the 3D screen shows. Only feeds a producer put live ever reach
// the mountpoint (docs/media.md); this page cannot ask for anything else.

import { el } from "./dom.js";
import { attach, connect, postJSON, RenewingToken } from "./media.js";

const STREAMING = "janus.plugin.streaming";
// hls.js `ErrorDetails` of a playlist that could not be loaded (hls.js is imported only for HLS).
const MANIFEST_ERRORS = new Set(["manifestLoadError", "manifestLoadTimeOut", "manifestParsingError"]);

class Stage {
  constructor(box) {
    this.box = box;
    this.status = box.querySelector(".hall-stage__status");
    this.grid = box.querySelector(".hall-stage__grid");
    this.sound = box.querySelector(".hall-stage__sound");
    this.videos = [...this.grid.querySelectorAll("video")];
    this.streams = this.videos.map(() => new MediaStream());
    this.videos.forEach((video, i) => {
      video.srcObject = this.streams[i];
    });
    this.canvas = el("canvas", { width: 1280, height: 720 });
    this.data = null;
    this.janus = null;
    this.connecting = null;
    this.sound.addEventListener("click", () => this.toggleSound());
    // Live captions (stage.caption pushes): under the picture and drawn into the 3D screen.
    this.captionBox = box.querySelector(".hall-stage__captions");
    this.ccButton = box.querySelector(".hall-stage__cc");
    this.captionsOn = true;
    this.caption = null; // { id, text, until }
    this.ccButton?.addEventListener("click", () => this.toggleCaptions());
  }

  say(text) {
    this.status.textContent = text;
  }

  async update(data) {
    this.data = data;
    this.box.hidden = false;
    this.box.dataset.state = data.media === false ? "off" : data.on_air ? "live" : "idle";
    if (data.media === false) {
      this.say(data.notice || "Live media is off.");
      this.grid.hidden = true;
      this.sound.hidden = true;
      return;
    }
    const count = data.on_air ? (this.hls ? 1 : Math.max(1, data.slots.length)) : 0;
    this.grid.dataset.count = String(count);
    this.videos.forEach((video, i) => {
      video.hidden = i >= count;
      const slot = data.slots[i];
      video.setAttribute(
        "aria-label",
        slot ? `Live: ${slot.name}${slot.kind === "screen" ? " (shared screen)" : ""}` : "Live stage",
      );
    });
    this.grid.hidden = !data.on_air;
    this.sound.hidden = !data.on_air;
    if (this.ccButton) this.ccButton.hidden = !data.on_air;
    if (!data.on_air) this.caption = null;
    this.renderCaption();
    if (!data.on_air) {
      this.say("The stage is not broadcasting.");
      this.disconnect();
      window.medvenue?.venue?.hideStage?.();
      return;
    }
    this.tickCountdown();
    try {
      await this.connect();
      window.medvenue?.venue?.showStage?.(this.canvas);
      this.compose();
    } catch (error) {
      this.say(error.message);
    }
  }

  tickCountdown() {
    clearTimeout(this.countdownTimer);
    const from = this.data?.live_from ? new Date(this.data.live_from) : null;
    const wait = from ? Math.ceil((from - Date.now()) / 1000) : 0;
    const names = this.data.slots.map((s) => s.name).join(", ");
    if (wait > 0) {
      this.say(`The broadcast starts in ${wait} s.`);
      this.grid.style.visibility = "hidden";
      this.countdownTimer = setTimeout(() => this.tickCountdown(), 500);
    } else {
      this.grid.style.visibility = "";
      this.say(`Live on stage: ${names || "the session"}.`);
    }
  }

  connect() {
    if (this.janus || this.hls) return Promise.resolve();
    if (this.connecting) return this.connecting;
    const session = this.box.dataset.session;
    const base = `/events/${this.box.dataset.event}/sessions/${session}/`;
    this.connecting = (async () => {
      const grant = await postJSON(`${base}stage/grant/`);
      if (grant.mode === "hls") {
        await this.playHls(grant.hls_url);
        return;
      }
      this.box.dataset.mode = "webrtc";
      this.token = new RenewingToken(grant, {
        url: `${base}studio/renew/`,
        purpose: "stage",
        onLost: (message) => {
          this.ended(`The stage stopped: ${message}`);
        },
      });
      this.janus = await connect(grant, this.token, { onDestroyed: () => this.ended("The stage stopped.") });
      const handle = await attach(this.janus, STREAMING, grant.opaque_id, {
        onmessage: (message, jsep) => {
          if (message.error) this.say(message.error);
          if (jsep) {
            handle.createAnswer({
              jsep,
              tracks: [{ type: "data" }],
              success: (answer) => handle.send({ message: { request: "start" }, jsep: answer }),
              error: (error) => this.say(`The stage could not play: ${error.message || error}`),
            });
          }
        },
        onremotetrack: (track, mid, on) => this.track(track, mid, on),
        oncleanup: () => this.ended("The stage stopped."),
        ondetached: () => this.ended("The stage stopped."),
        webrtcState: (on) => {
          if (!on) this.ended("The stage stopped.");
        },
        iceState: (ice) => {
          if (ice === "failed" || ice === "closed") this.ended("The stage's connection was lost.");
        },
      });
      this.handle = handle;
      handle.send({ message: { request: "watch", id: grant.mountpoint, pin: grant.pin } });
      this.box.dataset.connected = "1";
      this.watch();
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /**
   * Beyond the Janus host's WebRTC capacity the server sends this viewer the stage composed
   * once by the recorder, as HLS (docs/media.md, "HLS beyond capacity"): one picture, in the
   * first video, through hls.js (loaded only then).
   */
  async playHls(url) {
    const { default: Hls } = await import("hls.js");
    const video = this.videos[0];
    video.srcObject = null;
    this.box.dataset.mode = "hls";
    this.grid.dataset.count = "1";
    this.videos.forEach((v, i) => {
      v.hidden = i > 0;
    });
    video.setAttribute("aria-label", "Live stage");
    const hls = new Hls({
      liveSyncDurationCount: 2,
      lowLatencyMode: false,
      manifestLoadingMaxRetry: 30,
      manifestLoadingRetryDelay: 1000,
      levelLoadingMaxRetry: 30,
    });
    this.hls = hls;
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal && data.response?.code === 403) this.ended("The stage stopped: you may no longer watch it.");
      else if (data.fatal && MANIFEST_ERRORS.has(data.details)) this.regrantHls();
      else if (data.fatal && data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.fatal) hls.recoverMediaError();
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    video.play().catch(() => {});
    this.box.dataset.connected = "1";
  }

  /**
   * The playlist could not be loaded even after hls.js's retries (the server answers 503 while
   * the recorder has not written it yet; hls.js never retries a 4xx): start again from a new
   * grant in 2 s, whose signed URL is fresh and which may now be WebRTC.
   */
  regrantHls() {
    if (!this.hls) return;
    this.hls.destroy();
    this.hls = null;
    delete this.box.dataset.connected;
    clearTimeout(this.regrant);
    this.regrant = setTimeout(() => {
      if (this.box.dataset.state === "live") this.connect().catch(() => this.say("The stage could not play."));
    }, 2000);
  }

  /** Janus ending the session (access revoked) closes the media without a message on every
   * path; a stalled connection for 4 s ends the stage too (the page can start it again). */
  watch() {
    clearInterval(this.watchdog);
    let stalled = 0;
    this.watchdog = setInterval(() => {
      const pc = this.handle?.webrtcStuff?.pc;
      if (!pc) return;
      const state = pc.iceConnectionState;
      stalled = state === "disconnected" || state === "failed" || state === "closed" ? stalled + 1 : 0;
      if (stalled >= 4) this.ended("The stage's connection ended.");
    }, 1000);
  }

  track(track, mid, on) {
    const slot = Number(String(mid).slice(1));
    const stream = this.streams[slot];
    if (!stream) return;
    if (on) {
      stream
        .getTracks()
        .filter((t) => t.kind === track.kind)
        .forEach((t) => {
          stream.removeTrack(t);
        });
      stream.addTrack(track);
      this.videos[slot].play().catch(() => {});
    } else {
      stream
        .getTracks()
        .filter((t) => t.id === track.id)
        .forEach((t) => {
          stream.removeTrack(t);
        });
    }
  }

  ended(message) {
    if (!this.janus && !this.handle && !this.hls) return;
    this.disconnect();
    this.box.dataset.state = "ended";
    this.say(message);
    window.medvenue?.venue?.hideStage?.();
  }

  disconnect() {
    clearInterval(this.watchdog);
    clearTimeout(this.regrant);
    this.token?.stop();
    this.token = null;
    const janus = this.janus;
    this.janus = null;
    this.handle = null;
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
      this.videos[0].srcObject = this.streams[0];
    }
    delete this.box.dataset.connected;
    this.streams.forEach((stream) => {
      stream.getTracks().forEach((t) => {
        stream.removeTrack(t);
      });
    });
    try {
      janus?.destroy({ cleanupHandles: true });
    } catch {
      /* already gone */
    }
  }

  /** A cue from the hall socket: shown for its length (end - start), replacing the one up. */
  showCaption(cue) {
    if (!this.data?.on_air || Number(cue.session) !== Number(this.data.session)) return;
    const length = Math.min(10000, Math.max(500, Date.parse(cue.end) - Date.parse(cue.start) || 3000));
    this.caption = { id: cue.id, text: String(cue.text), until: Date.now() + length };
    clearTimeout(this.captionTimer);
    this.captionTimer = setTimeout(() => {
      this.caption = null;
      this.renderCaption();
    }, length);
    this.renderCaption();
  }

  renderCaption() {
    if (!this.captionBox) return;
    const text = this.caption ? this.caption.text : "";
    this.captionBox.textContent = text;
    this.captionBox.hidden = !this.captionsOn || !this.data?.on_air;
    this.box.dataset.caption = text;
  }

  toggleCaptions() {
    this.captionsOn = !this.captionsOn;
    this.ccButton.setAttribute("aria-pressed", String(this.captionsOn));
    this.ccButton.textContent = this.captionsOn ? "Hide captions" : "Show captions";
    this.renderCaption();
  }

  /** The caption at the bottom of the 3D screen's picture, wrapped to at most 3 lines. */
  drawCaption(g) {
    if (!this.captionsOn || !this.caption || Date.now() > this.caption.until) return;
    const size = 40;
    g.font = `${size}px system-ui, sans-serif`;
    const maxWidth = this.canvas.width - 160;
    const lines = [];
    let line = "";
    for (const word of this.caption.text.split(" ")) {
      const next = line ? `${line} ${word}` : word;
      if (g.measureText(next).width > maxWidth && line) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    if (line) lines.push(line);
    const shown = lines.slice(-3);
    const height = shown.length * (size + 10) + 20;
    const top = this.canvas.height - height - 30;
    g.fillStyle = "rgba(0, 0, 0, 0.78)";
    g.fillRect(60, top, this.canvas.width - 120, height);
    g.fillStyle = "#fff";
    g.textAlign = "center";
    g.textBaseline = "top";
    shown.forEach((text, i) => {
      g.fillText(text, this.canvas.width / 2, top + 12 + i * (size + 10));
    });
    g.textAlign = "start";
  }

  toggleSound() {
    const muted = !this.videos[0].muted;
    this.videos.forEach((video) => {
      video.muted = muted;
    });
    this.sound.setAttribute("aria-pressed", String(!muted));
    this.sound.textContent = muted ? "Sound on" : "Sound off";
  }

  /** Draw the live slots into the canvas the 3D screen shows, in the stage's layout. */
  compose() {
    if (this.composing) return;
    this.composing = true;
    const g = this.canvas.getContext("2d");
    const draw = () => {
      if (!this.janus && !this.hls) {
        this.composing = false;
        return;
      }
      const count = this.hls ? 1 : Math.max(1, this.data?.slots.length || 1); // HLS: one composed picture
      const cols = count === 1 ? 1 : 2;
      const rows = count > 2 ? 2 : 1;
      const w = this.canvas.width / cols;
      const h = this.canvas.height / rows;
      g.fillStyle = "#000";
      g.fillRect(0, 0, this.canvas.width, this.canvas.height);
      for (let i = 0; i < count; i++) {
        const video = this.videos[i];
        if (!video.videoWidth) continue;
        const scale = Math.min(w / video.videoWidth, h / video.videoHeight);
        const dw = video.videoWidth * scale;
        const dh = video.videoHeight * scale;
        g.drawImage(video, (i % cols) * w + (w - dw) / 2, Math.floor(i / cols) * h + (h - dh) / 2, dw, dh);
      }
      this.drawCaption(g);
      window.medvenue?.venue?.stageFrame?.();
      requestAnimationFrame(draw);
    };
    draw();
  }
}

let stage = null;

export function showCaption(cue) {
  stage?.showCaption(cue);
}

export function updateStage(data) {
  const box = document.getElementById("hall-stage");
  if (!box || !data) return;
  if (!stage) stage = new Stage(box);
  box.dataset.session = String(data.session);
  stage.update(data);
  window.medvenueStage = stage;
}
