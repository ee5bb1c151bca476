"""Parsing client frames and encoding server frames (JSON text, UTF-8)."""

import json
from dataclasses import dataclass
from typing import Any

from conference.live.errors import LiveError

MAX_FRAME_BYTES = 8 * 1024
MAX_REQUEST_ID_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    action: str
    data: dict[str, Any]


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _readable_id(payload: Any) -> str | int | float | None:
    """The frame's `id` as the client wrote it, if it is a string or a number: error replies
    carry it back even when the id itself is refused."""
    if not isinstance(payload, dict):
        return None
    found = payload.get("id")
    if isinstance(found, str) or (isinstance(found, int | float) and not isinstance(found, bool)):
        return found
    return None


def parse_request(text: str) -> Request:
    """Turn one client frame into a Request, or raise LiveError (`bad_frame`,
    `frame_too_large`) whose `request_id` is the frame's id when it could be read."""
    too_large = len(text.encode("utf-8")) > MAX_FRAME_BYTES
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if too_large:
        error = LiveError("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
        error.request_id = _readable_id(payload)
        raise error
    if payload is None:
        raise LiveError("bad_frame", "The frame is not valid JSON.")
    if not isinstance(payload, dict):
        raise LiveError("bad_frame", "A frame must be a JSON object.")
    request_id = payload.get("id")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_REQUEST_ID_LENGTH:
        error = LiveError("bad_frame", "Every request needs an `id` string of 1 to 64 characters.")
        error.request_id = _readable_id(payload)
        raise error
    action = payload.get("action")
    data = payload.get("data", {})
    if not isinstance(action, str) or not action:
        error = LiveError("bad_frame", "Every request needs an `action` string.")
    elif not isinstance(data, dict):
        error = LiveError("bad_frame", "`data` must be a JSON object.")
    else:
        return Request(id=request_id, action=action, data=data)
    error.request_id = request_id
    raise error


def reply_ok(request_id: str, data: dict[str, Any] | None = None) -> str:
    return encode({"id": request_id, "ok": True, "data": data or {}})


def reply_error(request_id: str | int | float | None, error: LiveError) -> str:
    return encode({"id": request_id, "ok": False, "error": error.as_dict()})


def push(event: str, data: dict[str, Any], *, seq: int | None = None) -> str:
    frame: dict[str, Any] = {"event": event, "data": data}
    if seq is not None:
        frame["seq"] = seq
    return encode(frame)


# --- Validation helpers for handler input ---------------------------------------------------


def require_text(data: dict[str, Any], field: str, *, max_length: int, label: str = "") -> str:
    """The trimmed text of `field`; refusals are worded for the person who typed it (`label`
    names the text, e.g. "Your question"), as the panel shows them as they are."""
    label = label or f"The field “{field}”"
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise LiveError("invalid", f"{label} is empty; write something first.")
    value = value.strip()
    if len(value) > max_length:
        raise LiveError(
            "invalid",
            f"{label} is too long: at most {max_length} characters ({len(value)} written).",
        )
    return value


def require_int(data: dict[str, Any], field: str, *, minimum: int = 0) -> int:
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise LiveError("invalid", f"`{field}` must be an integer ≥ {minimum}.")
    return value


def optional_key(data: dict[str, Any]) -> str:
    """The client's idempotency key (`key`), empty when absent."""
    key = data.get("key", "")
    if not isinstance(key, str) or len(key) > 64:
        raise LiveError("invalid", "`key` must be a string of at most 64 characters.")
    return key


def optional_reason(data: dict[str, Any], *, max_length: int = 300) -> str:
    """A moderator's optional `reason` (at most 300 characters after trimming), empty when
    absent."""
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason.strip()) > max_length:
        raise LiveError("invalid", f"The reason is too long: at most {max_length} characters.")
    return reason.strip()
