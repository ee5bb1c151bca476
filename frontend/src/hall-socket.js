// The hall's websocket client (docs/protocol.md): requests with replies, the feed applied once
// each in seq order from the last contiguous seq, resume after gaps and reconnects, and the
// reconnect policy. No DOM: the browser's WebSocket and timers are injected, so node's test
// runner drives it with fakes (frontend/test/hall-socket.test.js).
import { CLOSE, FINAL_CLOSE_CODES, MAX_FRAME_BYTES } from "./protocol.js";

// How long an item received beyond a gap waits for the missing ones before the client asks the
// server (items from different server processes may arrive slightly out of order).
export const GAP_WAIT_MS = 1000;
// Jittered exponential back-off after a close that says nothing else: 0.5 s doubled up to 30 s.
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30000;
// After 1012 (the server process is restarting): a random 0-5 s.
const RESTART_SPREAD_MS = 5000;
const OPEN = 1; // WebSocket.OPEN

/** The address of a hall's socket on the page's host (`location`: the page's location). */
export function hallSocketUrl(location, hallId) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/halls/${hallId}/`;
}

/** What to do after a close (docs/protocol.md, close codes): `final` (never reconnect), else
 * wait `delay` ms. `retryAfter` is the seconds of the last error push's `retry_after` (null when
 * it had none); `attempt` counts the closes since the last `hello`; `random` gives [0, 1). */
export function reconnectDelay({ code, retryAfter = null, attempt = 0, random = Math.random }) {
  if (FINAL_CLOSE_CODES.includes(code)) return { final: true, delay: null };
  // the server's hint (after 4008: the back-off left; after 1013: jittered by the server)
  if (retryAfter !== null) return { final: false, delay: retryAfter * 1000 };
  if (code === CLOSE.RESTART) return { final: false, delay: random() * RESTART_SPREAD_MS };
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return { final: false, delay: base * (0.5 + random()) };
}

/** The feed of docs/protocol.md, "Client algorithm": `contiguous` (every position up to it was
 * processed) and `ahead` (items beyond a gap). `offer` returns the items to apply now, in order
 * (placeholders only advance `contiguous`). */
export class Feed {
  constructor() {
    this.contiguous = null;
    this.ahead = new Map(); // seq -> item received beyond a gap
  }

  get started() {
    return this.contiguous !== null;
  }

  /** The first `hello`: everything up to `seq` is part of the state it describes. */
  start(seq) {
    this.contiguous = seq;
    return this.drain();
  }

  offer(item) {
    if ((this.started && item.seq <= this.contiguous) || this.ahead.has(item.seq)) return [];
    this.ahead.set(item.seq, item);
    return this.drain();
  }

  drain() {
    const ready = [];
    if (!this.started) return ready;
    for (const seq of this.ahead.keys()) if (seq <= this.contiguous) this.ahead.delete(seq);
    while (this.ahead.has(this.contiguous + 1)) {
      const item = this.ahead.get(this.contiguous + 1);
      this.ahead.delete(++this.contiguous);
      if (item.event !== "feed.skip") ready.push(item);
    }
    return ready;
  }

  get hasGap() {
    return this.ahead.size > 0;
  }
}

const encoder = new TextEncoder();

/** One hall socket that reconnects by itself. `handlers`: `hello(data, reconnected)`,
 * `push(frame)` (feed items in order, and pushes without `seq`), `refused(error)` (the `error`
 * push), `closed(code, final, delay)`. `env` replaces the browser's `WebSocket`, `setTimeout`,
 * `clearTimeout` and `random` (tests). */
export class HallSocket {
  constructor(url, handlers, env = {}) {
    this.url = url;
    this.handlers = handlers;
    this.env = {
      WebSocket: globalThis.WebSocket,
      setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
      clearTimeout: (timer) => globalThis.clearTimeout(timer),
      random: Math.random,
      ...env,
    };
    this.pending = new Map();
    this.counter = 0;
    this.feedState = new Feed();
    this.gapTimer = null;
    this.resuming = false;
    this.resumeAgain = false;
    this.retryAfter = null;
    this.attempt = 0;
  }

  /** The last contiguous seq (null before the first `hello`). */
  get contiguous() {
    return this.feedState.contiguous;
  }

  open() {
    this.retryAfter = null;
    this.ws = new this.env.WebSocket(this.url);
    this.ws.addEventListener("message", (event) => this.onFrame(JSON.parse(event.data)));
    this.ws.addEventListener("close", (event) => this.onClose(event));
  }

  get connected() {
    return this.ws?.readyState === OPEN;
  }

  /** Send a request; resolves with the reply's `data`, rejects with an Error carrying `code`. */
  request(action, data = {}) {
    if (!this.connected) return Promise.reject(new Error("Not connected; your message was not sent."));
    const id = `c${++this.counter}`;
    const text = JSON.stringify({ id, action, data });
    if (encoder.encode(text).length > MAX_FRAME_BYTES) {
      return Promise.reject(Object.assign(new Error("This is too long to send."), { code: "frame_too_large" }));
    }
    this.ws.send(text);
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Send a request whose reply nobody waits for (heartbeats, moves). */
  fire(action, data = {}) {
    if (this.connected) this.ws.send(JSON.stringify({ id: `f${++this.counter}`, action, data }));
  }

  async onFrame(frame) {
    if ("id" in frame && "ok" in frame) {
      const waiting = this.pending.get(frame.id);
      if (!waiting) return;
      this.pending.delete(frame.id);
      if (frame.ok) waiting.resolve(frame.data);
      else waiting.reject(Object.assign(new Error(frame.error.message), { code: frame.error.code }));
      return;
    }
    if (frame.event === "hello") {
      this.attempt = 0;
      const reconnected = this.feedState.started;
      const ready = reconnected ? [] : this.feedState.start(frame.data.seq);
      this.handlers.hello(frame.data, reconnected);
      if (reconnected) await this.catchUp();
      else this.apply(ready);
      return;
    }
    if (frame.event === "error") {
      if (typeof frame.data.retry_after === "number") this.retryAfter = frame.data.retry_after;
      this.handlers.refused(frame.data);
      return;
    }
    if (frame.seq !== undefined) this.feed(frame);
    else this.handlers.push(frame);
  }

  feed(item) {
    this.apply(this.feedState.offer(item));
  }

  apply(items) {
    for (const item of items) this.handlers.push(item);
    if (!this.feedState.hasGap) {
      this.env.clearTimeout(this.gapTimer);
      this.gapTimer = null;
    } else if (!this.gapTimer) {
      this.gapTimer = this.env.setTimeout(() => {
        this.gapTimer = null;
        if (this.feedState.hasGap) this.catchUp();
      }, GAP_WAIT_MS);
    }
  }

  async catchUp() {
    if (this.resuming) {
      this.resumeAgain = true;
      return;
    }
    this.resuming = true;
    try {
      do {
        this.resumeAgain = false;
        let more = true;
        while (more) {
          const reply = await this.request("feed.resume", { since: this.contiguous });
          for (const item of reply.items) this.feed(item);
          more = reply.more && reply.items.length > 0;
        }
      } while (this.resumeAgain);
    } catch {
      // The socket closed; the next hello resumes from the same place.
    } finally {
      this.resuming = false;
    }
  }

  onClose(event) {
    for (const { reject } of this.pending.values()) reject(new Error("The connection closed."));
    this.pending.clear();
    this.env.clearTimeout(this.gapTimer);
    this.gapTimer = null;
    const { final, delay } = reconnectDelay({
      code: event.code,
      retryAfter: this.retryAfter,
      attempt: this.attempt,
      random: this.env.random,
    });
    if (!final && this.retryAfter === null && event.code !== CLOSE.RESTART) this.attempt++;
    this.handlers.closed(event.code, final, delay);
    if (!final) this.env.setTimeout(() => this.open(), delay);
  }
}
