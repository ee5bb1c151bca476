// The presenter view: questions of the hall's session on a big screen, sorted by votes.
import { HallSocket, hallSocketUrl } from "./hall-socket.js";

const root = document.getElementById("presenter");
const list = document.getElementById("presenter-questions");
const empty = document.getElementById("presenter-empty");
const status = document.getElementById("presenter-session");
const questions = new Map();

function render() {
  const visible = [...questions.values()]
    .filter((q) => q.status === "approved")
    .sort((a, b) => b.pinned - a.pinned || b.votes - a.votes || a.created_at.localeCompare(b.created_at));
  list.replaceChildren(
    ...visible.map((q) => {
      const item = document.createElement("li");
      item.className = q.pinned ? "is-pinned" : "";
      const votes = document.createElement("span");
      votes.className = "presenter-votes";
      votes.textContent = String(q.votes);
      const text = document.createElement("p");
      text.className = "presenter-text";
      text.textContent = q.text;
      const author = document.createElement("p");
      author.className = "presenter-author";
      author.textContent = q.author;
      item.append(votes, text, author);
      return item;
    }),
  );
  empty.hidden = visible.length > 0;
}

let loaded = false;
const socket = new HallSocket(hallSocketUrl(location, root.dataset.hallId), {
  hello: async (data) => {
    status.textContent = data.session ? data.session.title : "No session is on in this hall right now.";
    if (loaded) return; // later changes arrive as pushes (and a resume after a reconnect)
    try {
      const reply = await socket.request("qa.list");
      reply.questions.forEach((q) => {
        questions.set(q.id, q);
      });
      loaded = true;
      render();
    } catch {
      // The socket closed meanwhile: the next hello loads the list.
    }
  },
  push: ({ event, data }) => {
    if (event === "qa.question" || event === "qa.updated") {
      questions.set(data.id, { ...(questions.get(data.id) || {}), ...data });
      render();
    }
  },
  refused: (error) => {
    status.textContent = error.message;
  },
  closed: (_code, final) => {
    if (final) status.textContent = "Disconnected.";
  },
});
socket.open();
