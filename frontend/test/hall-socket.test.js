// The socket client's reconnect and resume (docs/protocol.md, "Client algorithm" and the close
// codes), with a scripted WebSocket and a manual clock.
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { Feed, GAP_WAIT_MS, HallSocket, hallSocketUrl, reconnectDelay } from "../src/hall-socket.js";
import { CLOSE, MAX_FRAME_BYTES } from "../src/protocol.js";
import { FakeClock, fakeWebSocketClass, settle } from "./fakes.js";

const item = (seq, event = "chat.message") => ({ event, seq, data: { n: seq } });

describe("Feed", () => {
  test("applies items once each, in seq order, from the hello's seq", () => {
    const feed = new Feed();
    assert.deepEqual(feed.offer(item(3)), [], "nothing is applied before the first hello");
    assert.deepEqual(
      feed.start(2).map((i) => i.seq),
      [3],
      "an item held from before the hello is applied after it",
    );
    assert.deepEqual(feed.offer(item(5)), [], "5 waits for 4");
    assert.ok(feed.hasGap);
    assert.deepEqual(feed.offer(item(5)), [], "a duplicate beyond the gap is ignored");
    assert.deepEqual(
      feed.offer(item(4)).map((i) => i.seq),
      [4, 5],
    );
    assert.equal(feed.contiguous, 5);
    assert.ok(!feed.hasGap);
    assert.deepEqual(feed.offer(item(4)), [], "an item at or below contiguous is ignored");
  });

  test("a placeholder only advances contiguous", () => {
    const feed = new Feed();
    feed.start(0);
    assert.deepEqual(feed.offer(item(1, "feed.skip")), []);
    assert.equal(feed.contiguous, 1);
    assert.deepEqual(
      feed.offer(item(2)).map((i) => i.seq),
      [2],
    );
  });
});

describe("reconnectDelay", () => {
  test("never reconnects after 4001, 4003, 4004, 4009 and 4010", () => {
    for (const code of [4001, 4003, 4004, 4009, 4010]) {
      assert.deepEqual(reconnectDelay({ code, retryAfter: 3 }), { final: true, delay: null }, String(code));
    }
  });

  test("waits exactly retry_after when the last error push carried one (4008, 1013)", () => {
    assert.deepEqual(reconnectDelay({ code: CLOSE.ABUSE, retryAfter: 42.5 }), { final: false, delay: 42500 });
    assert.deepEqual(reconnectDelay({ code: CLOSE.UNAVAILABLE, retryAfter: 6.3 }), { final: false, delay: 6300 });
  });

  test("a restarting server (1012): a random 0-5 s", () => {
    assert.equal(reconnectDelay({ code: 1012, random: () => 0 }).delay, 0);
    assert.equal(reconnectDelay({ code: 1012, random: () => 0.5 }).delay, 2500);
  });

  test("otherwise 0.5 s doubled up to 30 s, times 0.5-1.5", () => {
    const mid = () => 0.5; // factor 1
    const delays = [0, 1, 2, 3, 6, 7, 20].map((attempt) => reconnectDelay({ code: 1006, attempt, random: mid }).delay);
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 30000, 30000, 30000]);
    assert.equal(reconnectDelay({ code: 1006, attempt: 1, random: () => 0 }).delay, 500);
    assert.equal(reconnectDelay({ code: 4005, attempt: 1, random: () => 0.999 }).delay, 1000 * 1.499);
  });
});

describe("HallSocket", () => {
  let clock;
  let sockets;
  let shown;
  let events;
  let client;

  beforeEach(() => {
    clock = new FakeClock();
    sockets = [];
    shown = [];
    events = [];
    client = new HallSocket(
      "ws://venue.test/ws/halls/7/",
      {
        hello: (data, reconnected) => events.push(["hello", data.seq, reconnected]),
        push: (frame) => shown.push(frame.seq ?? frame.event),
        refused: (error) => events.push(["refused", error.code]),
        closed: (code, final, delay) => events.push(["closed", code, final, delay]),
      },
      {
        WebSocket: fakeWebSocketClass(sockets),
        setTimeout: clock.setTimeout,
        clearTimeout: clock.clearTimeout,
        random: () => 0.5,
      },
    );
    client.open();
  });

  const last = () => sockets.at(-1);

  test("the address follows the page's scheme and host", () => {
    assert.equal(
      hallSocketUrl({ protocol: "https:", host: "medvenue.example" }, 3),
      "wss://medvenue.example/ws/halls/3/",
    );
    assert.equal(hallSocketUrl({ protocol: "http:", host: "127.0.0.1:8000" }, 3), "ws://127.0.0.1:8000/ws/halls/3/");
    assert.equal(last().url, "ws://venue.test/ws/halls/7/");
  });

  test("out-of-order and duplicate pushes are applied once, in order; others pass through", () => {
    last().push({ event: "hello", data: { seq: 5 } });
    last().push(item(7));
    last().push(item(6));
    last().push(item(7));
    last().push({ event: "presence.delta", data: { joined: [], moved: [], left: [] } });
    assert.deepEqual(shown, [6, 7, "presence.delta"]);
    assert.deepEqual(clock.waiting, [], "no gap is left, so no resume is planned");
  });

  test("a gap not filled within a second is resumed from the last contiguous seq", async () => {
    const ws = last();
    ws.push({ event: "hello", data: { seq: 5 } });
    ws.push(item(6));
    ws.push(item(7, "feed.skip"));
    ws.push(item(10)); // 8 and 9 are missing
    ws.push(item(9));
    clock.advance(GAP_WAIT_MS - 1);
    assert.deepEqual(ws.requests("feed.resume"), [], "out-of-order arrival gets its second");
    clock.advance(1);
    const [resume] = ws.requests("feed.resume");
    assert.equal(resume.data.since, 7, "from the last contiguous seq (7), not the highest received (10)");
    ws.reply(resume, { items: [item(8), item(9), item(10)], more: false });
    await settle();
    assert.deepEqual(shown, [6, 8, 9, 10], "the placeholder is not shown; 9 and 10 once each");
    assert.equal(client.contiguous, 10);
  });

  test("the wait starts with the first item beyond the gap; later ones do not extend it", () => {
    const ws = last();
    ws.push({ event: "hello", data: { seq: 0 } });
    ws.push(item(2));
    clock.advance(600);
    ws.push(item(3));
    clock.advance(GAP_WAIT_MS - 600);
    assert.equal(ws.requests("feed.resume").length, 1);
    assert.equal(ws.requests("feed.resume")[0].data.since, 0);
  });

  test("a gap filled in time asks nothing", () => {
    const ws = last();
    ws.push({ event: "hello", data: { seq: 0 } });
    ws.push(item(2));
    ws.push(item(1));
    clock.advance(5 * GAP_WAIT_MS);
    assert.deepEqual(ws.requests("feed.resume"), []);
    assert.deepEqual(shown, [1, 2]);
  });

  test("a reconnect resumes from the last contiguous seq and follows `more`", async () => {
    let ws = last();
    ws.push({ event: "hello", data: { seq: 5 } });
    ws.push(item(6));
    ws.push(item(8)); // 7 lost
    ws.close(1006);
    assert.deepEqual(events.at(-1), ["closed", 1006, false, 500]);
    assert.deepEqual(clock.waiting, [500], "the gap timer is gone; only the reconnect waits");
    clock.advance(499);
    assert.equal(sockets.length, 1, "not before the back-off");
    clock.advance(1);
    assert.equal(sockets.length, 2);
    ws = last();
    ws.push({ event: "hello", data: { seq: 14 } });
    assert.deepEqual(events.at(-1), ["hello", 14, true]);
    ws.push(item(15)); // a live push while resuming
    const [first] = ws.requests("feed.resume");
    assert.equal(first.data.since, 6, "the hello's seq (14) does not move contiguous");
    ws.reply(first, { items: [item(7), item(8), item(9, "feed.skip"), item(10)], more: true });
    await settle();
    const [second] = ws.requests("feed.resume");
    assert.equal(second.data.since, 10, "`more`: ask again from the new contiguous seq");
    ws.reply(second, { items: [item(11), item(12), item(13), item(14), item(15)], more: false });
    await settle();
    assert.deepEqual(shown, [6, 7, 8, 10, 11, 12, 13, 14, 15]);
    assert.deepEqual(ws.requests("feed.resume"), []);
  });

  test("a socket lost while resuming resumes again from where it got", async () => {
    let ws = last();
    ws.push({ event: "hello", data: { seq: 3 } });
    ws.close(1006);
    clock.advance(500);
    ws = last();
    ws.push({ event: "hello", data: { seq: 9 } });
    const [first] = ws.requests("feed.resume");
    ws.reply(first, { items: [item(4), item(5)], more: true });
    await settle();
    ws.close(1011);
    await settle();
    clock.advance(clock.waiting[0]);
    ws = last();
    ws.push({ event: "hello", data: { seq: 9 } });
    const [again] = ws.requests("feed.resume");
    assert.equal(again.data.since, 5);
  });

  test("the back-off doubles while connecting fails and starts again after a hello", () => {
    const delays = [];
    for (let i = 0; i < 4; i++) {
      last().close(1006);
      delays.push(events.at(-1)[3]);
      clock.advance(events.at(-1)[3]);
    }
    assert.deepEqual(delays, [500, 1000, 2000, 4000]);
    last().push({ event: "hello", data: { seq: 0 } });
    last().close(1006);
    assert.equal(events.at(-1)[3], 500);
  });

  test("after 4008 it waits the abuse push's retry_after, then connects once", () => {
    last().push({ event: "hello", data: { seq: 0 } });
    last().push({ event: "error", data: { code: "abuse", message: "Too many refused requests.", retry_after: 12 } });
    last().close(CLOSE.ABUSE);
    assert.deepEqual(events.slice(-2), [
      ["refused", "abuse"],
      ["closed", 4008, false, 12000],
    ]);
    clock.advance(11999);
    assert.equal(sockets.length, 1);
    clock.advance(1);
    assert.equal(sockets.length, 2);
    last().close(1006);
    assert.equal(events.at(-1)[3], 500, "retry_after applies to the socket that carried it only");
  });

  test("no reconnect after a final close (logged out, removed, forbidden)", () => {
    for (const code of [CLOSE.REVOKED, CLOSE.REMOVED, CLOSE.FORBIDDEN, CLOSE.UNAUTHENTICATED, CLOSE.NOT_FOUND]) {
      last().close(code);
      assert.deepEqual(events.at(-1), ["closed", code, true, null]);
      assert.deepEqual(clock.waiting, []);
    }
    assert.equal(sockets.length, 1);
  });

  test("requests: replies resolve, errors reject with their code, a close rejects the rest", async () => {
    const ws = last();
    ws.push({ event: "hello", data: { seq: 0 } });
    const asked = client.request("qa.ask", { text: "NNT?" });
    const voted = client.request("qa.vote", { question: 1 });
    const lost = client.request("chat.send", { text: "hi" });
    ws.reply(ws.requests("qa.ask")[0], { question: { id: 1 } });
    const vote = ws.requests("qa.vote")[0];
    ws.push({ id: vote.id, ok: false, error: { code: "invalid", message: "Not your own question." } });
    assert.deepEqual(await asked, { question: { id: 1 } });
    await assert.rejects(voted, { code: "invalid", message: "Not your own question." });
    ws.close(1006);
    await assert.rejects(lost, /connection closed/);
    await assert.rejects(client.request("qa.list"), /Not connected/);
  });

  test("a frame over the server's limit is refused before sending", async () => {
    const ws = last();
    ws.push({ event: "hello", data: { seq: 0 } });
    await assert.rejects(client.request("chat.send", { text: "é".repeat(MAX_FRAME_BYTES / 2) }), {
      code: "frame_too_large",
    });
    assert.deepEqual(ws.requests("chat.send"), []);
  });
});
