// The speakers' studio (templates/media/studio.html): device check and preview, publishing the
// camera, microphone and a shared screen into the session's backstage room on Janus, everyone
// backstage, the producer's stage controls, the backstage chat and the audience's questions.
// Camera and microphone start only when the user presses "Start camera and microphone".

import { badge, el } from "./dom.js";
import { attach, connect, getJSON, postJSON, RenewingToken } from "./media.js";

const VIDEOROOM = "janus.plugin.videoroom";
const POLL_MS = 2000;
const STATS_MS = 2000;

const config = JSON.parse(document.getElementById("studio-config").textContent);
const $ = (id) => document.getElementById(id);
const status = (text) => {
  $("studio-status").textContent = text;
};

const state = {
  grant: null,
  janus: null,
  token: null,
  camera: null, // { handle, stream }
  screen: null, // { handle, stream }
  remote: new Map(), // feed -> { handle, stream, video }
  publishers: [],
  stage: { on_air: false, feeds: [] },
  lastMessage: 0,
  muted: false,
  videoOff: false,
};

// --- devices ----------------------------------------------------------------------------------
async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [select, kind, noun] of [
    [$("studio-camera"), "videoinput", "Camera"],
    [$("studio-mic"), "audioinput", "Microphone"],
  ]) {
    const previous = select.value;
    select.replaceChildren();
    const found = devices.filter((d) => d.kind === kind);
    found.forEach((device, index) => {
      select.append(el("option", { value: device.deviceId, text: device.label || `${noun} ${index + 1}` }));
    });
    if (!found.length) select.append(el("option", { value: "", text: `No ${noun.toLowerCase()} found` }));
    if (previous && found.some((d) => d.deviceId === previous)) select.value = previous;
    select.disabled = !found.length;
  }
  return devices;
}

async function capture() {
  const camera = $("studio-camera").value;
  const mic = $("studio-mic").value;
  return navigator.mediaDevices.getUserMedia({
    audio: mic ? { deviceId: { exact: mic } } : true,
    video: camera
      ? { deviceId: { exact: camera }, width: { ideal: 1280 }, height: { ideal: 720 } }
      : { width: { ideal: 1280 }, height: { ideal: 720 } },
  });
}

function meter(stream) {
  const track = stream.getAudioTracks()[0];
  if (!track || !window.AudioContext) return;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  const tick = () => {
    if (track.readyState === "ended") {
      $("studio-level").value = 0;
      context.close();
      return;
    }
    analyser.getByteTimeDomainData(samples);
    let peak = 0;
    for (const s of samples) peak = Math.max(peak, Math.abs(s - 128) / 128);
    $("studio-level").value = state.muted ? 0 : peak;
    requestAnimationFrame(tick);
  };
  tick();
}

// --- Janus ------------------------------------------------------------------------------------
async function ensureJanus() {
  if (state.janus) return state.janus;
  state.grant = await postJSON(config.grant_url);
  state.token = new RenewingToken(state.grant, {
    url: config.renew_url,
    purpose: "studio",
    onLost: (message) => {
      status(`Your studio access ended: ${message}`);
      stopAll();
    },
  });
  state.janus = await connect(state.grant, state.token, {
    onDestroyed: () => {
      status("The media server ended this studio session.");
      cleanupLocal();
    },
  });
  return state.janus;
}

function publishFeed(id, tracks, display) {
  return new Promise((resolve, reject) => {
    let handle = null;
    attach(state.janus, VIDEOROOM, state.grant.opaque_id, {
      onmessage: (message, jsep) => {
        if (message.videoroom === "joined") {
          handle.createOffer({
            tracks,
            success: (offer) =>
              handle.send({
                message: { request: "publish", audio: tracks.some((t) => t.type === "audio"), video: true },
                jsep: offer,
              }),
            error: (error) => reject(new Error(`The browser could not start publishing: ${error.message || error}`)),
          });
        } else if (message.videoroom === "event" && message.error) {
          reject(new Error(message.error));
        }
        if (jsep) {
          handle.handleRemoteJsep({ jsep });
          resolve(handle);
        }
      },
    }).then((attached) => {
      handle = attached;
      handle.send({
        message: { request: "join", ptype: "publisher", room: state.grant.room, pin: state.grant.pin, id, display },
      });
    }, reject);
  });
}

/**
 * Join the studio without sending anything, to see and hear everyone backstage (a producer need
 * not be on camera). Janus tells this handle who publishes and who leaves.
 */
async function watchBackstage() {
  await ensureJanus();
  const handle = await attach(state.janus, VIDEOROOM, state.grant.opaque_id, {
    onmessage: (message) => {
      if (message.error) status(message.error);
      (message.publishers || []).forEach(subscribe);
      const gone = message.unpublished ?? message.leaving;
      if (gone && gone !== "ok") unsubscribe(gone);
    },
  });
  state.watcher = handle;
  handle.send({
    message: {
      request: "join",
      ptype: "publisher",
      room: state.grant.room,
      pin: state.grant.pin,
      id: state.grant.feeds.watch,
      display: `${state.grant.display} (watching)`,
    },
  });
  document.body.dataset.watching = "1";
}

async function subscribe(publisher) {
  const feed = publisher.id;
  const own = [state.grant.feeds.camera, state.grant.feeds.screen, state.grant.feeds.watch];
  if (own.includes(feed) || state.remote.has(feed)) return;
  const entry = { stream: new MediaStream(), handle: null, display: publisher.display };
  state.remote.set(feed, entry);
  entry.handle = await attach(state.janus, VIDEOROOM, state.grant.opaque_id, {
    onmessage: (_message, jsep) => {
      if (jsep) {
        entry.handle.createAnswer({
          jsep,
          tracks: [{ type: "data" }],
          success: (answer) =>
            entry.handle.send({ message: { request: "start", room: state.grant.room }, jsep: answer }),
          error: (error) => status(`Could not show ${publisher.display}: ${error.message || error}`),
        });
      }
    },
    onremotetrack: (track, _mid, on) => {
      if (on) entry.stream.addTrack(track);
      else
        entry.stream
          .getTracks()
          .filter((t) => t.id === track.id)
          .forEach((t) => {
            entry.stream.removeTrack(t);
          });
      renderPeople();
    },
  });
  entry.handle.send({
    message: { request: "join", ptype: "subscriber", room: state.grant.room, pin: state.grant.pin, feed },
  });
}

function unsubscribe(feed) {
  const entry = state.remote.get(feed);
  if (!entry) return;
  state.remote.delete(feed);
  entry.handle?.detach();
  renderPeople();
}

// --- controls ---------------------------------------------------------------------------------
async function start() {
  $("studio-start").disabled = true;
  try {
    status("Starting your camera and microphone…");
    const stream = await capture();
    await listDevices();
    $("studio-preview").srcObject = stream;
    meter(stream);
    state.camera = { stream, handle: null };
    badge($("studio-cam-state"), true, "Camera ON", "Camera off");
    badge($("studio-mic-state"), true, "Microphone ON", "Microphone off");
    status("Connecting to the studio…");
    await ensureJanus();
    state.camera.handle = await publishFeed(
      state.grant.feeds.camera,
      [
        { type: "audio", capture: stream.getAudioTracks()[0], recv: false },
        { type: "video", capture: stream.getVideoTracks()[0], recv: false },
      ],
      state.grant.display,
    );
    for (const id of ["studio-mute", "studio-video", "studio-share", "studio-stop"]) $(id).disabled = false;
    document.body.dataset.publishing = "1";
    status(
      "You are in the studio: the others backstage see and hear you. The audience does not, until a producer puts you live.",
    );
  } catch (error) {
    status(error.message || String(error));
    stopAll();
  }
}

function cleanupLocal() {
  for (const item of [state.camera, state.screen])
    item?.stream.getTracks().forEach((t) => {
      t.stop();
    });
  state.camera = null;
  state.screen = null;
  $("studio-preview").srcObject = null;
  badge($("studio-cam-state"), false, "", "Camera off");
  badge($("studio-mic-state"), false, "", "Microphone off");
  badge($("studio-screen-state"), false, "", "Screen not shared");
  for (const id of ["studio-mute", "studio-video", "studio-share", "studio-stop"]) $(id).disabled = true;
  $("studio-start").disabled = !config.media;
  delete document.body.dataset.publishing;
}

/** Stop sending (camera, microphone, screen); keep seeing the studio. */
function stopPublishing() {
  state.screen?.handle?.detach();
  state.camera?.handle?.detach();
  cleanupLocal();
  renderPeople();
}

function stopAll() {
  state.token?.stop();
  for (const entry of state.remote.values()) entry.handle?.detach();
  state.remote.clear();
  const janus = state.janus;
  state.janus = null;
  janus?.destroy({ cleanupHandles: true });
  cleanupLocal();
  renderPeople();
}

function toggleMute() {
  state.muted = !state.muted;
  state.camera?.stream.getAudioTracks().forEach((t) => {
    t.enabled = !state.muted;
  });
  $("studio-mute").setAttribute("aria-pressed", String(state.muted));
  $("studio-mute").textContent = state.muted ? "Unmute microphone" : "Mute microphone";
  badge($("studio-mic-state"), !state.muted, "Microphone ON", "Microphone muted");
}

function toggleVideo() {
  state.videoOff = !state.videoOff;
  state.camera?.stream.getVideoTracks().forEach((t) => {
    t.enabled = !state.videoOff;
  });
  $("studio-video").setAttribute("aria-pressed", String(state.videoOff));
  $("studio-video").textContent = state.videoOff ? "Turn camera on" : "Turn camera off";
  badge($("studio-cam-state"), !state.videoOff, "Camera ON", "Camera paused");
}

async function toggleShare() {
  if (state.screen) {
    state.screen.stream.getTracks().forEach((t) => {
      t.stop();
    });
    state.screen.handle?.detach();
    state.screen = null;
    badge($("studio-screen-state"), false, "", "Screen not shared");
    $("studio-share").setAttribute("aria-pressed", "false");
    $("studio-share").textContent = "Share screen";
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    state.screen = { stream, handle: null };
    stream.getVideoTracks()[0].addEventListener("ended", () => {
      if (state.screen?.stream === stream) toggleShare();
    });
    state.screen.handle = await publishFeed(
      state.grant.feeds.screen,
      [{ type: "video", capture: stream.getVideoTracks()[0], recv: false }],
      `${state.grant.display} (screen)`,
    );
    badge($("studio-screen-state"), true, "Screen SHARED", "Screen not shared");
    $("studio-share").setAttribute("aria-pressed", "true");
    $("studio-share").textContent = "Stop sharing";
  } catch (error) {
    status(`Screen sharing did not start: ${error.message || error}`);
  }
}

async function switchDevice(kind) {
  if (!state.camera?.handle) return;
  const constraint =
    kind === "video"
      ? { video: { deviceId: { exact: $("studio-camera").value } } }
      : { audio: { deviceId: { exact: $("studio-mic").value } } };
  const fresh = (await navigator.mediaDevices.getUserMedia(constraint)).getTracks()[0];
  const pc = state.camera.handle.webrtcStuff.pc;
  const sender = pc.getSenders().find((s) => s.track?.kind === fresh.kind);
  await sender?.replaceTrack(fresh);
  const stream = state.camera.stream;
  stream
    .getTracks()
    .filter((t) => t.kind === fresh.kind)
    .forEach((t) => {
      t.stop();
      stream.removeTrack(t);
    });
  stream.addTrack(fresh);
  if (kind === "audio") meter(stream);
}

// --- connection quality -----------------------------------------------------------------------
async function quality() {
  const pc = state.camera?.handle?.webrtcStuff?.pc;
  if (!pc) {
    $("studio-quality").textContent = "Connection: not connected";
    return;
  }
  const report = await pc.getStats();
  let rtt = null,
    fps = null,
    lost = 0,
    sent = 0;
  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined)
      rtt = s.currentRoundTripTime;
    if (s.type === "outbound-rtp" && s.kind === "video") {
      fps = s.framesPerSecond ?? fps;
      sent += s.packetsSent || 0;
    }
    if (s.type === "remote-inbound-rtp") lost += s.packetsLost || 0;
  });
  const loss = sent ? lost / (sent + lost) : 0;
  const word =
    rtt === null ? "connecting" : rtt < 0.15 && loss < 0.02 ? "good" : rtt < 0.4 && loss < 0.08 ? "fair" : "poor";
  $("studio-quality").textContent =
    `Connection: ${word}${rtt !== null ? ` · round trip ${Math.round(rtt * 1000)} ms` : ""}${fps !== null ? ` · ${Math.round(fps)} frames/s` : ""} · ${(loss * 100).toFixed(1)} % lost`;
  $("studio-quality").dataset.quality = word;
}

// --- backstage, stage, chat, Q&A --------------------------------------------------------------
function liveFeeds() {
  return state.stage.on_air ? state.stage.feeds || [] : [];
}

function publisherKey() {
  return state.publishers.map((p) => `${p.feed}:${p.name}`).join("|");
}

let heard = Boolean(navigator.userActivation?.hasBeenActive);

/** The first click or key press lets the page play the others' sound backstage. */
function heardBackstage() {
  if (heard) return;
  heard = true;
  renderPeople();
  document.querySelectorAll("#studio-people video").forEach((v) => {
    v.play().catch(() => {});
  });
}
document.addEventListener("pointerdown", heardBackstage, { once: true });
document.addEventListener("keydown", heardBackstage, { once: true });

/** Everyone backstage, one tile per feed; tiles are kept (not rebuilt) so video and focus stay. */
function renderPeople() {
  const list = $("studio-people");
  const live = liveFeeds();
  const mine = state.grant ? [state.grant.feeds.camera, state.grant.feeds.screen] : [];
  const wanted = new Set(state.publishers.map((p) => String(p.feed)));
  for (const item of [...list.children]) if (!wanted.has(item.dataset.feed)) item.remove();
  for (const publisher of state.publishers) {
    let item = list.querySelector(`li[data-feed="${publisher.feed}"]`);
    const isMine = mine.includes(publisher.feed);
    if (!item) {
      item = el(
        "li",
        { "data-feed": publisher.feed },
        el("video", { playsinline: true, autoplay: true, muted: true }),
        el("span", { class: "studio-live-tag", text: "LIVE", hidden: true }),
        el("span", { class: "studio-tag", text: `${publisher.name}${isMine ? " (you)" : ""}` }),
      );
      list.append(item);
    }
    const video = item.querySelector("video");
    const source = isMine
      ? publisher.kind === "screen"
        ? state.screen?.stream || null
        : state.camera?.stream || null
      : state.remote.get(publisher.feed)?.stream || null;
    if (video.srcObject !== source) {
      video.srcObject = source;
      video.play().catch(() => {});
    }
    // Browsers play sound only after the user has interacted with the page (see heardBackstage).
    video.muted = isMine || !heard;
    const isLive = live.includes(publisher.feed);
    item.classList.toggle("is-live", isLive);
    item.querySelector(".studio-live-tag").hidden = !isLive;
    video.setAttribute("aria-label", `${publisher.name}${isMine ? " (you)" : ""}${isLive ? ", live" : ""}`);
  }
  $("studio-people-empty").hidden = state.publishers.length > 0;
  renderChoices();
}

/** The producer's choice of feeds; rebuilt only when who publishes changes. */
function renderChoices() {
  const box = $("studio-feed-choices");
  if (!box) return;
  const key = publisherKey();
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  const checked = new Set([...box.querySelectorAll("input:checked")].map((i) => Number(i.value)));
  if (!box.dataset.touched)
    liveFeeds().forEach((f) => {
      checked.add(f);
    });
  box.replaceChildren();
  if (!state.publishers.length) box.append(el("p", { class: "studio-hint", text: "Nobody is publishing yet." }));
  for (const publisher of state.publishers) {
    const id = `feed-${publisher.feed}`;
    box.append(
      el(
        "label",
        { for: id },
        el("input", {
          type: "checkbox",
          id,
          value: publisher.feed,
          checked: checked.has(publisher.feed),
          onchange: () => {
            box.dataset.touched = "1";
          },
        }),
        publisher.kind === "encoder" ? ` ${publisher.name}` : ` ${publisher.name} (${publisher.kind})`,
      ),
    );
  }
}

function renderStage() {
  const live = liveFeeds();
  const mine = state.grant ? [state.grant.feeds.camera, state.grant.feeds.screen] : [];
  const meLive = mine.some((f) => live.includes(f));
  const banner = $("studio-onair");
  const from = state.stage.live_from ? new Date(state.stage.live_from) : null;
  const wait = from ? Math.ceil((from - Date.now()) / 1000) : 0;
  if (state.stage.on_air) {
    banner.hidden = false;
    const rec = state.stage.recording ? " · RECORDING" : "";
    banner.textContent =
      wait > 0
        ? `Broadcast starts in ${wait} s${rec}`
        : `ON AIR${rec} · ${state.stage.slots.map((s) => s.name).join(", ") || "nobody on the stage"}`;
  } else {
    banner.hidden = true;
  }
  // Nothing is recorded without the people on the stage seeing it: the broadcast records while on air.
  badge(
    $("studio-rec-state"),
    Boolean(state.stage.on_air && state.stage.recording),
    "● Recording the broadcast",
    "Not recording",
  );
  document.body.dataset.recording = state.stage.on_air && state.stage.recording ? "1" : "0";
  badge($("studio-live-state"), meLive, wait > 0 ? `LIVE in ${wait} s` : "You are LIVE", "Not live");
  $("studio-live-state").classList.toggle("is-live", meLive);
  document.body.dataset.onAir = state.stage.on_air ? "1" : "0";
  document.body.dataset.meLive = meLive ? "1" : "0";
  if ($("studio-producer")) {
    $("studio-golive").disabled = state.stage.on_air;
    $("studio-update").disabled = !state.stage.on_air;
    $("studio-end").disabled = !state.stage.on_air;
    const layout = document.querySelector(`input[name=layout][value="${state.stage.layout}"]`);
    if (layout && state.stage.on_air && !$("studio-producer").dataset.touched) layout.checked = true;
  }
}

function renderChat(messages) {
  const list = $("studio-chat");
  for (const message of messages) {
    list.append(el("li", {}, el("strong", { text: `${message.author}: ` }), message.text));
    state.lastMessage = Math.max(state.lastMessage, message.id);
  }
  if (messages.length) list.scrollTop = list.scrollHeight;
}

function renderCaptions(captions) {
  const list = $("studio-captions");
  list.replaceChildren();
  for (const cue of captions || []) {
    const at = new Date(cue.start).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    list.append(el("li", {}, el("span", { class: "studio-hint", text: `${at} ` }), cue.text));
  }
  list.scrollTop = list.scrollHeight;
}

async function sendCaption(event) {
  event.preventDefault();
  const input = $("studio-caption-text");
  const text = input.value.trim();
  if (!text) return;
  try {
    const cue = await postJSON(config.caption_url, { text });
    input.value = "";
    $("studio-caption-status").textContent = `Shown on the stage: ${cue.text}`;
    document.body.dataset.captions = String(Number(document.body.dataset.captions || 0) + 1);
  } catch (error) {
    $("studio-caption-status").textContent = error.message;
  }
}

function renderQuestions(questions) {
  const list = $("studio-qa");
  list.replaceChildren();
  if (!questions.length) list.append(el("li", { class: "studio-hint", text: "No questions yet." }));
  for (const q of questions)
    list.append(
      el(
        "li",
        {},
        el("strong", { text: `${q.votes} ▲ ` }),
        `${q.text} — ${q.author}${q.status === "pending" ? " (awaiting moderation)" : ""}`,
      ),
    );
}

async function poll() {
  try {
    const data = await getJSON(`${config.state_url}?since=${state.lastMessage}`);
    state.publishers = data.publishers;
    state.stage = data.stage;
    renderPeople();
    renderStage();
    renderChat(data.messages);
    renderQuestions(data.questions);
    renderCaptions(data.captions);
    renderEncoder(data.encoder);
    if (data.media_error && !state.janus) $("studio-quality").textContent = `Media server: ${data.media_error}`;
  } catch (error) {
    if (error.status === 403 || error.status === 401) {
      status(error.message);
      stopAll();
      return;
    }
  }
  setTimeout(poll, POLL_MS);
}

async function setStage(onAir, { countdown = 0 } = {}) {
  const box = $("studio-feed-choices");
  const feeds = [...box.querySelectorAll("input:checked")].map((i) => Number(i.value));
  const layout = document.querySelector("input[name=layout]:checked").value;
  try {
    state.stage = { ...(await postJSON(config.stage_url, { layout, feeds, on_air: onAir, countdown })) };
    $("studio-producer-status").textContent = onAir
      ? `The stage shows: ${state.stage.slots.map((s) => s.name).join(", ") || "nobody"}.`
      : "The broadcast ended.";
    delete box.dataset.touched;
    renderPeople();
    renderStage();
  } catch (error) {
    $("studio-producer-status").textContent = error.message;
  }
}

// --- the external encoder (producers) -----------------------------------------------------------
function renderEncoder(encoder) {
  if (!$("studio-encoder") || !encoder) return;
  const on = encoder.active;
  // The event's time zone, as everywhere on screen.
  const since = encoder.connected_since
    ? new Date(encoder.connected_since).toLocaleTimeString([], { timeZone: config.time_zone })
    : "";
  $("studio-encoder-status").textContent = !on
    ? "The external encoder is off."
    : encoder.connected
      ? `The encoder is sending (since ${since}): “External encoder” is backstage.`
      : `Waiting for the encoder to connect.${encoder.error ? ` Last: ${encoder.error}` : ""}`;
  $("studio-encoder-details").hidden = !on;
  $("studio-encoder-on").disabled = on;
  $("studio-encoder-newkey").disabled = !on;
  $("studio-encoder-off").disabled = !on;
  if (!on) return;
  if ($("studio-encoder-url").value !== encoder.url) $("studio-encoder-url").value = encoder.url;
  $("studio-encoder-server").textContent = encoder.server;
  $("studio-encoder-key").textContent = encoder.passphrase;
  $("studio-encoder-keylen").textContent = `${encoder.key_length} bytes (pbkeylen=${encoder.key_length})`;
}

async function changeEncoder(action, question) {
  if (question && !window.confirm(question)) return;
  try {
    renderEncoder(await postJSON(config.encoder_url, { action }));
  } catch (error) {
    $("studio-encoder-status").textContent = error.message;
  }
}

function showEncoderKey() {
  const button = $("studio-encoder-show");
  const shown = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", String(shown));
  button.textContent = shown ? "Hide the key" : "Show the key";
  $("studio-encoder-url").type = shown ? "text" : "password";
  $("studio-encoder-key").hidden = !shown;
  $("studio-encoder-key-hidden").hidden = shown;
}

async function copyEncoderAddress() {
  try {
    await navigator.clipboard.writeText($("studio-encoder-url").value);
    $("studio-encoder-status").textContent = "The address is copied. Paste it into the encoder.";
  } catch {
    $("studio-encoder-status").textContent = "Copying is not allowed here: show the key and copy the address by hand.";
  }
}

// --- wiring -----------------------------------------------------------------------------------
$("studio-check").addEventListener("click", async () => {
  try {
    const devices = await listDevices();
    const cams = devices.filter((d) => d.kind === "videoinput").length;
    const mics = devices.filter((d) => d.kind === "audioinput").length;
    status(
      `Found ${cams} camera(s) and ${mics} microphone(s). Nothing is on until you press “Start camera and microphone”.`,
    );
  } catch (error) {
    status(`Devices could not be listed: ${error.message}`);
  }
});
$("studio-start").addEventListener("click", start);
$("studio-stop").addEventListener("click", () => {
  stopPublishing();
  status("Your camera and microphone are off.");
});
$("studio-mute").addEventListener("click", toggleMute);
$("studio-video").addEventListener("click", toggleVideo);
$("studio-share").addEventListener("click", toggleShare);
$("studio-camera").addEventListener("change", () => switchDevice("video").catch((e) => status(e.message)));
$("studio-mic").addEventListener("change", () => switchDevice("audio").catch((e) => status(e.message)));
$("studio-chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("studio-chat-text");
  try {
    await postJSON(config.chat_url, { text: input.value });
    input.value = "";
  } catch (error) {
    status(error.message);
  }
});
$("studio-caption-form").addEventListener("submit", sendCaption);
if ($("studio-producer")) {
  $("studio-producer").addEventListener("change", () => {
    $("studio-producer").dataset.touched = "1";
  });
  $("studio-producer").addEventListener("submit", (event) => {
    event.preventDefault();
    setStage(true, { countdown: Number($("studio-countdown").value) || 0 });
  });
  $("studio-update").addEventListener("click", () => setStage(true));
  $("studio-end").addEventListener("click", () => setStage(false));
  $("studio-encoder-on").addEventListener("click", () => changeEncoder("on"));
  $("studio-encoder-newkey").addEventListener("click", () =>
    changeEncoder(
      "new_key",
      "Give the encoder a new key? A connected encoder is cut off and the old key stops working.",
    ),
  );
  $("studio-encoder-off").addEventListener("click", () =>
    changeEncoder("off", "Turn the external encoder off? A connected encoder is cut off."),
  );
  $("studio-encoder-show").addEventListener("click", showEncoderKey);
  $("studio-encoder-copy").addEventListener("click", copyEncoderAddress);
}
setInterval(() => quality().catch(() => {}), STATS_MS);
setInterval(renderStage, 1000);
window.medvenueStudio = { state };
poll();
if (config.media) {
  watchBackstage().catch((error) => status(`The studio could not connect: ${error.message || error}`));
}
