"""Positions of avatars, occupancy counts, attendance heartbeats and moderator removal."""

import math
import time
from typing import Any

from conference.live.actions.moderation import require_minutes
from conference.live.attendance import AttendanceTracker
from conference.live.control import aremove_from_hall
from conference.live.db import db
from conference.live.errors import LiveError
from conference.live.frames import optional_reason, require_int
from conference.live.presence import cap_speed, clamp_position, get_presence
from conference.live.registry import Socket, action
from conference.services import live
from conference.services.media.stage import cut_user_media


def _number(data: dict[str, Any], field: str) -> float:
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LiveError("invalid", f"`{field}` must be a finite number.")
    return float(value)


def _attendance(consumer: Socket) -> AttendanceTracker:
    """The socket's attendance tracker: set by its join, dropped when it closes (no request is
    handled before or after)."""
    if consumer.attendance is None:
        raise RuntimeError("the socket has no attendance tracker")
    return consumer.attendance


@action("presence.move", bucket="presence")
async def move(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    access = consumer.joined_access
    x, z = clamp_position(
        _number(data, "x"), _number(data, "z"), width=access.hall_width, depth=access.hall_depth
    )
    yaw = _number(data, "yaw") % 360 if "yaw" in data else consumer.person["yaw"]
    now = time.monotonic()
    old = (consumer.person["x"], consumer.person["z"])
    x, z = cap_speed(old, (x, z), now - consumer.moved_at)
    refusing = live.zone_refusing(access, x, z)
    if refusing is not None:
        allowed = ", ".join(sorted(refusing.roles))
        raise LiveError("restricted_zone", f"Only {allowed} may enter {refusing.label}.")
    consumer.moved_at = now
    consumer.person = {**consumer.person, "x": round(x, 2), "z": round(z, 2), "yaw": round(yaw, 1)}
    _store, ticker = get_presence()
    ticker.note_move(access.hall_id, consumer.person)
    return {"x": consumer.person["x"], "z": consumer.person["z"], "yaw": consumer.person["yaw"]}


@action("presence.snapshot")
async def snapshot(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    store, _ticker = get_presence()
    return {"people": await store.snapshot(consumer.joined_access.hall_id)}


@action("presence.counts")
async def counts(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    store, _ticker = get_presence()
    found = await store.counts(list(consumer.joined_access.venue_hall_ids))
    return {"halls": {str(hall_id): n for hall_id, n in found.items()}}


@action("attendance.heartbeat")
async def heartbeat(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    return await _attendance(consumer).heartbeat()


@action("attendance.confirm")
async def confirm(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    check = data.get("check")
    if not isinstance(check, str) or not check:
        raise LiveError("invalid", "`check` must be the id of the attention check.")
    if not await _attendance(consumer).confirm(check):
        raise LiveError("expired", "This attention check is not open (it expired or was answered).")
    return {"passed": True}


@action("hall.remove", moderator_only=True, bucket="write")
async def remove(consumer: Socket, data: dict[str, Any]) -> dict[str, Any]:
    minutes = require_minutes(data)
    reason = optional_reason(data)
    user_id = require_int(data, "user", minimum=1)
    access = consumer.joined_access
    removal = await db(live.remove_from_hall)(
        access, user_id=user_id, minutes=minutes, reason=reason
    )
    published = await consumer.broadcast_item(removal.item)
    await aremove_from_hall(
        user_id, access.hall_id, until=removal.until.isoformat(), reason=removal.reason
    )
    # Their live media (the stage they watch, the studio) ends too, within the admin API's time.
    await db(cut_user_media)(user_id)
    return {
        "user": user_id,
        "until": removal.until.isoformat(),
        "seq": removal.item.seq,
        "removal": removal.item.data,
        **published,
    }
