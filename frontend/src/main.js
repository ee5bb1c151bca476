// Entry point of the browser venue: picks the 3D view or the 2D twin, and exposes the JS API
// `window.medvenue.venue` that the live layer drives (avatars) and tests read (stats).
const MODE_KEY = "medvenue:venue-mode";

function webglAvailable() {
  try {
    const probe = document.createElement("canvas");
    return Boolean(probe.getContext("webgl2") || probe.getContext("webgl"));
  } catch {
    return false;
  }
}

function storedMode() {
  try {
    return localStorage.getItem(MODE_KEY);
  } catch {
    return null;
  }
}

function storeMode(mode) {
  try {
    localStorage.setItem(MODE_KEY, mode);
  } catch {
    /* storage may be disabled; the toggle still works for this page */
  }
}

function readManifest(root) {
  const element = document.getElementById("venue-manifest");
  if (element) return Promise.resolve(JSON.parse(element.textContent));
  return fetch(root.dataset.manifestUrl, { credentials: "same-origin" }).then((response) => {
    if (!response.ok) throw new Error(`The venue manifest could not be loaded (${response.status}).`);
    return response.json();
  });
}

/** Avatars kept while the 3D view is off (2D mode), so counts stay right and can be replayed. */
class PendingCrowd {
  constructor() {
    this.entries = new Map();
  }
  add(id, state) {
    this.entries.set(String(id), { ...state });
  }
  move(id, state) {
    const entry = this.entries.get(String(id));
    if (!entry) return false;
    Object.assign(entry, state);
    return true;
  }
  remove(id) {
    return this.entries.delete(String(id));
  }
  count() {
    return this.entries.size;
  }
}

function createApi(state) {
  const crowd = () => state.view?.crowd || state.pending;
  const touched = (result) => {
    state.view?.requestRender();
    return result;
  };
  return {
    ready: state.ready,
    addAvatar: (id, options = {}) => touched(crowd().add(id, options)),
    moveAvatar: (id, options = {}) => touched(crowd().move(id, options)),
    removeAvatar: (id) => touched(crowd().remove(id)),
    avatarCount: () => crowd().count(),
    stats: () => (state.view ? state.view.stats() : { drawCalls: 0, triangles: 0, avatars: crowd().count(), fps: 0 }),
    currentHall: () => state.hallSlug,
    mode: () => state.mode,
    position: () => (state.view ? { ...state.view.self } : null),
    walkTo: (x, z) => state.view?.walkTo(x, z),
    visibleLabels: () => (state.view ? state.view.crowd.visibleLabels() : []),
    screenSource: () => state.view?.screenSource || null,
    showRecording: () => state.view?.showRecording(),
    showLive: () => state.view?.showLive(),
    showStage: (canvas) => {
      state.stageCanvas = canvas;
      state.view?.showStage(canvas);
    },
    hideStage: () => {
      state.stageCanvas = null;
      state.view?.hideStage();
    },
    stageFrame: () => state.view?.stageFrame(),
  };
}

// Building the 3D view holds the page for a while on a slow machine (seconds on a software
// renderer); the side panel's live state comes first, or after this long if the hall is slow.
const LIVE_FIRST_MS = 5000;

async function startView(state, root) {
  const { VenueView } = await import("./world.js");
  await Promise.race([state.live, new Promise((resolve) => setTimeout(resolve, LIVE_FIRST_MS))]);
  const manifest = await readManifest(root);
  const view = new VenueView({
    canvas: document.getElementById("venue-canvas"),
    labelLayer: document.getElementById("venue-labels"),
    youMarker: document.getElementById("venue-you"),
    manifest,
    hallSlug: state.hallSlug,
    reducedMotion: window.matchMedia("(prefers-reduced-motion: reduce)").matches,
  });
  await view.start();
  for (const [id, entry] of state.pending.entries) view.crowd.add(id, entry);
  if (state.stageCanvas) view.showStage(state.stageCanvas);
  state.view = view;
  view.requestRender();
  document.getElementById("venue-loading")?.remove();
  return view;
}

function setMode(state, root, mode) {
  state.mode = mode;
  root.dataset.mode = mode;
  document.getElementById("venue-3d").hidden = mode !== "3d";
  document.getElementById("venue-2d").hidden = mode !== "2d";
  const toggle = document.getElementById("venue-mode-toggle");
  toggle.textContent = mode === "3d" ? "2D view" : "3D view";
  toggle.setAttribute("aria-label", mode === "3d" ? "Switch to the accessible 2D view" : "Switch to the 3D view");
  state.view?.setRunning(mode === "3d");
  if (mode === "3d" && !state.starting) {
    state.starting = startView(state, root).then(
      (view) => state.resolveReady(view),
      (error) => {
        console.error(error);
        setMode(state, root, "2d");
        showNote("The 3D venue could not start, so you see the accessible 2D view.");
      },
    );
  }
}

function showNote(text) {
  const note = document.getElementById("venue-webgl-note");
  if (!note) return;
  if (text) note.textContent = text;
  note.hidden = false;
}

const AGENDA_POLL_MS = 60_000;
const DISMISSED_KEY = "medvenue:agenda-dismissed";

function dismissedNotices() {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(DISMISSED_KEY) || "[]"));
  } catch {
    return new Set();
  }
}

/**
 * Reminders in the venue: every minute the page asks which starred sessions start within 10
 * minutes (`data-agenda-url`, a small JSON endpoint) and shows each with a "Join" button until
 * the visitor dismisses it or it starts.
 */
function startAgendaNotices(root) {
  const box = document.getElementById("agenda-notices");
  const url = root.dataset.agendaUrl;
  if (!box || !url) return;
  const render = (items) => {
    const dismissed = dismissedNotices();
    box.replaceChildren();
    for (const item of items.filter((i) => !dismissed.has(i.id))) {
      const notice = document.createElement("div");
      notice.className = "agenda-notice";
      notice.dataset.session = item.id;
      const text = document.createElement("p");
      text.textContent = `Starting in ${item.minutes} min${item.hall ? ` in ${item.hall}` : ""}: ${item.title}`;
      notice.append(text);
      if (item.join_url) {
        const join = document.createElement("a");
        join.className = "venue-button";
        join.href = item.join_url;
        join.textContent = "Join";
        join.setAttribute("aria-label", `Join ${item.title}`);
        notice.append(join);
      }
      const close = document.createElement("button");
      close.type = "button";
      close.className = "agenda-notice__close";
      close.textContent = "Dismiss";
      close.setAttribute("aria-label", `Dismiss the reminder for ${item.title}`);
      close.addEventListener("click", () => {
        const seen = dismissedNotices();
        seen.add(item.id);
        try {
          sessionStorage.setItem(DISMISSED_KEY, JSON.stringify([...seen]));
        } catch {
          /* storage may be disabled: the notice still goes away for this page */
        }
        notice.remove();
      });
      notice.append(close);
      box.append(notice);
    }
    box.dataset.polls = String(Number(box.dataset.polls || 0) + 1);
  };
  const poll = () =>
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : { upcoming: [] }))
      .then((data) => render(data.upcoming || []))
      .catch(() => {});
  poll();
  setInterval(poll, AGENDA_POLL_MS);
}

function boot() {
  const root = document.getElementById("venue");
  if (!root) return;
  startAgendaNotices(root);
  const state = { hallSlug: root.dataset.hall, mode: "2d", view: null, pending: new PendingCrowd(), starting: null };
  state.ready = new Promise((resolve) => (state.resolveReady = resolve));
  window.medvenue = window.medvenue || {};
  window.medvenue.venue = createApi(state);
  state.live = startLiveLayer(root);
  startHallRecording();
  startHallRecordingList(state);
  const toggle = document.getElementById("venue-mode-toggle");
  if (!webglAvailable()) {
    document.body.dataset.venueMode = "2d";
    showNote();
    setMode(state, root, "2d");
    joinFromLink(state);
    return;
  }
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const next = state.mode === "3d" ? "2d" : "3d";
    storeMode(next);
    setMode(state, root, next);
    (next === "3d" ? document.getElementById("venue-canvas") : document.getElementById("twin-heading"))?.focus?.();
  });
  setMode(state, root, storedMode() === "2d" ? "2d" : "3d");
  joinFromLink(state);
}

/**
 * "Join in the venue" links carry `?join=1`: seat the visitor on the nearest free seat in 3D,
 * or, in the 2D view, say where they are and move focus to the session panel. The parameter
 * is removed from the address so a reload does not seat them again.
 */
function joinFromLink(state) {
  const url = new URL(window.location.href);
  if (url.searchParams.get("join") !== "1") return;
  url.searchParams.delete("join");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  const note = document.getElementById("venue-joined");
  const hallName = document.getElementById("venue-title")?.textContent || "the hall";
  const say = (text) => {
    if (!note) return;
    note.textContent = text;
    note.hidden = false;
  };
  if (state.mode !== "3d") {
    say(`You have joined ${hallName}. The session, questions and chat are in the panel.`);
    document.getElementById("panel-session-heading")?.setAttribute("tabindex", "-1");
    document.getElementById("panel-session-heading")?.focus();
    return;
  }
  state.ready.then((view) => {
    const seat = view.sitNearest((text) => view.announce(text));
    if (seat) say(`You have joined ${hallName}: ${seat.label}.`);
    else say(`You have joined ${hallName}. ${document.getElementById("venue-status")?.textContent || ""}`.trim());
    document.getElementById("venue-canvas")?.focus();
  });
}

/** Captions and chapters of the recording `id` (rendered into the page; per viewer). */
function recordingMedia(id) {
  const element = document.getElementById("hall-recording-media");
  if (!element || !id) return { captions: [], chapters: [] };
  try {
    return JSON.parse(element.textContent)[id] || { captions: [], chapters: [] };
  } catch {
    return { captions: [], chapters: [] };
  }
}

/** The panel's caption menu and chapter list, for player.js `showRecordingExtras`. */
function recordingPanel() {
  return {
    menu: document.getElementById("hall-recording-captions"),
    captionBox: document.getElementById("hall-recording-captions-box"),
    list: document.getElementById("hall-recording-chapters"),
    chapterBox: document.getElementById("hall-recording-chapters-box"),
    status: document.getElementById("hall-recording-status"),
  };
}

function startHallRecording() {
  // After the hall's session its recording plays in the side panel (and on the 3D screen);
  // the player and hls.js load in their own chunks, only then.
  const video = document.getElementById("hall-recording");
  if (!video?.dataset.masterUrl) return;
  import("./player.js")
    .then(({ playRecording, showRecordingExtras }) => {
      showRecordingExtras(video, recordingMedia(video.dataset.recordingId), recordingPanel());
      return playRecording(video);
    })
    .catch((error) => console.error("The recording could not start:", error));
}

/**
 * "Recordings from this hall": "Play here" loads an earlier session's recording into the
 * panel's player and onto the 3D screen, even while a session is live; "Back to live" returns.
 */
function startHallRecordingList(state) {
  const list = document.getElementById("hall-recordings");
  const video = document.getElementById("hall-recording");
  if (!list || !video) return;
  const slot = document.getElementById("hall-recording-slot");
  const status = document.getElementById("hall-recordings-status");
  const back = document.getElementById("hall-back-to-live");
  const buttons = [...list.querySelectorAll(".hall-recordings__play")];
  let chosen = null;
  const mark = (id) => {
    for (const item of list.querySelectorAll(".hall-recordings__item"))
      item.classList.toggle("is-playing", item.dataset.recordingId === id);
    for (const button of buttons) {
      if (button.dataset.recordingId === id) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  };
  const play = async (button) => {
    const data = button.dataset;
    chosen = button;
    slot.hidden = false;
    document.getElementById("hall-recording-title").textContent = data.title;
    document.getElementById("hall-recording-link").href = data.pageUrl;
    video.setAttribute("aria-label", `Recording of ${data.title}`);
    video.dataset.chosen = "1";
    mark(data.recordingId);
    status.textContent = `Loading the recording of “${data.title}”…`;
    try {
      const { playRecording, showRecordingExtras } = await import("./player.js");
      showRecordingExtras(video, recordingMedia(data.recordingId), recordingPanel());
      await playRecording(video, data, { muted: false });
      status.textContent = `Playing the recording of “${data.title}” here${back ? "; “Back to live” returns to the live session" : ""}.`;
    } catch (error) {
      console.error("The recording could not start:", error);
      status.textContent = "The recording could not start; open its recording page instead.";
    }
    state.view?.showRecording();
  };
  for (const button of buttons) {
    button.hidden = false;
    button.addEventListener("click", () => play(button));
  }
  back?.addEventListener("click", async () => {
    const { stopRecording, showRecordingExtras } = await import("./player.js");
    stopRecording(video);
    showRecordingExtras(video, {}, recordingPanel());
    delete video.dataset.chosen;
    slot.hidden = true;
    mark(null);
    state.view?.showLive();
    status.textContent = "Back to the live session.";
    chosen?.focus();
  });
}

/** Start the live layer (websocket, panels; its own chunk). Resolves when the hall has said
 * `hello` and the panel shows it, or at once when the live layer cannot start. */
function startLiveLayer(root) {
  return readManifest(root)
    .then((manifest) => import("./live.js").then(({ startLive }) => startLive(root, manifest)?.greeted))
    .catch((error) => console.error("The live layer could not start:", error));
}

boot();
