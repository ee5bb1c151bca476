// The live panel's delta handling (docs/protocol.md): presence snapshots and deltas, question
// and poll updates by id, and the push handler map.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PUSH_HANDLERS } from "../src/live.js";
import { applyPoll, applyPresenceDelta, applyQuestion, applySnapshot, sortQuestions } from "../src/live-state.js";

const person = (id, x = 0, z = 10) => ({ id, name: `P${id}`, degree: "MD", x, z, yaw: 0 });

describe("presence", () => {
  test("a snapshot replaces everyone", () => {
    const people = new Map([[9, person(9)]]);
    const place = applySnapshot(people, { people: [person(1), person(2)] });
    assert.deepEqual([...people.keys()], [1, 2]);
    assert.deepEqual(
      place.map((p) => p.id),
      [1, 2],
    );
  });

  test("a delta adds the joined, moves the known, removes the left", () => {
    const people = new Map([
      [1, person(1)],
      [2, person(2)],
    ]);
    const change = applyPresenceDelta(people, {
      joined: [person(3, 0, 12)],
      moved: [
        [1, 1.5, 8, 90],
        [77, 0, 0, 0], // unknown: a move that overtook its arrival, ignored
      ],
      left: [2],
    });
    assert.deepEqual([...people.keys()].sort(), [1, 3]);
    assert.deepEqual(people.get(1), { ...person(1), x: 1.5, z: 8, yaw: 90 });
    assert.deepEqual(
      change.place.map((p) => p.id),
      [3, 1],
    );
    assert.deepEqual(change.remove, [2]);
    assert.equal(change.rosterChanged, true);
  });

  test("moves alone do not redraw the list of people", () => {
    const people = new Map([[1, person(1)]]);
    const change = applyPresenceDelta(people, { joined: [], moved: [[1, 2, 3, 45]], left: [] });
    assert.equal(change.rosterChanged, false);
    assert.deepEqual(change.place, [{ ...person(1), x: 2, z: 3, yaw: 45 }]);
  });

  test("someone who joined and left within one delta is not placed", () => {
    const people = new Map();
    const change = applyPresenceDelta(people, { joined: [person(4)], moved: [[4, 1, 1, 0]], left: [4] });
    assert.equal(people.size, 0);
    assert.deepEqual(change.place, []);
    assert.deepEqual(change.remove, [4]);
  });
});

describe("questions", () => {
  const question = (id, extra = {}) => ({
    id,
    session: 12,
    text: `Q${id}`,
    author: "Dr. A",
    author_id: 7,
    status: "approved",
    votes: 0,
    pinned: false,
    created_at: `2026-11-24T15:0${id}:00+00:00`,
    ...extra,
  });

  test("an unknown id is added (an approved question reaches attendees as qa.updated)", () => {
    const questions = new Map();
    assert.equal(applyQuestion(questions, new Map(), question(1)), false);
    assert.equal(questions.get(1).text, "Q1");
    assert.equal(questions.get(1).voted, false);
  });

  test("an update merges by id and keeps this user's upvote", () => {
    const questions = new Map([[1, { ...question(1), voted: true }]]);
    applyQuestion(questions, new Map(), { ...question(1), votes: 5, pinned: true });
    assert.deepEqual(questions.get(1), { ...question(1), votes: 5, pinned: true, voted: true });
  });

  test("a rejection carries only id, session and status: the rest is kept, the list drops it", () => {
    const questions = new Map([
      [1, { ...question(1), voted: false }],
      [2, { ...question(2), voted: false }],
    ]);
    applyQuestion(questions, new Map(), { id: 1, session: 12, status: "rejected" });
    assert.equal(questions.get(1).text, "Q1");
    assert.deepEqual(
      sortQuestions(questions).visible.map((q) => q.id),
      [2],
    );
  });

  test("my question follows its updates", () => {
    const mine = new Map([[3, { ...question(3, { status: "pending" }), reason: "" }]]);
    const questions = new Map();
    assert.equal(applyQuestion(questions, mine, question(3, { votes: 2 })), true);
    assert.equal(mine.get(3).status, "approved");
    assert.equal(mine.get(3).votes, 2);
    assert.equal(mine.get(3).reason, "", "what only My questions knows is kept");
  });

  test("pinned first, then by votes, then oldest first; pending apart", () => {
    const questions = new Map(
      [
        question(1, { votes: 1 }),
        question(2, { votes: 5 }),
        question(3, { votes: 1, pinned: true }),
        question(4, { votes: 1, status: "answered" }),
        question(5, { status: "pending" }),
      ].map((q) => [q.id, q]),
    );
    const { visible, pending } = sortQuestions(questions);
    assert.deepEqual(
      visible.map((q) => q.id),
      [3, 2, 1, 4],
    );
    assert.deepEqual(
      pending.map((q) => q.id),
      [5],
    );
  });
});

describe("polls", () => {
  test("updates merge by id and keep this user's vote", () => {
    const polls = new Map([[1, { id: 1, question: "Q", status: "open", options: [{ id: 1, text: "A" }], my_vote: 1 }]]);
    applyPoll(polls, { id: 1, status: "closed", results_visible: true, options: [{ id: 1, text: "A", votes: 3 }] });
    assert.equal(polls.get(1).status, "closed");
    assert.equal(polls.get(1).my_vote, 1);
    assert.equal(polls.get(1).options[0].votes, 3);
    applyPoll(polls, { id: 2, question: "New", status: "open", options: [] });
    assert.equal(polls.get(2).my_vote, null);
  });
});

describe("push handlers", () => {
  const DOCUMENTED = [
    "stage.update",
    "stage.caption",
    "presence.snapshot",
    "presence.delta",
    "qa.question",
    "qa.updated",
    "qa.mine",
    "chat.message",
    "chat.hidden",
    "chat.yours_hidden",
    "hall.removal",
    "poll.opened",
    "poll.closed",
    "poll.results",
    "reaction.burst",
    "attendance.check",
    "attendance.check_missed",
  ];

  test("every push of docs/protocol.md the panel shows has a handler, and only those", () => {
    assert.deepEqual(Object.keys(PUSH_HANDLERS).sort(), [...DOCUMENTED].sort());
  });

  test("each handler calls the panel's method with the push's data", () => {
    const calls = [];
    const panels = new Proxy({}, { get: (_target, name) => (data) => calls.push([name, data]) });
    const expected = {
      "stage.update": "showStage",
      "stage.caption": "showCaption",
      "presence.snapshot": "onSnapshot",
      "presence.delta": "onDelta",
      "qa.question": "onQuestion",
      "qa.updated": "onQuestion",
      "qa.mine": "onMine",
      "chat.message": "onChat",
      "chat.hidden": "onChatHidden",
      "chat.yours_hidden": "onYoursHidden",
      "hall.removal": "onRemoval",
      "poll.opened": "onPoll",
      "poll.closed": "onPoll",
      "poll.results": "onPoll",
      "reaction.burst": "onReactions",
      "attendance.check": "onCheck",
      "attendance.check_missed": "onCheckMissed",
    };
    for (const [event, method] of Object.entries(expected)) {
      calls.length = 0;
      const data = { marker: event };
      PUSH_HANDLERS[event](panels, data);
      assert.equal(calls.length, 1, event);
      assert.equal(calls[0][0], method, event);
      if (method !== "onCheckMissed") assert.equal(calls[0][1], data, event);
    }
  });
});
