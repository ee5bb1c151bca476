// Checks the browser client's feed algorithm (static/venue/live.js, docs/protocol.md "Client
// algorithm") against a scripted server. Run by tests/live/test_client_algorithm.py.
import assert from "node:assert/strict";

globalThis.location = { protocol: "http:", host: "localhost" };
const sockets = [];
class FakeWebSocket {
  static OPEN = 1;
  constructor(url) {
    this.url = url;
    this.readyState = 1;
    this.listeners = {};
    this.sent = [];
    this.waiters = [];
    sockets.push(this);
  }
  addEventListener(kind, callback) {
    (this.listeners[kind] ||= []).push(callback);
  }
  send(text) {
    const frame = JSON.parse(text);
    this.sent.push(frame);
    this.waiters.filter((w) => w.match(frame)).forEach((w) => w.resolve(frame));
    this.waiters = this.waiters.filter((w) => !w.match(frame));
  }
  nextRequest(action) {
    const found = this.sent.find((f) => f.action === action && !f.answered);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ match: (f) => f.action === action, resolve }));
  }
  push(frame) {
    for (const callback of this.listeners.message || []) callback({ data: JSON.stringify(frame) });
  }
  reply(request, data) {
    request.answered = true;
    this.push({ id: request.id, ok: true, data });
  }
  close(code) {
    this.readyState = 3;
    for (const callback of this.listeners.close || []) callback({ code });
  }
}
globalThis.WebSocket = FakeWebSocket;
globalThis.document = undefined;

const { HallSocket } = await import(process.argv[2]);
const shown = [];
let hellos = 0;
const client = new HallSocket(7, {
  hello: () => hellos++,
  push: (frame) => shown.push(frame.seq ?? frame.event),
  refused: () => {},
  closed: () => {},
});
const item = (seq, event = "chat.message") => ({ event, seq, data: {} });
const settle = () => new Promise((resolve) => setImmediate(resolve));

client.open();
let ws = sockets[0];
ws.push({ event: "hello", data: { seq: 5 } });
ws.push(item(7));
ws.push(item(6));
ws.push(item(7)); // a duplicate
ws.push({ event: "presence.delta", data: {} });
assert.deepEqual(shown, [6, 7, "presence.delta"], "out-of-order items are applied in seq order, once");

ws.push(item(8, "feed.skip"));
ws.push(item(10)); // 9 is missing
assert.deepEqual(shown, [6, 7, "presence.delta"], "placeholders are not shown; 10 waits for 9");
const resume = await ws.nextRequest("feed.resume"); // after the gap wait
assert.equal(resume.data.since, 8, "resume from the last contiguous seq, not the highest");
ws.reply(resume, { items: [item(9), item(10)], more: false });
await settle();
assert.deepEqual(shown.slice(3), [9, 10], "the gap is filled and 10 is shown once");

// A reconnect resumes from the last contiguous seq, following `more`.
ws.close(1006);
const reconnect = new Promise((resolve) => {
  const started = sockets.length;
  const timer = setInterval(() => {
    if (sockets.length > started) {
      clearInterval(timer);
      resolve(sockets[sockets.length - 1]);
    }
  }, 10);
});
ws = await reconnect;
ws.push({ event: "hello", data: { seq: 14 } });
ws.push(item(15)); // live push while resuming
const first = await ws.nextRequest("feed.resume");
assert.equal(first.data.since, 10);
ws.reply(first, { items: [item(11), item(12, "feed.skip")], more: true });
await settle();
const second = await ws.nextRequest("feed.resume");
assert.equal(second.data.since, 12, "`more` asks again from the last item's seq");
ws.reply(second, { items: [item(13), item(14), item(15)], more: false });
await settle();
assert.deepEqual(shown.slice(5), [11, 13, 14, 15], "every item after reconnecting, once, in order");
assert.equal(hellos, 2);

// After 4008 the client waits the back-off the abuse push names, then connects again.
const closes = [];
client.handlers.closed = (code, final, delay) => closes.push([code, final, delay]);
let opened = sockets.length;
ws.push({ event: "error", data: { code: "abuse", message: "Too many refused requests.", retry_after: 0.2 } });
assert.equal(client.retryAfter, 0.2);
const closedAt = Date.now();
ws.close(4008);
assert.deepEqual(closes.at(-1), [4008, false, 200], "4008: reconnect after retry_after");
assert.equal(sockets.length, opened, "no reconnect before the back-off ends");
while (sockets.length === opened) await new Promise((resolve) => setTimeout(resolve, 10));
assert.ok(Date.now() - closedAt >= 190, "reconnected only after retry_after");
ws = sockets.at(-1);
ws.push({ event: "hello", data: { seq: 15 } });

// 4009 (logged out): no reconnect.
opened = sockets.length;
ws.push({ event: "error", data: { code: "revoked", message: "You were logged out." } });
ws.close(4009);
assert.deepEqual(closes.at(-1), [4009, true, null]);
await new Promise((resolve) => setTimeout(resolve, 100));
assert.equal(sockets.length, opened, "no reconnect after 4009");
console.log("hall socket client algorithm: ok");
