"""The explain tool: `manage.py cme_compute`, its JSON shapes and its errors."""

import copy
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from conference.credit import CreditInputError, explain_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "docs" / "cme-examples").glob("*.case.json"))


def run_command(*args: str) -> dict:
    out = io.StringIO()
    call_command("cme_compute", *args, stdout=out)
    return json.loads(out.getvalue())


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_examples_exist():
    assert [p.name for p in EXAMPLES] == [
        "ama-quarter-hours.case.json",
        "faculty-cancelled-breaks.case.json",
        "gap-closes-at-last-proof.case.json",
        "parallel-sessions.case.json",
    ]


def test_gap_example_by_hand():
    """Laptop 09:00-09:02 (gap to the leave at 09:20), phone joins 09:30 and leaves 91 s later
    (zero-length, gap), phone 09:40-09:55 (leave): 2 + 0 + 15 = 17 min -> 0.25."""
    out = run_command(str(ROOT / "docs" / "cme-examples" / "gap-closes-at-last-proof.case.json"))

    (session,) = out["sessions"]
    assert [
        (s["connection"], s["start"][11:19], s["end"][11:19], s["seconds"], s["closed_by"])
        for s in session["segments"]
    ] == [
        ("tab-1", "09:00:00", "09:02:00", 120, "heartbeat_gap"),
        ("phone", "09:30:00", "09:30:00", 0, "heartbeat_gap"),
        ("phone", "09:40:00", "09:55:00", 900, "leave"),
    ]
    assert session["segments"][1]["gap"] == {
        "last_proof": "2025-05-01T09:30:00Z",
        "next_event": "2025-05-01T09:31:31Z",
        "next_kind": "leave",
        "seconds": 91,
    }
    assert [(i["id"], i["reason"]) for i in out["attendance"]["ignored"]] == [
        ("e4", "leave_after_heartbeat_gap"),
        ("e6", "leave_after_heartbeat_gap"),
    ]
    assert out["total"]["credited_seconds"] == 17 * 60
    assert out["credit_types"][0]["credit"] == "0.25"


@pytest.mark.parametrize("case", EXAMPLES, ids=lambda p: p.name)
def test_cme_compute_example_matches_expected_output(case):
    expected = case.with_name(case.name.replace(".case.json", ".expected.json"))
    assert run_command(str(case)) == load(expected)


def test_docs_show_the_example_outputs_verbatim():
    """docs/cme.md embeds the first example; its blocks must equal the files."""
    text = (ROOT / "docs" / "cme.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```json\n")[1:]]
    case = ROOT / "docs" / "cme-examples" / "ama-quarter-hours.case.json"
    expected = case.with_name("ama-quarter-hours.expected.json")
    assert json.loads(blocks[0]) == load(case)
    assert json.loads(blocks[1]) == load(expected)


def test_cme_compute_reads_stdin(monkeypatch):
    case = EXAMPLES[0]
    monkeypatch.setattr(sys, "stdin", io.StringIO(case.read_text(encoding="utf-8")))
    expected = case.with_name(case.name.replace(".case.json", ".expected.json"))
    assert run_command("-") == load(expected)


def test_cme_compute_same_hash_for_reordered_duplicated_events():
    data = load(EXAMPLES[0])
    shuffled = copy.deepcopy(data)
    shuffled["attendance"] = list(reversed(data["attendance"])) + data["attendance"][:2]
    first, second = explain_text(json.dumps(data)), explain_text(json.dumps(shuffled))
    assert second["inputs_hash"] == first["inputs_hash"]
    assert second["credit_types"] == first["credit_types"]
    assert second["sessions"] == first["sessions"]


def _base() -> dict:
    return load(EXAMPLES[0])


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return data

    return change


BAD_CASES = [
    (_set(("learner",), KeyError), "learner: is required"),
    (
        _set(("learner", "degree"), "Dr"),
        "learner.degree: must be one of MD, DO, RN, NP, PA, PharmD, other (got 'Dr')",
    ),
    (
        _set(("learner", "faculty_of_sessions"), ["nope"]),
        "learner.faculty_of_sessions[0]: unknown session 'nope'",
    ),
    (_set(("credit_types",), []), "credit_types: must name at least one credit type"),
    (
        _set(("credit_types", 0, "code"), "AMA_PRA1"),
        "credit_types[0].code: unknown credit type 'AMA_PRA1'",
    ),
    (
        _set(("credit_types", 0, "increment"), "0"),
        "credit_types[0].increment: must be a finite number greater than 0",
    ),
    (
        _set(("credit_types", 0, "rounding"), "banker"),
        "credit_types[0].rounding: must be one of nearest, down, up (got 'banker')",
    ),
    (_set(("credit_types", 0, "incremnt"), "0.5"), "credit_types[0].incremnt: unknown field"),
    (_set(("activity", "designated_max"), {}), "activity.designated_max.AMA_PRA_1: is required"),
    (
        _set(("activity", "designated_max", "AMA_PRA_1"), "lots"),
        "activity.designated_max.AMA_PRA_1: must be a decimal number",
    ),
    (_set(("sessions", 0, "end"), "2025-05-01T08:00:00Z"), "sessions[0].end: must be after start"),
    (
        _set(("sessions", 0, "start"), "2025-05-01 9am"),
        "sessions[0].start: is not an ISO 8601 timestamp: '2025-05-01 9am'",
    ),
    (
        _set(("sessions", 0, "start"), "2025-05-01T09:00:00"),
        "sessions[0].start: needs a UTC offset",
    ),
    (
        _set(
            ("sessions", 0, "eligible_windows"), [["2025-05-01T08:00:00Z", "2025-05-01T09:30:00Z"]]
        ),
        "sessions[0].eligible_windows[0]: must lie within the session's start and end",
    ),
    (
        _set(("sessions", 0, "designated_minutes"), -5),
        "sessions[0].designated_minutes: must be at least 0",
    ),
    (_set(("sessions", 0, "cancelled"), "no"), "sessions[0].cancelled: must be true or false"),
    (
        _set(("attendance", 0, "server_time"), 1714554780),
        "attendance[0].server_time: must be a non-empty string",
    ),
    (
        _set(("attendance", 0, "kind"), "ping"),
        "attendance[0].kind: must be one of join, leave, heartbeat, attention_passed, attention_missed (got 'ping')",
    ),
    (_set(("attendance", 0, "session"), "s9"), "attendance[0].session: unknown session 's9'"),
    (_set(("attendance", 0, "connection"), KeyError), "attendance[0].connection: is required"),
    (_set(("attendance", 0, "id"), "e1"), "attendance: two different events share the id 'e1'"),
    (
        _set(("options", "heartbeat_tolerance_seconds"), True),
        "options.heartbeat_tolerance_seconds: must be a whole number",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD_CASES)
def test_explain_text_bad_input_names_the_field(change, message):
    with pytest.raises(CreditInputError) as info:
        explain_text(json.dumps(change(_base())))
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "invalid JSON at line 1 column 2: Expecting property name enclosed in double quotes"),
        ("[]", "must be a JSON object"),
        ('{"learner": NaN}', "invalid JSON: NaN is not a number"),
    ],
)
def test_explain_text_invalid_json(text, message):
    with pytest.raises(CreditInputError) as info:
        explain_text(text)
    assert str(info.value) == message


def test_cme_compute_bad_input_raises_command_error_with_code_2(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(_set(("sessions", 0, "end"), "2025-05-01T08:00:00Z")(_base())))
    with pytest.raises(CommandError) as info:
        call_command("cme_compute", str(path))
    assert (str(info.value), info.value.returncode) == (
        "invalid case: sessions[0].end: must be after start",
        2,
    )


def test_cme_compute_missing_file_exit_code_2(tmp_path):
    with pytest.raises(CommandError) as info:
        call_command("cme_compute", str(tmp_path / "absent.json"))
    assert info.value.returncode == 2
    assert str(info.value).startswith(f"cannot read {tmp_path / 'absent.json'}:")


def test_cme_compute_process_exits_2_without_traceback():
    completed = subprocess.run(
        [sys.executable, "manage.py", "cme_compute", "-"],
        input='{"learner": {"degree": "MD"}, "sessions": "x"}',
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "conference.settings_test", "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=60,
    )
    assert (completed.returncode, completed.stdout, completed.stderr) == (
        2,
        "",
        "CommandError: invalid case: sessions: must be a JSON array\n",
    )
