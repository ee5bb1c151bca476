// Shared by the studio and the hall's stage: janus.js set up once, JSON requests to MedVenue, and
// a Janus token that renews itself while the page's access lasts (docs/media.md).
import Janus from "janus-gateway";
import adapter from "webrtc-adapter";

let ready = null;

export function initJanus() {
  if (!ready) {
    ready = new Promise((resolve) => {
      Janus.init({ debug: false, dependencies: Janus.useDefaultDependencies({ adapter }), callback: resolve });
    });
  }
  return ready;
}

function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken], #studio-csrf, [data-csrf]");
  if (field) return field.value || field.dataset.csrf || "";
  const cookie = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : "";
}

export async function postJSON(url, body = {}) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
  if (!response.ok)
    throw Object.assign(new Error(data.error || `The server answered ${response.status}.`), {
      status: response.status,
    });
  return data;
}

export async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  const data = await response.json().catch(() => ({ error: `The server answered ${response.status}.` }));
  if (!response.ok)
    throw Object.assign(new Error(data.error || `The server answered ${response.status}.`), {
      status: response.status,
    });
  return data;
}

/**
 * The token janus.js sends with every request. Janus refuses an expired token on every request
 * (keepalives too), so this object renews it at half its lifetime; janus.js serialises requests
 * with JSON.stringify, which asks `toJSON()` for the current value each time. When renewing is
 * refused (access ended) `onLost` is called and the old token runs out.
 */
export class RenewingToken {
  constructor({ token, token_ttl: ttl }, { url, purpose, onLost }) {
    this.value = token;
    this.url = url;
    this.purpose = purpose;
    this.onLost = onLost;
    this.schedule(ttl);
  }

  schedule(ttl) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.renew(), Math.max(10, ttl / 2) * 1000);
  }

  async renew() {
    try {
      const fresh = await postJSON(this.url, { purpose: this.purpose });
      this.value = fresh.token;
      this.schedule(fresh.token_ttl);
    } catch (error) {
      if (error.status && error.status < 500) this.onLost?.(error.message);
      else this.timer = setTimeout(() => this.renew(), 10000);
    }
  }

  stop() {
    clearTimeout(this.timer);
  }

  toJSON() {
    return this.value;
  }

  toString() {
    return this.value;
  }
}

/** Connect to Janus; resolves with the session. */
export async function connect(grant, token, { onDestroyed } = {}) {
  await initJanus();
  return new Promise((resolve, reject) => {
    const janus = new Janus({
      server: grant.server,
      token,
      iceServers: grant.ice_servers || [],
      destroyOnUnload: true,
      // Janus ends a session that sent nothing for 60 s (janus.jcfg); a page busy for a while
      // (its 3D view starting on a software renderer) still keeps its session.
      keepAlivePeriod: 15000,
      success: () => resolve(janus),
      error: (error) => {
        reject(new Error(`The media server could not be reached: ${error}`));
        onDestroyed?.(String(error));
      },
      destroyed: () => onDestroyed?.("destroyed"),
    });
  });
}

/** Attach a plugin handle; resolves with it. `callbacks` are janus.js's. */
export function attach(janus, plugin, opaqueId, callbacks) {
  return new Promise((resolve, reject) => {
    janus.attach({
      plugin,
      opaqueId,
      ...callbacks,
      success: resolve,
      error: (error) => reject(new Error(String(error))),
    });
  });
}

export { Janus };
