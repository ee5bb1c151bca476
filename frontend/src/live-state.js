// The live panel's state changes, apart from the DOM (docs/protocol.md): who is in the hall,
// the session's questions and polls. Each function changes the Maps it is given and returns what
// the panel must redraw; frontend/test/live-state.test.js runs them under node.

/** `presence.snapshot`: everyone in the hall now. Returns the people to place. */
export function applySnapshot(people, data) {
  people.clear();
  for (const person of data.people) people.set(person.id, person);
  return [...data.people];
}

/** `presence.delta`: `joined` people, `moved` rows `[id, x, z, yaw]` (of people already known;
 * others are ignored), `left` ids, applied in that order. Returns `{ place, remove,
 * rosterChanged }`: the people whose avatar appears or moves, the ids whose avatar goes, and
 * whether the list of names changed (moves alone do not change it). */
export function applyPresenceDelta(people, data) {
  const joined = data.joined || [];
  const moved = data.moved || [];
  const left = data.left || [];
  for (const person of joined) people.set(person.id, person);
  const place = [...joined];
  for (const [id, x, z, yaw] of moved) {
    const person = people.get(id);
    if (!person) continue;
    Object.assign(person, { x, z, yaw });
    place.push(person);
  }
  for (const id of left) people.delete(id);
  return {
    place: place.filter((person) => people.has(person.id)),
    remove: [...left],
    rosterChanged: joined.length > 0 || left.length > 0,
  };
}

/** `qa.question` / `qa.updated`: merge by `id` (an unknown id is added: an approved question
 * reaches attendees as `qa.updated`); a rejection or withdrawal carries only `{id, session,
 * status}` and keeps the rest. `voted` (this user's upvote, known only here) survives. The
 * question in "My questions" (`mine`) is updated too. Returns whether `mine` changed. */
export function applyQuestion(questions, mine, data) {
  const old = questions.get(data.id) || {};
  questions.set(data.id, { ...old, ...data, voted: old.voted || false });
  if (!mine.has(data.id)) return false;
  mine.set(data.id, { ...mine.get(data.id), ...data });
  return true;
}

/** `poll.opened` / `poll.closed` / `poll.results`: merge by `id`, keeping this user's vote. */
export function applyPoll(polls, data) {
  const old = polls.get(data.id) || {};
  polls.set(data.id, { ...old, ...data, my_vote: old.my_vote ?? null });
}

/** The questions the panel lists: approved and answered ones, pinned first, then by votes,
 * then oldest first; and those awaiting moderation. */
export function sortQuestions(questions) {
  const all = [...questions.values()];
  const visible = all
    .filter((q) => q.status === "approved" || q.status === "answered")
    .sort((a, b) => b.pinned - a.pinned || b.votes - a.votes || a.created_at.localeCompare(b.created_at));
  return { visible, pending: all.filter((q) => q.status === "pending") };
}
