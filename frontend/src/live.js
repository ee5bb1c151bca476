// The live layer of a hall page: one websocket (docs/protocol.md) that fills the side panels
// (Q&A, people, chat, polls, reactions), answers attention checks and moves the 3D crowd.
// All user text is inserted with textContent; nothing a user sends is ever parsed as HTML.

import { el } from "./dom.js";
import { HallSocket, hallSocketUrl } from "./hall-socket.js";
import { applyPoll, applyPresenceDelta, applyQuestion, applySnapshot, sortQuestions } from "./live-state.js";
import { CLOSE, EMOJI, LIMITS } from "./protocol.js";

const MOVE_INTERVAL_MS = 100;
const HEARTBEAT_MS = 60000;
const COUNTS_MS = 10000;

function uuid() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

class LivePanels {
  constructor(root, hall, manifest) {
    this.root = root;
    this.hall = hall;
    this.manifest = manifest;
    this.me = null;
    this.moderates = false;
    this.questions = new Map();
    this.people = new Map();
    this.polls = new Map();
    this.mine = new Map(); // my questions, as "My questions" shows them (docs/protocol.md)
    this.removals = new Map();
    this.held = new Map(); // chat messages held by the keyword filter (moderators)
    this.isModerator = false;
    this.venue = window.medvenue?.venue;
    this.build();
  }

  build() {
    const qa = document.getElementById("panel-qa");
    const people = document.getElementById("panel-people");
    const chat = document.getElementById("panel-chat");
    qa.querySelector(".panel-empty")?.remove();
    people.querySelector(".panel-empty")?.remove();
    chat.querySelector(".panel-empty")?.remove();

    this.status = el("p", { class: "live-status", role: "status", text: "Connecting to the hall…" });
    qa.append(this.status);

    this.reactions = el("div", { class: "live-reactions", role: "group", "aria-label": "React to the stage" });
    for (const emoji of EMOJI) {
      this.reactions.append(
        el("button", {
          type: "button",
          class: "reaction",
          "aria-label": `React ${emoji}`,
          text: emoji,
          onclick: () => this.socket.request("reaction.send", { emoji }).catch((e) => this.say(e.message)),
        }),
      );
    }
    this.burst = el("p", { class: "live-burst", "aria-live": "off" });
    qa.append(this.reactions, this.burst);

    this.pollBox = el("div", { class: "live-polls" });
    this.pollForm = this.buildPollForm();
    qa.append(this.pollBox, this.pollForm);

    const askText = el("textarea", { id: "qa-text", maxlength: String(LIMITS.question), rows: "2", required: true });
    this.askForm = el(
      "form",
      { class: "live-form", id: "qa-form", onsubmit: (e) => this.ask(e, askText) },
      el("label", { for: "qa-text", text: "Ask a question" }),
      askText,
      el("button", { type: "submit", class: "btn btn-primary", text: "Ask" }),
    );
    this.pendingList = el("ol", { class: "live-list live-pending", "aria-label": "Questions awaiting moderation" });
    this.pendingHeading = el("h3", { text: "Awaiting moderation", hidden: true });
    this.questionList = el("ol", { class: "live-list live-questions", "aria-label": "Questions" });
    this.presenterLink = el("a", {
      class: "live-presenter",
      href: `presenter/`,
      text: "Open the presenter view",
      hidden: true,
    });
    this.mineBox = el(
      "section",
      { class: "live-mine", "aria-labelledby": "qa-mine-heading", hidden: true },
      el("h3", { id: "qa-mine-heading", text: "My questions" }),
    );
    this.mineList = el("ol", { class: "live-list live-mine-list", "aria-labelledby": "qa-mine-heading" });
    this.mineBox.append(this.mineList);
    qa.append(this.askForm, this.mineBox, this.pendingHeading, this.pendingList, this.questionList, this.presenterLink);

    // What a removed person sees instead of the forms: why, until when, and the CME effect.
    this.removedBox = el("div", { class: "live-removed", role: "alert", hidden: true });
    qa.querySelector("h2").after(this.removedBox);

    this.peopleCount = el("p", { class: "live-count", "aria-live": "polite" });
    this.peopleList = el("ul", { class: "live-list live-people", "aria-label": "People in this hall" });
    this.removalsBox = el(
      "section",
      { class: "live-removals", "aria-labelledby": "removals-heading", hidden: true },
      el("h3", { id: "removals-heading", text: "Removals from this hall" }),
    );
    this.removalsList = el("ul", { class: "live-list live-removals-list", "aria-labelledby": "removals-heading" });
    this.removalsEmpty = el("p", {
      class: "live-note",
      text: "Nobody has been removed from this hall in the last 24 hours.",
    });
    this.removalsBox.append(this.removalsEmpty, this.removalsList);
    people.append(this.peopleCount, this.peopleList, this.removalsBox);

    const chatText = el("input", {
      id: "chat-text",
      maxlength: String(LIMITS.chat),
      required: true,
      autocomplete: "off",
    });
    this.chatLog = el("ol", { class: "live-list live-chat", "aria-live": "polite", "aria-label": "Chat messages" });
    this.heldBox = el(
      "section",
      { class: "live-held", "aria-labelledby": "held-heading", hidden: true },
      el("h3", { id: "held-heading", text: "Held for review" }),
      el("p", {
        class: "live-note",
        text: "These messages contain one of the event's moderation keywords; only moderators see them until one is shown.",
      }),
    );
    this.heldList = el("ol", { class: "live-list live-held-list", "aria-labelledby": "held-heading" });
    this.heldBox.append(this.heldList);
    this.chatNotice = el("p", { class: "live-chat-notice", role: "status", hidden: true });
    this.chatForm = el(
      "form",
      { class: "live-form live-chat-form", id: "chat-form", onsubmit: (e) => this.chat(e, chatText) },
      el("label", { for: "chat-text", text: "Message" }),
      chatText,
      el("button", { type: "submit", class: "btn", text: "Send" }),
    );
    chat.append(this.heldBox, this.chatLog, this.chatNotice, this.chatForm);

    this.dialog = el("dialog", { class: "live-dialog", "aria-labelledby": "live-dialog-title" });
    document.body.append(this.dialog);

    this.checkDialog = el(
      "div",
      {
        class: "live-check",
        role: "alertdialog",
        "aria-modal": "false",
        "aria-labelledby": "check-title",
        hidden: true,
      },
      el("p", { id: "check-title", text: "Are you still following the session? Confirm to keep your CME attendance." }),
      el("button", { type: "button", class: "btn btn-primary", text: "I am here", onclick: () => this.confirmCheck() }),
    );
    document.body.append(this.checkDialog);
  }

  buildPollForm() {
    const question = el("input", { id: "poll-question", maxlength: String(LIMITS.pollQuestion), required: true });
    const options = el("textarea", {
      id: "poll-options",
      rows: "3",
      required: true,
      placeholder: "One option per line",
    });
    return el(
      "form",
      {
        class: "live-form live-poll-form",
        id: "poll-form",
        hidden: true,
        onsubmit: async (e) => {
          e.preventDefault();
          const list = options.value
            .split("\n")
            .map((s) => s.trim())
            .filter(Boolean);
          try {
            await this.socket.request("poll.create", { question: question.value, options: list });
            question.value = "";
            options.value = "";
          } catch (error) {
            this.say(error.message);
          }
        },
      },
      el("h3", { text: "Start a poll" }),
      el("label", { for: "poll-question", text: "Question" }),
      question,
      el("label", { for: "poll-options", text: `Options (2 to ${LIMITS.pollOptions})` }),
      options,
      el("button", { type: "submit", class: "btn", text: "Open poll" }),
    );
  }

  connect() {
    this.greeted = new Promise((resolve) => {
      this.greet = resolve;
    });
    this.socket = new HallSocket(hallSocketUrl(location, this.hall.id), {
      hello: (data, reconnected) => this.onHello(data, reconnected),
      push: (frame) => this.onPush(frame),
      refused: (error) => {
        this.refusal = error; // the close that follows says what it means
        this.say(error.message);
      },
      closed: (code, final, delay) => {
        this.greet(); // no `hello` to wait for: the 3D view need not wait either
        const refusal = this.refusal;
        this.refusal = null;
        if (code === CLOSE.REMOVED) {
          this.showRemoved(refusal || {}); // why and until when
          return;
        }
        if (code === CLOSE.ABUSE) {
          this.say(`Too many refused requests from your account; reconnecting in ${Math.ceil(delay / 1000)} s.`);
          return;
        }
        if (code === CLOSE.REVOKED) {
          this.say("You were logged out (or lost access to this hall); log in again to rejoin.");
          return;
        }
        this.say(final ? "You are not connected to this hall." : "Connection lost; reconnecting…");
      },
    });
    this.socket.open();
    setInterval(() => this.socket.fire("attendance.heartbeat"), HEARTBEAT_MS);
    setInterval(() => this.sendPosition(), MOVE_INTERVAL_MS);
    setInterval(() => this.refreshCounts(), COUNTS_MS);
  }

  async refreshCounts() {
    let reply;
    try {
      reply = await this.socket.request("presence.counts");
    } catch {
      return;
    }
    for (const hall of this.manifest.halls) {
      const badge = document.querySelector(`[data-count-for="${CSS.escape(hall.slug)}"]`);
      const count = reply.halls[String(hall.id)];
      if (!badge || count === undefined) continue;
      badge.textContent = ` · ${count} here now`;
      badge.hidden = false;
    }
  }

  say(text) {
    this.status.textContent = text;
  }

  async onHello(data, reconnected) {
    this.me = data.user;
    this.isModerator = Boolean(data.moderator);
    this.showRemoved(null);
    this.refreshCounts();
    // The panel is in its state (the stage shown) before the page builds its 3D view.
    this.showStage(data.stage).finally(() => this.greet());
    const changed = this.applySession(data.session);
    if (!reconnected || changed) await this.loadSessionLists();
    else this.loadMine(); // private pushes are not part of the resumable feed
    this.removalsBox.hidden = !this.isModerator;
    this.heldBox.hidden = true;
    if (this.isModerator) {
      this.socket
        .request("hall.removals")
        .then((reply) => {
          this.removals = new Map(reply.removals.map((r) => [r.id, r]));
          this.renderRemovals();
        })
        .catch(() => {});
      this.socket
        .request("chat.held")
        .then((reply) => {
          this.held = new Map(reply.messages.map((m) => [m.id, m]));
          this.renderHeld();
        })
        .catch(() => {});
    }
  }

  /** Show the panel for the hall's session (on now, or starting within 30 minutes): Q&A for
   * talks (ahead of their start too), none for breaks, reactions while it is on. A timer asks
   * `hall.state` at the session's next boundary, so the panel follows the programme. Returns
   * whether the session changed. */
  applySession(session) {
    const changed = (this.session?.id ?? null) !== (session?.id ?? null);
    this.session = session || null;
    const now = Date.now();
    const started = Boolean(session) && Date.parse(session.starts_at) <= now;
    const isBreak = session?.kind === "break";
    const qaOpen = Boolean(session) && !isBreak;
    this.moderates = Boolean(session?.you_moderate) && !isBreak;
    this.pollForm.hidden = !this.moderates;
    this.presenterLink.hidden = !this.moderates;
    this.askForm.hidden = !qaOpen;
    this.mineBox.hidden = !qaOpen;
    this.reactions.hidden = !(started && !isBreak); // reactions are for the stage, while a talk is on
    this.burst.hidden = this.reactions.hidden;
    if (!session) this.say("Connected · no session is on in this hall");
    else if (isBreak)
      this.say(`${started ? "Now" : `At ${this.clock(session.starts_at)}`}: ${session.title} (a break, no Q&A)`);
    else if (started) this.say(`Connected · ${session.title}`);
    else this.say(`Next at ${this.clock(session.starts_at)}: ${session.title} · you can ask your questions ahead`);
    clearTimeout(this.sessionTimer);
    const boundary = session ? Date.parse(started ? session.ends_at : session.starts_at) : now + 300000;
    this.sessionTimer = setTimeout(
      () => this.refreshState(),
      Math.min(Math.max(boundary - now + 1500, 1000), 2 ** 31 - 1),
    );
    if (changed) {
      this.questions.clear();
      this.polls.clear();
      this.mine.clear();
    }
    return changed;
  }

  async refreshState() {
    try {
      const state = await this.socket.request("hall.state");
      if (this.applySession(state.session)) await this.loadSessionLists();
    } catch {
      // Not connected now: the next hello brings the state.
    }
  }

  async loadSessionLists() {
    let questions, polls;
    try {
      [questions, polls] = await Promise.all([this.socket.request("qa.list"), this.socket.request("poll.list")]);
    } catch {
      return; // the socket closed meanwhile: the next hello loads the lists again
    }
    this.questions = new Map(questions.questions.map((q) => [q.id, q]));
    this.polls = new Map(polls.polls.map((p) => [p.id, p]));
    this.renderQuestions();
    this.renderPolls();
    await this.loadMine();
  }

  async loadMine() {
    if (!this.session) return;
    try {
      const reply = await this.socket.request("qa.mine");
      this.mine = new Map(reply.questions.map((q) => [q.id, q]));
      this.renderMine();
    } catch {
      // Not connected now: the next hello loads it again.
    }
  }

  /** The hall's live stage (WebRTC through Janus); its code loads only when there is a stage. */
  showStage(stage) {
    if (!stage) return Promise.resolve();
    return import("./stage.js")
      .then(({ updateStage }) => updateStage(stage))
      .catch((error) => console.error("The live stage could not start:", error));
  }

  /** A live caption cue of the stage (`stage.caption`): shown by the stage, if it is up. */
  showCaption(cue) {
    import("./stage.js")
      .then(({ showCaption }) => showCaption(cue))
      .catch((error) => console.error("The caption could not be shown:", error));
  }

  /** A push (a feed item in order, or a push without `seq`): its handler in PUSH_HANDLERS. */
  onPush({ event, data }) {
    PUSH_HANDLERS[event]?.(this, data);
  }

  onSnapshot(data) {
    this.syncCrowd(applySnapshot(this.people, data), []);
    this.renderPeople();
  }

  onDelta(data) {
    const { place, remove, rosterChanged } = applyPresenceDelta(this.people, data);
    this.syncCrowd(place, remove);
    if (rosterChanged) this.renderPeople();
  }

  onQuestion(data) {
    const mineChanged = applyQuestion(this.questions, this.mine, data);
    this.renderQuestions();
    if (mineChanged) this.renderMine();
  }

  onMine(data) {
    this.mine.set(data.id, data);
    this.renderMine();
    const told = {
      approved: "A moderator approved your question: everyone sees it now.",
      answered: "Your question was marked answered.",
      rejected: "A moderator did not accept your question; see My questions.",
    }[data.status];
    if (told) this.say(told);
  }

  onChat(data) {
    if (data.held_for !== undefined) {
      this.held.set(data.id, data);
      this.renderHeld();
      return;
    }
    if (this.held.delete(data.id)) this.renderHeld();
    this.addChat(data);
  }

  onChatHidden(data) {
    this.chatLog.querySelector(`[data-message="${Number(data.id)}"]`)?.remove();
    if (this.held.delete(data.id)) this.renderHeld();
  }

  onYoursHidden(data) {
    this.chatNotice.textContent = `A moderator hid your message “${data.text}”.${data.reason ? ` Reason: ${data.reason}` : ""}`;
    this.chatNotice.hidden = false;
  }

  onRemoval(data) {
    this.removals.set(data.id, data);
    this.renderRemovals();
  }

  onPoll(data) {
    applyPoll(this.polls, data);
    this.renderPolls();
  }

  onReactions(data) {
    this.burst.textContent = Object.entries(data.counts)
      .map(([emoji, n]) => `${emoji} ${n}`)
      .join("  ");
  }

  onCheck(data) {
    this.check = data.check;
    this.checkDialog.hidden = false;
    this.checkDialog.querySelector("button").focus();
  }

  onCheckMissed() {
    this.checkDialog.hidden = true;
    this.say("An attention check was missed; that time may not count for CME credit.");
  }

  syncCrowd(moved, left) {
    if (!this.venue) return;
    for (const person of moved) {
      if (!person || person.id === this.me?.id) continue;
      const options = { name: person.name, x: person.x, z: person.z, yaw: person.yaw };
      if (!this.venue.moveAvatar(person.id, options)) this.venue.addAvatar(person.id, options);
    }
    left.forEach((id) => {
      this.venue.removeAvatar(id);
    });
  }

  sendPosition() {
    const here = this.venue?.position?.();
    if (!here || !this.me) return;
    const yaw = here.yaw ?? 0;
    const last = this.sent;
    if (last && Math.abs(last.x - here.x) < 0.05 && Math.abs(last.z - here.z) < 0.05 && Math.abs(last.yaw - yaw) < 2)
      return;
    this.sent = { x: here.x, z: here.z, yaw };
    this.socket.fire("presence.move", { x: here.x, z: here.z, yaw });
  }

  renderPeople() {
    const people = [...this.people.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.peopleCount.textContent = `${people.length} ${people.length === 1 ? "person" : "people"} here`;
    this.peopleList.replaceChildren(
      ...people.map((p) => {
        const item = el("li", {}, el("span", { class: "person-name", text: p.name }));
        if (p.degree) item.append(el("span", { class: "person-degree", text: ` ${p.degree}` }));
        if (p.id === this.me?.id) item.append(el("span", { class: "person-you", text: " (you)" }));
        if (this.moderates && p.id !== this.me?.id) {
          item.append(
            el("button", {
              type: "button",
              class: "link-button",
              text: "Remove…",
              "aria-label": `Remove ${p.name} from this hall…`,
              onclick: () => this.askRemoval(p),
            }),
          );
        }
        return item;
      }),
    );
  }

  renderQuestions() {
    const { visible, pending } = sortQuestions(this.questions);
    this.pendingHeading.hidden = !this.moderates || pending.length === 0;
    this.pendingList.replaceChildren(...(this.moderates ? pending.map((q) => this.questionItem(q)) : []));
    this.questionList.replaceChildren(...visible.map((q) => this.questionItem(q)));
  }

  questionItem(q) {
    const item = el(
      "li",
      { class: `question is-${q.status}${q.pinned ? " is-pinned" : ""}` },
      el("p", { class: "question-text", text: q.text }),
      el("p", {
        class: "question-meta",
        text: `${q.author} · ${q.votes} ${q.votes === 1 ? "vote" : "votes"}${q.pinned ? " · pinned" : ""}${q.status === "answered" ? " · answered" : ""}`,
      }),
    );
    if (q.status === "pending" && q.held_for) {
      item.append(el("p", { class: "question-held", text: `Held: contains “${q.held_for}”` }));
    }
    const actions = el("div", { class: "question-actions" });
    const mine = q.author_id === this.me?.id;
    if (!mine && q.status !== "pending") {
      actions.append(
        el("button", {
          type: "button",
          class: "btn btn-small",
          disabled: q.voted || undefined,
          "aria-label": `Upvote: ${q.text}`,
          text: q.voted ? "Upvoted" : "▲ Upvote",
          onclick: async () => {
            try {
              await this.socket.request("qa.vote", { question: q.id });
              this.questions.get(q.id).voted = true; // the broadcast may have replaced q already
              this.renderQuestions();
            } catch (e) {
              this.say(e.message);
            }
          },
        }),
      );
    }
    if (mine) {
      actions.append(
        el("button", {
          type: "button",
          class: "btn btn-small",
          text: "Withdraw",
          onclick: () => this.socket.request("qa.withdraw", { question: q.id }).catch((e) => this.say(e.message)),
        }),
      );
    }
    if (this.moderates) {
      const ops = q.status === "pending" ? ["approve", "reject"] : [q.pinned ? "unpin" : "pin", "answered", "reject"];
      for (const op of ops) {
        actions.append(
          el("button", {
            type: "button",
            class: "btn btn-small",
            text: op === "reject" ? "Reject…" : op[0].toUpperCase() + op.slice(1),
            onclick: () =>
              op === "reject"
                ? this.askReject(q)
                : this.socket.request("qa.moderate", { question: q.id, op }).catch((e) => this.say(e.message)),
          }),
        );
      }
    }
    item.append(actions);
    return item;
  }

  renderPolls() {
    this.pollBox.replaceChildren(
      ...[...this.polls.values()].map((poll) => {
        const box = el("fieldset", { class: `poll is-${poll.status}` }, el("legend", { text: poll.question }));
        for (const option of poll.options || []) {
          const label = option.votes === undefined ? option.text : `${option.text} — ${option.votes}`;
          box.append(
            el("button", {
              type: "button",
              class: "btn btn-small poll-option",
              text: label,
              disabled: poll.status !== "open" || poll.my_vote != null || undefined,
              "aria-pressed": poll.my_vote === option.id ? "true" : "false",
              onclick: async () => {
                try {
                  await this.socket.request("poll.vote", { poll: poll.id, option: option.id });
                  this.polls.get(poll.id).my_vote = option.id;
                  this.renderPolls();
                } catch (e) {
                  this.say(e.message);
                }
              },
            }),
          );
        }
        if (this.moderates && poll.status === "open") {
          box.append(
            el("button", {
              type: "button",
              class: "link-button",
              text: poll.results_visible ? "Hide results" : "Show results",
              onclick: () =>
                this.socket
                  .request("poll.show_results", { poll: poll.id, visible: !poll.results_visible })
                  .catch((e) => this.say(e.message)),
            }),
            el("button", {
              type: "button",
              class: "link-button",
              text: "Close poll",
              onclick: () => this.socket.request("poll.close", { poll: poll.id }).catch((e) => this.say(e.message)),
            }),
          );
        }
        return box;
      }),
    );
  }

  addChat(message) {
    const time = new Date(message.created_at).toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone: this.manifest.event?.timezone || undefined,
    });
    if (this.chatLog.querySelector(`[data-message="${Number(message.id)}"]`)) return;
    const item = el(
      "li",
      { "data-message": String(message.id) },
      el("span", { class: "chat-author", text: message.author }),
      el("span", { class: "chat-time", text: ` ${time}` }),
      el("p", { class: "chat-text", text: message.text }),
    );
    if (this.isModerator) item.append(this.hideButton(message));
    this.chatLog.append(item);
    while (this.chatLog.children.length > 200) this.chatLog.firstElementChild.remove();
    this.chatLog.lastElementChild.scrollIntoView?.({ block: "nearest" });
  }

  async ask(event, field) {
    event.preventDefault();
    const text = field.value.trim();
    if (!text) return;
    const key = uuid();
    try {
      const reply = await this.socket.request("qa.ask", { text, key });
      this.questions.set(reply.question.id, reply.question);
      this.mine.set(reply.question.id, { ...reply.question, reason: "" });
      this.renderQuestions();
      this.renderMine();
      field.value = "";
      this.say(
        reply.question.status === "pending"
          ? "Thank you — your question waits for the moderator."
          : "Your question was posted.",
      );
    } catch (error) {
      this.say(error.message);
    }
  }

  async chat(event, field) {
    event.preventDefault();
    const text = field.value.trim();
    if (!text) return;
    try {
      const reply = await this.socket.request("chat.send", { text, key: uuid() });
      field.value = "";
      this.chatNotice.hidden = reply.message.held_for === undefined;
      this.chatNotice.textContent = this.chatNotice.hidden
        ? ""
        : "Your message waits for a moderator's review before anyone else sees it.";
    } catch (error) {
      this.say(error.message);
    }
  }

  /** A modal dialog (native <dialog>): `fields` are [label, control] pairs; resolves with
   * true when confirmed. Everything user-written is inserted as text. */
  openDialog({ title, intro = [], fields = [], confirm, danger = false, onConfirm }) {
    const error = el("p", { class: "live-dialog-error", role: "alert" });
    const form = el("form", { method: "dialog", class: "live-form" });
    form.append(el("h2", { id: "live-dialog-title", text: title }), ...intro);
    for (const [label, control] of fields) {
      form.append(el("label", { for: control.id, text: label }), control);
    }
    const confirmButton = el("button", {
      type: "submit",
      class: `btn ${danger ? "btn-danger" : "btn-primary"}`,
      text: confirm,
    });
    const cancel = el("button", { type: "button", class: "btn", text: "Cancel", onclick: () => this.dialog.close() });
    form.append(error, el("div", { class: "live-dialog-actions" }, confirmButton, cancel));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      confirmButton.disabled = true;
      try {
        await onConfirm();
        this.dialog.close();
      } catch (e) {
        error.textContent = e.message;
      } finally {
        confirmButton.disabled = false;
      }
    });
    this.dialog.replaceChildren(form);
    this.dialog.showModal();
    (fields[0]?.[1] || cancel).focus();
  }

  askRemoval(person) {
    const minutes = el("select", { id: "removal-minutes" });
    for (const [value, label] of [
      [5, "5 minutes"],
      [15, "15 minutes"],
      [30, "30 minutes"],
      [60, "1 hour"],
      [120, "2 hours"],
      [1440, "24 hours"],
    ]) {
      minutes.append(el("option", { value: String(value), text: label, selected: value === 15 || undefined }));
    }
    const reason = el("textarea", {
      id: "removal-reason",
      rows: "2",
      maxlength: String(LIMITS.reason),
      required: true,
      placeholder: "Shown to the person and kept in the audit",
    });
    const effect = el("p", {
      class: "live-effect",
      id: "removal-effect",
      "aria-live": "polite",
      text: "Checking the CME effect…",
    });
    const preview = () =>
      this.socket
        .request("hall.removal_preview", { user: person.id, minutes: Number(minutes.value) })
        .then((reply) => {
          effect.textContent = reply.effect;
        })
        .catch((e) => {
          effect.textContent = e.message;
        });
    minutes.addEventListener("change", preview);
    preview();
    this.openDialog({
      title: `Remove ${person.name} from this hall?`,
      intro: [
        el("p", {
          text: "They leave the hall at once and cannot come back until the time is up (you can lift the removal earlier). They see your reason and the time.",
        }),
        effect,
      ],
      fields: [
        ["For how long", minutes],
        ["Reason (required)", reason],
      ],
      confirm: "Remove from hall",
      danger: true,
      onConfirm: async () => {
        const reply = await this.socket.request("hall.remove", {
          user: person.id,
          minutes: Number(minutes.value),
          reason: reason.value.trim(),
        });
        this.removals.set(reply.removal.id, reply.removal);
        this.renderRemovals();
        this.say(`${person.name} was removed until ${this.clock(reply.until)}.`);
      },
    });
  }

  askLift(removal) {
    const reason = el("input", {
      id: "lift-reason",
      maxlength: String(LIMITS.reason),
      autocomplete: "off",
      placeholder: "Optional, kept in the audit",
    });
    this.openDialog({
      title: `Lift the removal of ${removal.name}?`,
      intro: [el("p", { text: "They may enter this hall again at once." })],
      fields: [["Why", reason]],
      confirm: "Lift removal",
      onConfirm: async () => {
        const reply = await this.socket.request("hall.lift", { removal: removal.id, reason: reason.value.trim() });
        this.removals.set(reply.removal.id, reply.removal);
        this.renderRemovals();
      },
    });
  }

  askReject(q) {
    const reason = el("input", {
      id: "reject-reason",
      maxlength: String(LIMITS.reason),
      autocomplete: "off",
      placeholder: "Optional: shown to the asker",
    });
    this.openDialog({
      title: "Reject this question?",
      intro: [el("blockquote", { class: "live-quote", text: q.text })],
      fields: [["Reason for the asker", reason]],
      confirm: "Reject",
      danger: true,
      onConfirm: () =>
        this.socket.request("qa.moderate", { question: q.id, op: "reject", reason: reason.value.trim() }),
    });
  }

  hideButton(message) {
    return el("button", {
      type: "button",
      class: "link-button chat-hide",
      text: "Hide…",
      "aria-label": `Hide the message of ${message.author}…`,
      onclick: () => {
        const reason = el("input", {
          id: "hide-reason",
          maxlength: String(LIMITS.reason),
          autocomplete: "off",
          placeholder: "Optional: shown to the author",
        });
        this.openDialog({
          title: `Hide this message of ${message.author}?`,
          intro: [
            el("blockquote", { class: "live-quote", text: message.text }),
            el("p", { text: "It disappears for everyone at once; it is kept for the audit and its author is told." }),
          ],
          fields: [["Reason for the author", reason]],
          confirm: "Hide message",
          danger: true,
          onConfirm: () => this.socket.request("chat.hide", { message: message.id, reason: reason.value.trim() }),
        });
      },
    });
  }

  clock(iso) {
    return new Date(iso).toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone: this.manifest.event?.timezone || undefined,
    });
  }

  /** A removal ends the socket (4010): say why and until when, hide what cannot be used. */
  showRemoved(error) {
    clearTimeout(this.removedTimer);
    const removed = Boolean(error);
    this.removedBox.hidden = !removed;
    for (const part of [this.askForm, this.chatForm, this.reactions, this.burst, this.pollForm, this.pollBox]) {
      if (removed) part.hidden = true;
    }
    if (!removed) {
      this.pollBox.hidden = false;
      this.chatForm.hidden = false;
      return;
    }
    const until = error.until ? new Date(error.until) : null;
    const left = until ? Math.max(1, Math.ceil((until - Date.now()) / 60000)) : null;
    this.say("You are not connected to this hall.");
    this.removedBox.replaceChildren(
      el("h3", { text: "A moderator removed you from this hall" }),
      el("p", {
        text: until
          ? `You may come back at ${this.clock(error.until)} (in ${left} min).`
          : "You cannot come back for now.",
      }),
      error.reason ? el("p", {}, el("strong", { text: "Reason: " }), document.createTextNode(error.reason)) : null,
      el("p", {
        class: "live-note",
        text: "While you are removed, no CME attendance is recorded for you in this hall; time you attended before still counts.",
      }),
      el("button", { type: "button", class: "btn", text: "Try again", onclick: () => this.socket.open() }),
    );
    if (until)
      this.removedTimer = setTimeout(() => this.socket.open(), Math.min(until - Date.now() + 1000, 2 ** 31 - 1));
  }

  renderMine() {
    const label = {
      pending: "Waiting for the moderator",
      approved: "Visible to everyone",
      answered: "Answered",
      rejected: "Not accepted by the moderator",
    };
    const mine = [...this.mine.values()]
      .filter((q) => q.status in label)
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
    this.mineList.replaceChildren(
      ...mine.map((q) =>
        el(
          "li",
          { class: `mine is-${q.status}` },
          el("p", { class: "question-text", text: q.text }),
          el(
            "p",
            { class: "question-meta" },
            el("span", { class: `badge badge-${q.status}`, text: label[q.status] }),
            q.status === "approved" || q.status === "answered"
              ? document.createTextNode(` · ${q.votes} ${q.votes === 1 ? "vote" : "votes"}`)
              : null,
          ),
          q.status === "rejected" && q.reason ? el("p", { class: "mine-reason", text: `Reason: ${q.reason}` }) : null,
        ),
      ),
    );
    if (!mine.length)
      this.mineList.replaceChildren(
        el("li", { class: "live-note", text: "Questions you ask appear here with their status." }),
      );
  }

  renderRemovals() {
    const state = { active: "until", lifted: "lifted", ended: "ended" };
    const removals = [...this.removals.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
    this.removalsEmpty.hidden = removals.length > 0;
    this.removalsList.replaceChildren(
      ...removals.map((r) => {
        const when =
          r.state === "active"
            ? `until ${this.clock(r.until)}`
            : r.state === "lifted"
              ? `lifted${r.lifted_by ? ` by ${r.lifted_by}` : ""}`
              : "ended";
        const item = el(
          "li",
          { class: `removal is-${r.state}` },
          el(
            "p",
            {},
            el("strong", { text: r.name }),
            document.createTextNode(` · ${when} (${state[r.state] === "until" ? "active" : r.state})`),
          ),
          el("p", {
            class: "question-meta",
            text: `${r.reason ? `Reason: ${r.reason}` : "No reason given"}${r.removed_by ? ` · by ${r.removed_by}` : ""}`,
          }),
        );
        if (r.state === "active") {
          item.append(
            el("button", {
              type: "button",
              class: "btn btn-small",
              text: "Lift…",
              "aria-label": `Lift the removal of ${r.name}…`,
              onclick: () => this.askLift(r),
            }),
          );
        }
        return item;
      }),
    );
  }

  renderHeld() {
    const held = [...this.held.values()];
    this.heldBox.hidden = !this.isModerator || held.length === 0;
    this.heldList.replaceChildren(
      ...held.map((m) =>
        el(
          "li",
          { class: "held" },
          el("span", { class: "chat-author", text: m.author }),
          el("p", { class: "chat-text", text: m.text }),
          el("p", { class: "question-meta", text: `Contains “${m.held_for}”` }),
          el(
            "div",
            { class: "question-actions" },
            el("button", {
              type: "button",
              class: "btn btn-small",
              text: "Show to everyone",
              onclick: () => this.socket.request("chat.release", { message: m.id }).catch((e) => this.say(e.message)),
            }),
            this.hideButton(m),
          ),
        ),
      ),
    );
  }

  async confirmCheck() {
    this.checkDialog.hidden = true;
    try {
      await this.socket.request("attendance.confirm", { check: this.check });
      this.say("Thank you — attendance confirmed.");
    } catch (error) {
      this.say(error.message);
    }
  }
}

/** The pushes of docs/protocol.md the panel handles, by `event` (feed items arrive in `seq`
 * order, once each; `feed.skip` never reaches here). Others are ignored. */
export const PUSH_HANDLERS = Object.freeze({
  "stage.update": (panels, data) => panels.showStage(data),
  "stage.caption": (panels, data) => panels.showCaption(data),
  "presence.snapshot": (panels, data) => panels.onSnapshot(data),
  "presence.delta": (panels, data) => panels.onDelta(data),
  "qa.question": (panels, data) => panels.onQuestion(data),
  "qa.updated": (panels, data) => panels.onQuestion(data),
  "qa.mine": (panels, data) => panels.onMine(data),
  "chat.message": (panels, data) => panels.onChat(data),
  "chat.hidden": (panels, data) => panels.onChatHidden(data),
  "chat.yours_hidden": (panels, data) => panels.onYoursHidden(data),
  "hall.removal": (panels, data) => panels.onRemoval(data),
  "poll.opened": (panels, data) => panels.onPoll(data),
  "poll.closed": (panels, data) => panels.onPoll(data),
  "poll.results": (panels, data) => panels.onPoll(data),
  "reaction.burst": (panels, data) => panels.onReactions(data),
  "attendance.check": (panels, data) => panels.onCheck(data),
  "attendance.check_missed": (panels) => panels.onCheckMissed(),
});

export function startLive(root, manifest) {
  const hall = manifest.halls.find((h) => h.slug === root.dataset.hall);
  if (!hall || !document.getElementById("panel-qa")) return null;
  const panels = new LivePanels(root, hall, manifest);
  panels.connect();
  window.medvenue = window.medvenue || {};
  window.medvenue.live = panels;
  return panels;
}
