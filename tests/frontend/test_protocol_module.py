"""frontend/src/protocol.js is generated from the server's constants (scripts/frontend_protocol.py):
the committed module must be exactly what the script writes now."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location(
        "frontend_protocol", ROOT / "scripts" / "frontend_protocol.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_browser_protocol_module_is_generated_from_the_server_constants():
    script = _script()
    committed = script.TARGET.read_text(encoding="utf-8")
    assert committed == script.render(), (
        "frontend/src/protocol.js is out of date: run .venv/bin/python scripts/frontend_protocol.py"
    )


def test_the_module_carries_the_values_the_server_checks_against():
    from conference.live import errors, frames
    from conference.services import live

    text = _script().render()
    assert f"REMOVED: {errors.CLOSE_REMOVED}," in text
    assert f"export const MAX_FRAME_BYTES = {frames.MAX_FRAME_BYTES};" in text
    assert f"  question: {live.QUESTION_MAX_LENGTH}," in text
    final = text.split("FINAL_CLOSE_CODES = Object.freeze([")[1].split("]);")[0]
    assert "CLOSE.ABUSE" not in final and "CLOSE.UNAVAILABLE" not in final
    assert "CLOSE.REVOKED" in final
