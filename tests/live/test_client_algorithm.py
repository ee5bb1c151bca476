"""The browser client's feed algorithm (frontend/src/live.js) run under node with a fake socket."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_hall_socket_applies_each_item_once_in_order_and_resumes_from_contiguous_seq():
    node = shutil.which("node")
    assert node, "node is needed to build the front end (and to run this check)"
    result = subprocess.run(
        [
            node,
            str(ROOT / "tests/live/js/hall_socket_check.mjs"),
            str(ROOT / "frontend/src/live.js"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr or result.stdout
    assert "client algorithm: ok" in result.stdout
