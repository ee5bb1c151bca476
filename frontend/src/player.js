// Recording player: hls.js on a native <video>, keyboard shortcuts, chapters, captions,
// resume and watch heartbeats. The on-demand page loads it as its own entry (dist/player.js);
// the venue imports `playRecording` lazily for a hall's screen once its session is over.
import Hls from "hls.js";

const SEEK_SMALL = 5;
const SEEK_LARGE = 10;
// A jump larger than this between two time updates is a seek, not playback.
const CONTINUOUS_GAP = 2.5;
// The server accepts at most 40 s per heartbeat; longer spans are sent in pieces.
const MAX_SPAN = 30;

function clock(seconds) {
  const whole = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Load the signed master playlist `url` into `video` with hls.js, from `startPosition`. */
export function attachHls(video, url, { startPosition = -1 } = {}) {
  if (!Hls.isSupported()) {
    video.src = url; // Safari and others with native HLS
    if (startPosition > 0)
      video.addEventListener("loadedmetadata", () => (video.currentTime = startPosition), { once: true });
    return null;
  }
  const hls = new Hls({ enableWorker: true, startPosition, capLevelToPlayerSize: true });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
    else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else hls.destroy();
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return hls;
}

/** Which parts of `video` were played, sent to `url` every `interval` seconds and on leaving. */
export class Heartbeats {
  constructor(video, { url, interval = 10, csrf = "" }) {
    Object.assign(this, { video, url, interval, csrf });
    this.start = null;
    this.last = null;
    this.queue = [];
    this.sent = 0;
    video.addEventListener("timeupdate", () => this.observe());
    video.addEventListener("seeking", () => this.cut());
    video.addEventListener("pause", () => this.flush());
    video.addEventListener("ended", () => this.flush());
    window.addEventListener("pagehide", () => this.flush({ beacon: true }));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.flush({ beacon: true });
    });
    this.timer = window.setInterval(() => this.flush(), interval * 1000);
  }

  /** Send what is left and stop listening (the hall's player switches recordings). */
  stop() {
    this.flush();
    this.stopped = true;
    window.clearInterval(this.timer);
  }

  observe() {
    const t = this.video.currentTime;
    if (this.stopped || this.video.paused || this.video.seeking) return;
    if (this.start === null) {
      this.start = this.last = t;
    } else if (t >= this.last && t - this.last <= CONTINUOUS_GAP) {
      this.last = t;
    } else {
      this.cut();
      this.start = this.last = t;
    }
  }

  cut() {
    if (this.start !== null && this.last - this.start >= 0.05) {
      for (let a = this.start; a < this.last; a += MAX_SPAN) this.queue.push([a, Math.min(a + MAX_SPAN, this.last)]);
    }
    this.start = this.last = null;
  }

  flush({ beacon = false } = {}) {
    if (this.stopped) return;
    const resumeAt = this.last;
    this.cut();
    if (resumeAt !== null && !this.video.paused) this.start = this.last = resumeAt;
    const spans = this.queue.splice(0, this.queue.length).filter(([a, b]) => b - a >= 0.05);
    const position = this.video.currentTime;
    for (const [from, to] of spans) this.send({ from: round(from), to: round(to), position: round(position) }, beacon);
  }

  send(body, beacon) {
    if (!this.url) return;
    this.sent += 1;
    if (beacon && navigator.sendBeacon) {
      const form = new URLSearchParams({ ...body, csrfmiddlewaretoken: this.csrf });
      navigator.sendBeacon(this.url, form);
      return;
    }
    // One at a time: spans cut by a seek are not sent in parallel (they would race to create
    // the viewer's progress row).
    this.sending = (this.sending || Promise.resolve())
      .then(() =>
        fetch(this.url, {
          method: "POST",
          credentials: "same-origin",
          keepalive: true,
          headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf },
          body: JSON.stringify(body),
        }),
      )
      .then((response) => (response.ok ? response.json() : null))
      .then((progress) => {
        if (progress) this.video.dispatchEvent(new CustomEvent("medvenue:progress", { detail: progress }));
      })
      .catch(() => {
        /* offline for a moment: the next heartbeat carries on */
      });
  }
}

function round(value) {
  return Math.round(value * 1000) / 1000;
}

function captionTracks(video) {
  return [...video.textTracks].filter((track) => track.kind === "captions" || track.kind === "subtitles");
}

function showCaptions(video, language) {
  for (const track of captionTracks(video))
    track.mode = language && track.language === language ? "showing" : "disabled";
}

/** Show the captions in `language` ("" turns them off), keep `menu` in step and say so. */
function chooseCaptions(video, language, { menu, status }) {
  showCaptions(video, language);
  if (menu) menu.value = language;
  if (status)
    status.textContent = language
      ? `Captions on: ${menu?.selectedOptions[0]?.textContent || language}.`
      : "Captions off.";
}

/** aria-current on the chapter button playing at `time` (the last one started by then). */
function markChapters(buttons, time) {
  let current = null;
  for (const button of buttons) if (Number(button.dataset.start) <= time + 0.25) current = button;
  for (const button of buttons) {
    if (button === current) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

/** A chapter button seeks `video` to its start and plays from there. */
function wireChapter(button, video, status) {
  button.addEventListener("click", () => {
    video.currentTime = Number(button.dataset.start);
    video.play().catch(() => {});
    if (status)
      status.textContent = `Playing from ${button.querySelector(".chapter__title")?.textContent || "the chapter"}.`;
  });
}

/** The on-demand page: wire the player section `root` up. */
export function startPlayer(root) {
  const video = root.querySelector("video");
  const status = document.getElementById("player-status");
  const timeLabel = document.getElementById("player-time");
  const toggle = document.getElementById("player-toggle");
  const captionMenu = document.getElementById("player-captions");
  const chapters = [...document.querySelectorAll(".chapter")];
  const resume = Number(root.dataset.resume) || 0;
  const hls = attachHls(video, root.dataset.masterUrl, { startPosition: resume > 0 ? resume : -1 });
  const heartbeats = root.dataset.heartbeatUrl
    ? new Heartbeats(video, {
        url: root.dataset.heartbeatUrl,
        interval: Number(root.dataset.heartbeatInterval) || 10,
        csrf: root.dataset.csrf || "",
      })
    : null;
  let lastCaption = captionTracks(video)[0]?.language || "";

  const seek = (delta) => {
    const end = Number.isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.min(Math.max(0, video.currentTime + delta), end);
  };
  const playPause = () => (video.paused ? video.play().catch(() => {}) : video.pause());
  const setCaptions = (language) => {
    chooseCaptions(video, language, { menu: captionMenu, status });
    if (language) lastCaption = language;
  };
  const update = () => {
    toggle.textContent = video.paused ? "Play" : "Pause";
    toggle.setAttribute("aria-label", video.paused ? "Play the recording" : "Pause the recording");
    timeLabel.textContent = `${clock(video.currentTime)} / ${clock(video.duration)}`;
    markChapters(chapters, video.currentTime);
  };

  toggle.addEventListener("click", playPause);
  document.getElementById("player-back").addEventListener("click", () => seek(-SEEK_LARGE));
  document.getElementById("player-forward").addEventListener("click", () => seek(SEEK_LARGE));
  captionMenu?.addEventListener("change", () => setCaptions(captionMenu.value));
  for (const button of chapters) wireChapter(button, video, status);
  for (const name of ["play", "pause", "timeupdate", "durationchange", "seeked"]) video.addEventListener(name, update);
  root.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const tag = event.target.tagName;
    if (tag === "SELECT" || tag === "INPUT" || tag === "TEXTAREA") return;
    const onButton = tag === "BUTTON";
    const actions = {
      " ": () => !onButton && playPause(),
      k: playPause,
      ArrowLeft: () => seek(-SEEK_SMALL),
      ArrowRight: () => seek(SEEK_SMALL),
      j: () => seek(-SEEK_LARGE),
      l: () => seek(SEEK_LARGE),
      c: () => setCaptions(captionTracks(video).some((t) => t.mode === "showing") ? "" : lastCaption),
      m: () => (video.muted = !video.muted),
    };
    const action = actions[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action || (event.key === " " && onButton)) return;
    event.preventDefault();
    action();
  });
  showCaptions(video, "");
  update();
  window.medvenue = window.medvenue || {};
  window.medvenue.player = { video, hls, heartbeats, setCaptions };
  return window.medvenue.player;
}

// What the hall's <video> is playing: its hls.js instance and heartbeats, so a switch stops them.
const playing = new WeakMap();

/**
 * A hall's recording player: play `data` (the signed `masterUrl`, `posterUrl`, `heartbeatUrl`,
 * `resume`; by default the <video>'s own data attributes, the recording after the session)
 * into the panel's <video>; the 3D screen shows the same element as a VideoTexture. Muted by
 * default so it may start by itself; "Play here" (a click) asks for sound.
 */
export async function playRecording(video, data = video.dataset, { muted = true } = {}) {
  stopRecording(video);
  if (data.posterUrl) video.poster = data.posterUrl;
  else video.removeAttribute("poster");
  const resume = Number(data.resume) || 0;
  const hls = attachHls(video, data.masterUrl, { startPosition: resume > 0 ? resume : -1 });
  const heartbeats = data.heartbeatUrl
    ? new Heartbeats(video, { url: data.heartbeatUrl, csrf: video.dataset.csrf || "" })
    : null;
  playing.set(video, { hls, heartbeats });
  video.muted = muted;
  try {
    await video.play();
  } catch {
    video.muted = true; // sound refused: play muted; the controls unmute
    try {
      await video.play();
    } catch {
      /* autoplay refused: the visitor starts it with the controls */
    }
  }
  return { video, hls, heartbeats };
}

// The hall panel's caption menu and chapter list, per <video>: { media, chapters (buttons) }.
const extras = new WeakMap();

/**
 * Give the hall's <video> the captions and chapters of the recording it plays: one <track> per
 * caption (the previous recording's are removed), the caption `menu` (<select>: Off and each
 * language) and the chapter `list` (<ol>: buttons that seek, aria-current on the one playing),
 * built like the recording page's. `captionBox`/`chapterBox` are hidden when there are none.
 */
export function showRecordingExtras(video, { captions = [], chapters = [] } = {}, panel = {}) {
  const { menu, captionBox, list, chapterBox, status } = panel;
  let state = extras.get(video);
  if (!state) {
    state = { buttons: [] };
    extras.set(video, state);
    menu?.addEventListener("change", () => chooseCaptions(video, menu.value, { menu, status }));
    for (const name of ["timeupdate", "seeked", "durationchange"])
      video.addEventListener(name, () => markChapters(state.buttons, video.currentTime));
  }
  for (const track of video.querySelectorAll("track")) track.remove();
  for (const caption of captions) {
    const track = document.createElement("track");
    Object.assign(track, { kind: "captions", src: caption.url, srclang: caption.srclang, label: caption.label });
    video.append(track);
  }
  showCaptions(video, "");
  if (menu) {
    const options = [new Option("Off", "")];
    for (const caption of captions) options.push(new Option(caption.label, caption.srclang));
    menu.replaceChildren(...options);
    menu.value = "";
  }
  if (captionBox) captionBox.hidden = captions.length === 0;
  state.buttons = chapters.map((chapter) => chapterButton(chapter, video, status));
  list?.replaceChildren(
    ...state.buttons.map((button) => {
      const item = document.createElement("li");
      item.append(button);
      return item;
    }),
  );
  if (chapterBox) chapterBox.hidden = chapters.length === 0;
  markChapters(state.buttons, video.currentTime);
  return state;
}

function chapterButton(chapter, video, status) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "chapter";
  button.dataset.start = String(chapter.start);
  if (video.id) button.setAttribute("aria-controls", video.id);
  const time = document.createElement("span");
  time.className = "chapter__time";
  time.textContent = clock(chapter.start);
  const title = document.createElement("span");
  title.className = "chapter__title";
  title.textContent = chapter.title;
  button.append(time, " ", title);
  wireChapter(button, video, status);
  return button;
}

/** Stop whatever the hall's <video> plays (its last heartbeat is sent). */
export function stopRecording(video) {
  const current = playing.get(video);
  if (!current) return;
  playing.delete(video);
  video.pause();
  current.heartbeats?.stop();
  if (current.hls) current.hls.destroy();
  else {
    video.removeAttribute("src");
    video.load();
  }
}

const page = document.getElementById("player");
if (page) startPlayer(page);
