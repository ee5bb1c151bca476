// A meeting room (templates/rooms/room.html): join the room's Janus VideoRoom with camera and
// microphone, see and hear the others, mute, leave; the room's chat, queue (meet the expert),
// host controls, private note and report; the list of the hall's rooms. docs/rooms.md.
// Camera and microphone start only on "Join with camera and microphone".

import { badge, el } from "./dom.js";
import { attach, connect, getJSON, postJSON, RenewingToken } from "./media.js";

const VIDEOROOM = "janus.plugin.videoroom";
const POLL_MS = 2000;
const LIST_MS = 5000;

const config = JSON.parse(document.getElementById("room-config").textContent);
const $ = (id) => document.getElementById(id);
const say = (text) => {
  $("room-status").textContent = text;
};

const state = {
  grant: null,
  janus: null,
  token: null,
  local: null, // MediaStream
  publisher: null, // handle
  remote: new Map(), // feed -> { handle, stream, display }
  people: [],
  lastMessage: 0,
  muted: false,
  videoOff: false,
  joining: false,
};

// --- Janus ------------------------------------------------------------------------------------
async function join() {
  if (state.joining || state.janus) return;
  state.joining = true;
  $("room-join").disabled = true;
  try {
    say("Checking that there is a place for you…");
    state.grant = await postJSON(config.join_url);
    say("Starting your camera and microphone…");
    state.local = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: { ideal: 640 }, height: { ideal: 360 } },
    });
    badge($("room-cam-state"), true, "Camera ON", "Camera off");
    badge($("room-mic-state"), true, "Microphone ON", "Microphone off");
    state.token = new RenewingToken(state.grant, {
      url: config.renew_url,
      purpose: "room",
      onLost: (message) => {
        say(`You are no longer in this room: ${message}`);
        stop();
      },
    });
    state.janus = await connect(state.grant, state.token, {
      onDestroyed: () => {
        if (state.janus) {
          say("The media server ended your connection to this room.");
          stop();
        }
      },
    });
    await publish();
    for (const id of ["room-mute", "room-video", "room-leave"]) $(id).disabled = false;
    document.body.dataset.inRoom = "1";
    say(`You are in ${config.label}: the others see and hear you.`);
    renderTiles();
  } catch (error) {
    say(error.message || String(error));
    await stop({ tellServer: Boolean(state.grant) });
  } finally {
    state.joining = false;
  }
}

function publish() {
  return new Promise((resolve, reject) => {
    let handle = null;
    attach(state.janus, VIDEOROOM, state.grant.opaque_id, {
      onmessage: (message, jsep) => {
        if (message.videoroom === "joined") {
          handle.createOffer({
            tracks: [
              { type: "audio", capture: state.local.getAudioTracks()[0], recv: false },
              { type: "video", capture: state.local.getVideoTracks()[0], recv: false },
            ],
            success: (offer) => handle.send({ message: { request: "publish", audio: true, video: true }, jsep: offer }),
            error: (error) => reject(new Error(`The browser could not start sending: ${error.message || error}`)),
          });
        } else if (message.error) {
          reject(new Error(`The media server refused: ${message.error}`));
        }
        (message.publishers || []).forEach(subscribe);
        const gone = message.unpublished ?? message.leaving ?? message.kicked;
        if (gone && gone !== "ok") unsubscribe(gone);
        if (jsep) {
          handle.handleRemoteJsep({ jsep });
          resolve(handle);
        }
      },
    }).then((attached) => {
      handle = attached;
      state.publisher = handle;
      handle.send({
        message: {
          request: "join",
          ptype: "publisher",
          room: state.grant.room,
          id: state.grant.feed,
          display: state.grant.display,
          token: state.grant.room_token,
        },
      });
    }, reject);
  });
}

async function subscribe(publisher) {
  const feed = publisher.id;
  if (feed === state.grant.feed || state.remote.has(feed)) return;
  const entry = { stream: new MediaStream(), handle: null, display: publisher.display };
  state.remote.set(feed, entry);
  entry.handle = await attach(state.janus, VIDEOROOM, state.grant.opaque_id, {
    onmessage: (message, jsep) => {
      if (message.error) say(`Could not receive ${publisher.display}: ${message.error}`);
      if (jsep) {
        entry.handle.createAnswer({
          jsep,
          tracks: [{ type: "data" }],
          success: (answer) =>
            entry.handle.send({ message: { request: "start", room: state.grant.room }, jsep: answer }),
          error: (error) => say(`Could not receive ${publisher.display}: ${error.message || error}`),
        });
      }
    },
    onremotetrack: (track, _mid, on) => {
      if (on) entry.stream.addTrack(track);
      else {
        for (const t of entry.stream.getTracks()) if (t.id === track.id) entry.stream.removeTrack(t);
      }
      renderTiles();
    },
  });
  entry.handle.send({
    message: {
      request: "join",
      ptype: "subscriber",
      room: state.grant.room,
      streams: [{ feed }],
      token: state.grant.room_token,
    },
  });
}

function unsubscribe(feed) {
  const entry = state.remote.get(feed);
  if (!entry) return;
  state.remote.delete(feed);
  entry.handle?.detach();
  renderTiles();
}

async function stop({ tellServer = false } = {}) {
  state.token?.stop();
  state.token = null;
  for (const entry of state.remote.values()) entry.handle?.detach();
  state.remote.clear();
  const janus = state.janus;
  state.janus = null;
  state.publisher = null;
  janus?.destroy({ cleanupHandles: true });
  for (const t of state.local?.getTracks() || []) t.stop();
  state.local = null;
  state.grant = null;
  badge($("room-cam-state"), false, "", "Camera off");
  badge($("room-mic-state"), false, "", "Microphone off");
  for (const id of ["room-mute", "room-video", "room-leave"]) $(id).disabled = true;
  $("room-join").disabled = !config.media;
  document.body.dataset.inRoom = "0";
  renderTiles();
  if (tellServer) await postJSON(config.leave_url).catch(() => {});
}

function toggleMute() {
  state.muted = !state.muted;
  state.local?.getAudioTracks().forEach((t) => {
    t.enabled = !state.muted;
  });
  $("room-mute").setAttribute("aria-pressed", String(state.muted));
  $("room-mute").textContent = state.muted ? "Unmute microphone" : "Mute microphone";
  badge($("room-mic-state"), !state.muted, "Microphone ON", "Microphone muted");
}

function toggleVideo() {
  state.videoOff = !state.videoOff;
  state.local?.getVideoTracks().forEach((t) => {
    t.enabled = !state.videoOff;
  });
  $("room-video").setAttribute("aria-pressed", String(state.videoOff));
  $("room-video").textContent = state.videoOff ? "Turn camera on" : "Turn camera off";
  badge($("room-cam-state"), !state.videoOff, "Camera ON", "Camera paused");
}

// --- rendering --------------------------------------------------------------------------------
/** One tile per person whose media arrives (and one for you); kept, not rebuilt. */
function renderTiles() {
  const list = $("room-tiles");
  const wanted = new Map();
  if (state.local) wanted.set("me", { stream: state.local, name: `${config.name} (you)`, mine: true });
  for (const [feed, entry] of state.remote)
    wanted.set(String(feed), { stream: entry.stream, name: entry.display, mine: false });
  for (const item of [...list.children]) if (!wanted.has(item.dataset.feed)) item.remove();
  for (const [key, tile] of wanted) {
    let item = list.querySelector(`li[data-feed="${key}"]`);
    if (!item) {
      item = el(
        "li",
        { "data-feed": key },
        el("video", { playsinline: true, autoplay: true }),
        el("span", { class: "room-tag", text: tile.name }),
      );
      list.append(item);
    }
    const video = item.querySelector("video");
    video.muted = tile.mine;
    video.setAttribute("aria-label", tile.name);
    if (video.srcObject !== tile.stream) {
      video.srcObject = tile.stream;
      video.play().catch(() => {});
    }
  }
}

function renderPeople(room, me) {
  state.people = room.people;
  // Whoever the server no longer counts in the room (left, removed, gone quiet) is dropped.
  const present = new Set(room.people.map((p) => p.feed));
  for (const feed of [...state.remote.keys()]) if (!present.has(feed)) unsubscribe(feed);
  $("room-count").textContent = `(${room.count} of ${room.capacity})`;
  const list = $("room-people");
  list.replaceChildren();
  if (!room.people.length) list.append(el("li", { text: "Nobody is in the room." }));
  for (const person of room.people) {
    const item = el(
      "li",
      { "data-user": person.id },
      el("span", { text: `${person.name}${person.muted ? " (muted by a host)" : ""}` }),
    );
    if (me.is_host && person.name !== undefined && person.id !== undefined && !isMe(person)) {
      item.append(
        el("button", {
          type: "button",
          class: "button button-secondary",
          "data-action": person.muted ? "unmute" : "mute",
          "aria-label": `${person.muted ? "Unmute" : "Mute"} ${person.name}`,
          text: person.muted ? "Unmute" : "Mute",
          onclick: () => moderate(person.muted ? "unmute" : "mute", person.id),
        }),
        el("button", {
          type: "button",
          class: "button button-secondary",
          "data-action": "remove",
          "aria-label": `Remove ${person.name} from the room`,
          text: "Remove",
          onclick: () => moderate("remove", person.id),
        }),
      );
    }
    list.append(item);
  }
  if ($("room-lock")) {
    $("room-lock").setAttribute("aria-pressed", String(room.locked));
    $("room-lock").textContent = room.locked ? "Unlock the room" : "Lock the room";
  }
  document.body.dataset.locked = room.locked ? "1" : "0";
}

function isMe(person) {
  return state.grant ? person.feed === state.grant.feed : person.name === config.name && !config.is_host;
}

function renderChat(messages) {
  const list = $("room-chat");
  for (const message of messages) {
    list.append(el("li", {}, el("strong", { text: `${message.author}: ` }), message.text));
    state.lastMessage = Math.max(state.lastMessage, message.id);
  }
  if (messages.length) list.scrollTop = list.scrollHeight;
}

function minutes(n) {
  return n <= 0 ? "less than a minute" : n === 1 ? "about 1 minute" : `about ${n} minutes`;
}

function renderQueue(queue) {
  if (!queue) return;
  if (config.is_host) {
    $("room-queue-host").textContent = queue.waiting ? `${queue.waiting} waiting.` : "Nobody is waiting.";
    $("room-queue-people").replaceChildren(...queue.people.map((p) => el("li", { text: p.name })));
    $("room-queue-admitted").replaceChildren(
      ...queue.admitted.map((p) =>
        el(
          "li",
          {},
          `${p.name}: slot until ${new Date(p.ends_at).toLocaleTimeString()} `,
          el("button", {
            type: "button",
            class: "button button-secondary",
            text: "End slot",
            "aria-label": `End the slot of ${p.name}`,
            onclick: () => endSlot(p.id),
          }),
        ),
      ),
    );
    $("room-admit").disabled = !queue.waiting;
    return;
  }
  const mine = queue.mine;
  const line = $("room-queue-mine");
  document.body.dataset.queue = mine ? mine.status : "none";
  if (!mine) {
    line.textContent = `Request a slot: the expert admits people one (or a few) at a time, each for ${queue.slot_minutes} minutes. ${queue.waiting} waiting now.`;
  } else if (mine.status === "waiting") {
    line.textContent = `You are number ${mine.place} in the queue. Expected wait: ${minutes(mine.wait_minutes)}.`;
  } else {
    line.textContent = `The expert admits you: press “Join with camera and microphone”. Your slot ends at ${new Date(mine.ends_at).toLocaleTimeString()}.`;
  }
  $("room-request").hidden = Boolean(mine);
  $("room-unrequest").hidden = mine?.status !== "waiting";
}

async function poll() {
  try {
    const data = await getJSON(`${config.state_url}?since=${state.lastMessage}`);
    renderPeople(data.room, data.me);
    $("room-host-times").textContent = data.room.host_times.line;
    $("room-host-times").hidden = !data.room.host_times.line;
    renderChat(data.messages);
    renderQueue(data.queue);
    if (state.janus && !data.me.in_room && !state.joining) {
      say(data.me.removed ? "A host removed you from this room." : "You are no longer in this room.");
      await stop();
    }
    document.body.dataset.hostMuted = data.me.muted ? "1" : "0";
    if (data.me.muted && state.janus) say("A host muted your microphone: the others do not hear you.");
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      say(error.message);
      await stop();
      return;
    }
  }
  setTimeout(poll, POLL_MS);
}

async function refreshList() {
  try {
    const data = await getJSON(`${config.list_url}?format=json`);
    const list = $("room-list");
    list.replaceChildren(
      ...data.rooms.map((r) =>
        el(
          "li",
          { class: `room-list__item${r.full ? " is-full" : ""}`, "data-room": r.id },
          el(
            "a",
            { href: r.url, "aria-current": r.id === config.room ? "page" : null },
            el("strong", { text: r.label }),
          ),
          ` — ${r.kind_label}`,
          el("span", {
            class: "room-list__count",
            text: `${r.count} of ${r.capacity} places taken${r.full ? " (full)" : ""}${r.locked ? " · locked" : ""}`,
          }),
          el("span", {
            class: "room-list__people",
            text: r.people.length ? `In the room: ${r.people.map((p) => p.name).join(", ")}` : "Nobody is in the room.",
          }),
          r.host_times.line ? el("span", { class: "room-list__hosts", text: r.host_times.line }) : "",
        ),
      ),
    );
  } catch {
    // The list is a convenience; the next refresh tries again.
  }
}

// --- actions ----------------------------------------------------------------------------------
async function moderate(action, user) {
  try {
    await postJSON(config.moderate_url, user === undefined ? { action } : { action, user });
    if ($("room-host-status"))
      $("room-host-status").textContent = {
        mute: "Muted.",
        unmute: "Unmuted.",
        remove: "Removed from the room.",
        lock: "The room is locked.",
        unlock: "The room is open.",
      }[action];
  } catch (error) {
    if ($("room-host-status")) $("room-host-status").textContent = error.message;
  }
}

async function endSlot(user) {
  try {
    await postJSON(config.end_slot_url, { user });
  } catch (error) {
    $("room-queue-host").textContent = error.message;
  }
}

function form(id, handler) {
  $(id)?.addEventListener("submit", async (event) => {
    event.preventDefault();
    await handler();
  });
}

$("room-join").addEventListener("click", join);
$("room-leave").addEventListener("click", async () => {
  await stop({ tellServer: true });
  say("You left the room.");
});
$("room-mute").addEventListener("click", toggleMute);
$("room-video").addEventListener("click", toggleVideo);
$("room-lock")?.addEventListener("click", () =>
  moderate($("room-lock").getAttribute("aria-pressed") === "true" ? "unlock" : "lock"),
);
$("room-request")?.addEventListener("click", async () => {
  try {
    renderQueue(await postJSON(config.queue_url, { action: "request" }));
  } catch (error) {
    $("room-queue-mine").textContent = error.message;
  }
});
$("room-unrequest")?.addEventListener("click", async () => {
  try {
    renderQueue(await postJSON(config.queue_url, { action: "leave" }));
  } catch (error) {
    $("room-queue-mine").textContent = error.message;
  }
});
$("room-admit")?.addEventListener("click", async () => {
  try {
    renderQueue(await postJSON(config.admit_url, { count: Number($("room-admit-count").value) }));
  } catch (error) {
    $("room-queue-host").textContent = error.message;
  }
});
form("room-chat-form", async () => {
  const input = $("room-chat-text");
  try {
    await postJSON(config.chat_url, { text: input.value });
    input.value = "";
  } catch (error) {
    say(error.message);
  }
});
form("room-note-form", async () => {
  try {
    await postJSON(config.note_url, { text: $("room-note-text").value });
    $("room-note-status").textContent = "Note saved.";
  } catch (error) {
    $("room-note-status").textContent = error.message;
  }
});
form("room-report-form", async () => {
  try {
    await postJSON(config.report_url, { reason: $("room-report-text").value });
    $("room-report-text").value = "";
    $("room-report-status").textContent = "Sent: the organizer has the room, the time and who is in it.";
  } catch (error) {
    $("room-report-status").textContent = error.message;
  }
});
window.medvenueRoom = { state };
poll();
refreshList();
setInterval(refreshList, LIST_MS);
