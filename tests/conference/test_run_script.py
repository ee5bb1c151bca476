"""scripts/run.py, the supervisor behind `make run`: processes start and stop together."""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "scripts" / "run.py"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _child_pids(output: str) -> list[int]:
    return [int(line.split()[-1]) for line in output.splitlines() if line.startswith("pid ")]


def _python(code: str) -> str:
    return f"{sys.executable} -c {shlex.quote(code)}"


def test_run_one_process_exits_stops_the_other_with_its_code(tmp_path):
    marker = tmp_path / "stopped"
    sleeper = _python(
        "import signal, sys, time, pathlib; "
        f"signal.signal(signal.SIGTERM, lambda *a: (pathlib.Path({str(marker)!r}).touch(), "
        "sys.exit(0))); time.sleep(60)"
    )
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            str(RUN),
            f"sleeper={sleeper}",
            f"crasher={_python('import time; time.sleep(1); exit(3)')}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 3
    assert "[run] crasher exited with code 3; stopping the others" in result.stdout
    assert marker.exists(), "the other process did not get SIGTERM"
    assert time.monotonic() - started < 15


def test_run_sigterm_stops_every_process(tmp_path):
    # one write() per line: print() writes its pieces separately, and the two children's
    # lines interleaved on a busy machine ("pidpid 19075", " 19076")
    printer = _python(
        "import os, time; os.write(1, f'pid {os.getpid()}\\n'.encode()); time.sleep(60)"
    )
    runner = subprocess.Popen(
        [sys.executable, str(RUN), f"a={printer}", f"b={printer}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while len(_child_pids("".join(lines))) < 2 and time.monotonic() < deadline:
        line = runner.stdout.readline()
        if not line:  # the runner ended: nothing more will come
            break
        lines.append(line)
    pids = _child_pids("".join(lines))
    assert len(pids) == 2, (lines, runner.poll())
    assert all(_alive(pid) for pid in pids)

    runner.send_signal(signal.SIGTERM)
    output = runner.communicate(timeout=30)[0]

    assert runner.returncode == 0
    assert "[run] SIGTERM received" in output
    assert "[run] all stopped" in output
    assert [_alive(pid) for pid in pids] == [False, False]


def test_run_bad_spec_is_refused():
    result = subprocess.run(
        [sys.executable, str(RUN), "no-equals-sign"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 2
    assert "expected NAME=COMMAND" in result.stderr
