// Fakes for the socket client's environment: a scripted WebSocket and a manual clock.

/** Timers that run only when the test advances the clock. */
export class FakeClock {
  constructor() {
    this.now = 0;
    this.timers = new Map();
    this.next = 1;
  }

  setTimeout = (callback, ms) => {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, callback });
    return id;
  };

  clearTimeout = (id) => {
    this.timers.delete(id);
  };

  /** The delays (ms from now) of the timers waiting, soonest first. */
  get waiting() {
    return [...this.timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** Move the clock `ms` forward, running the timers due in order. */
  advance(ms) {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.timers.delete(id);
      this.now = timer.at;
      timer.callback();
    }
    this.now = until;
  }
}

/** A server-side view of one socket: what the client sent, and pushes and closes to script. */
export function fakeWebSocketClass(sockets) {
  return class FakeWebSocket {
    static OPEN = 1;

    constructor(url) {
      this.url = url;
      this.readyState = 1;
      this.listeners = {};
      this.sent = [];
      sockets.push(this);
    }

    addEventListener(kind, callback) {
      this.listeners[kind] ||= [];
      this.listeners[kind].push(callback);
    }

    send(text) {
      this.sent.push(JSON.parse(text));
    }

    /** The client's requests of `action` not answered yet. */
    requests(action) {
      return this.sent.filter((frame) => frame.action === action && !frame.answered);
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
  };
}

/** Let pending promise callbacks run (replies resolve requests asynchronously). */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
