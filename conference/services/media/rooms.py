"""Meeting rooms on Janus: workshop and breakout rooms, meet-the-expert, poster and booth spots,
lounges (docs/rooms.md).

- A room is a `meeting_room` placement of a hall (kind and capacity in its props); its Janus
  VideoRoom (`ROOM_OFFSET + placement id`) is created by the server with an *allowed list*:
  Janus lets a publisher or subscriber join only with a token in that list.
- Joining runs the hall's access checks (registration, removal, role), the room's own (locked,
  removed by a host, the expert's queue) and the capacity, under a row lock, then puts a fresh
  random token for this user and this room in the room's allowed list. A token of one room is
  useless in another: Janus refuses it (tests/e2e/test_rooms.py).
- Presence is the server's rows (`RoomOccupant`, refreshed by the room page), never media: no
  feed of a room is forwarded anywhere and nothing is recorded.
- Hosts (the room's hosts, the hall's moderators and organizer staff) mute, remove and lock;
  removing someone takes their token off the allowed list, kicks them from the Janus room and
  ends their Janus sessions of that room through the admin API.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from conference.models import (
    Event,
    MeetingRoom,
    QueueStatus,
    RoomHostSlot,
    RoomMessage,
    RoomNote,
    RoomOccupant,
    RoomQueueEntry,
    RoomRemoval,
    RoomReport,
)
from conference.services import live
from conference.services.media.config import INSTALL_HINT, media_enabled, media_hosts
from conference.services.media.janus import VIDEOROOM, JanusAdmin, JanusHost, MediaUnavailable
from conference.services.media.stage import MediaRefused, end_sessions_of, ice_servers
from conference.services.media.tokens import make_opaque_id, mint_token
from conference.services.refusals import Refused
from venues.models import Hall, Placement, PlacementKind
from venues.validators import clean_placement_props

logger = logging.getLogger(__name__)

ROOM_OFFSET = 20_000_000
ROOM_FEED = 4  # publisher id of a user's camera in a room: user id × 10 + 4
MESSAGE_MAX = 500
NOTE_MAX = 4000
REASON_MAX = 2000
MAX_ADMIT = 4
AUDIO_MID = "0"  # the room page publishes audio first, then video


@dataclass(frozen=True, slots=True)
class Room:
    placement: Placement
    meeting: MeetingRoom
    kind: str
    capacity: int
    topic: str
    board: str
    slot_minutes: int

    @property
    def janus_id(self) -> int:
        return ROOM_OFFSET + self.placement.pk

    @property
    def label(self) -> str:
        return self.placement.label


@dataclass(frozen=True, slots=True)
class RoomAccess:
    user_id: int
    name: str
    is_host: bool
    event_id: int
    event_slug: str


# --- finding rooms ---------------------------------------------------------------------------
def _room(placement: Placement) -> Room:
    props = clean_placement_props(placement.kind, placement.props)
    meeting, _ = MeetingRoom.objects.get_or_create(placement=placement)
    return Room(
        placement=placement,
        meeting=meeting,
        kind=props["room"],
        capacity=props["capacity"],
        topic=props.get("topic", ""),
        board=props.get("board", ""),
        slot_minutes=props.get("slot_minutes", 0),
    )


def get_room(hall: Hall, placement_id: int) -> Room:
    placement = (
        Placement.objects.filter(hall=hall, kind=PlacementKind.MEETING_ROOM, pk=placement_id)
        .select_related("hall")
        .first()
    )
    if placement is None:
        raise MediaRefused("This hall has no such room.", code="not_found")
    try:
        return _room(placement)
    except Exception:
        raise MediaRefused("This room is not set up yet.", code="not_found") from None


def host_for_room(room: Room) -> JanusHost:
    """Rooms spread over the configured Janus hosts (placement id mod hosts)."""
    hosts = media_hosts()
    return hosts[room.placement.pk % len(hosts)]


def _admin(room: Room) -> JanusAdmin:
    return JanusAdmin(host_for_room(room))


# --- access ----------------------------------------------------------------------------------
def room_access(user: Any, room: Room, *, event_slug: str) -> RoomAccess:
    """The hall's rules first (registration, removal from the hall, role), then the room's."""
    if not user.is_authenticated:
        raise MediaRefused("Log in first.", code="unauthenticated")
    try:
        access = live.resolve_hall_access(user, room.placement.hall_id)
    except Refused as error:
        raise MediaRefused(error.message) from None
    if access.event_slug != event_slug:
        raise MediaRefused("This room is not part of your event.")
    is_host = access.is_moderator or room.meeting.hosts.filter(pk=user.pk).exists()
    return RoomAccess(
        user_id=user.pk,
        name=access.user_name,
        is_host=is_host,
        event_id=access.event_id,
        event_slug=access.event_slug,
    )


def _removal(room: Room, user_id: int) -> RoomRemoval | None:
    return (
        RoomRemoval.objects.filter(room=room.meeting, user_id=user_id, until__gt=timezone.now())
        .order_by("-until")
        .first()
    )


def _require_host(access: RoomAccess) -> None:
    if not access.is_host:
        raise MediaRefused("Only this room's hosts may do that.")


def _present(room: Room) -> QuerySet[RoomOccupant]:
    since = timezone.now() - timedelta(seconds=settings.ROOM_PRESENCE_SECONDS)
    return RoomOccupant.objects.filter(room=room.meeting, active=True, seen_at__gte=since)


# --- Janus -----------------------------------------------------------------------------------
def ensure_janus_room(room: Room, admin: JanusAdmin | None = None) -> int:
    """Create the room's VideoRoom with an (empty) allowed list if Janus does not have it."""
    admin = admin or _admin(room)
    exists = admin.plugin(VIDEOROOM, {"request": "exists", "room": room.janus_id}).get("exists")
    if not exists:
        admin.plugin(
            VIDEOROOM,
            {
                "request": "create",
                "room": room.janus_id,
                "admin_key": settings.JANUS_ROOM_SECRET,
                "secret": settings.JANUS_ROOM_SECRET,
                "description": f"meeting room {room.placement.pk}",
                "is_private": True,
                "permanent": False,
                "publishers": room.capacity,
                "allowed": [],
                "audiocodec": "opus",
                "videocodec": "vp8",
                "bitrate": settings.ROOM_VIDEO_BITRATE,
                "bitrate_cap": True,
                "fir_freq": 2,
                "notify_joining": True,
                "record": False,
            },
            allow_codes=(427,),  # created meanwhile by another process
        )
    return room.janus_id


def _allowed(room: Room, action: str, tokens: list[str], admin: JanusAdmin) -> None:
    if not tokens:
        return
    admin.plugin(
        VIDEOROOM,
        {
            "request": "allowed",
            "room": room.janus_id,
            "secret": settings.JANUS_ROOM_SECRET,
            "action": action,
            "allowed": tokens,
        },
        allow_codes=(426,) if action == "remove" else (),  # a room Janus lost has no list
    )


def _core_token() -> dict[str, Any]:
    token = mint_token(
        secret=settings.JANUS_TOKEN_SECRET,
        ttl_seconds=settings.JANUS_TOKEN_TTL_SECONDS,
        plugins=(VIDEOROOM,),
    )
    return {"token": token, "token_ttl": settings.JANUS_TOKEN_TTL_SECONDS}


def janus_participants(room: Room) -> list[int]:
    """The publisher ids Janus has in the room now (for tests and operators)."""
    answer = _admin(room).plugin(
        VIDEOROOM, {"request": "listparticipants", "room": room.janus_id}, allow_codes=(426,)
    )
    return sorted(int(p["id"]) for p in answer.get("participants") or [])


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _tag(room: Room) -> str:
    return f"r{room.janus_id}-"


def feed_of(user_id: int) -> int:
    return user_id * 10 + ROOM_FEED


# --- joining and leaving ---------------------------------------------------------------------
def _require_media() -> None:
    if not media_enabled():
        raise MediaRefused(INSTALL_HINT, code="unavailable")


def _check_entry(access: RoomAccess, room: Room) -> None:
    removal = _removal(room, access.user_id)
    if removal is not None:
        minutes = max(1, round((removal.until - timezone.now()).total_seconds() / 60))
        raise MediaRefused(
            f"A host removed you from this room; you may come back in {minutes} minute(s)."
        )
    if access.is_host:
        return
    if room.meeting.locked:
        raise MediaRefused(
            "This room is locked by its host; nobody new may join now.", code="conflict"
        )
    if room.kind == "expert" and not _admitted(room, access.user_id):
        raise MediaRefused(
            "This is a meet-the-expert room: request a slot and join when the expert admits you.",
            code="conflict",
        )


def join_room(access: RoomAccess, room: Room) -> dict[str, Any]:
    """Everything the room page needs to join the room's VideoRoom, or a refusal saying why."""
    _check_entry(access, room)
    _require_media()
    now = timezone.now()
    admin = _admin(room)
    with transaction.atomic():
        meeting = MeetingRoom.objects.select_for_update().get(pk=room.meeting.pk)
        present = _present(room).exclude(user_id=access.user_id).count()
        if present >= room.capacity:
            raise MediaRefused(
                f"{room.label} is full: {present} of {room.capacity} places are taken. "
                "Try again when someone leaves, or choose another room.",
                code="conflict",
            )
        # Someone is in one room at a time: joining here leaves any other room.
        elsewhere = list(
            RoomOccupant.objects.filter(user_id=access.user_id, active=True).exclude(room=meeting)
        )
        occupant, _ = RoomOccupant.objects.update_or_create(
            room=meeting,
            user_id=access.user_id,
            defaults={
                "name": access.name,
                "janus_token": secrets.token_urlsafe(24),
                "joined_at": now,
                "seen_at": now,
                "active": True,
                "muted": False,
            },
        )
        for other in elsewhere:
            other.active = False
            other.save(update_fields=["active"])
    try:
        ensure_janus_room(room, admin)
        _allowed(room, "add", [occupant.janus_token], admin)
    except MediaUnavailable as error:
        logger.warning("room %s: %s", room.janus_id, error)
        RoomOccupant.objects.filter(pk=occupant.pk).update(active=False)
        raise MediaRefused(
            "The media server is not answering; try again in a moment.", code="unavailable"
        ) from None
    for other in elsewhere:
        _leave_janus(other)
    return {
        "server": admin.host.ws_url,
        **_core_token(),
        "opaque_id": make_opaque_id(
            secret=settings.JANUS_TOKEN_SECRET, user_id=access.user_id, tag=_tag(room)
        ),
        "ice_servers": ice_servers(access.user_id),
        "room": room.janus_id,
        "room_token": occupant.janus_token,
        "feed": feed_of(access.user_id),
        "display": access.name,
        "capacity": room.capacity,
        "is_host": access.is_host,
    }


def renew_room_token(access: RoomAccess, room: Room) -> dict[str, Any]:
    """A fresh Janus token while the user may still be in the room."""
    _require_media()
    _check_entry(access, room)
    if not RoomOccupant.objects.filter(
        room=room.meeting, user_id=access.user_id, active=True
    ).exists():
        raise MediaRefused("You are no longer in this room.")
    return _core_token()


def leave_room(access: RoomAccess, room: Room) -> None:
    occupant = RoomOccupant.objects.filter(
        room=room.meeting, user_id=access.user_id, active=True
    ).first()
    if occupant is None:
        return
    RoomOccupant.objects.filter(pk=occupant.pk).update(active=False)
    _leave_janus(occupant)
    RoomQueueEntry.objects.filter(
        room=room.meeting, user_id=access.user_id, status=QueueStatus.ADMITTED
    ).update(status=QueueStatus.DONE)


def _leave_janus(occupant: RoomOccupant) -> None:
    """Take the occupant's token off the room's allowed list (their media then cannot rejoin)."""
    if not media_enabled():
        return
    room = _room(occupant.room.placement)
    try:
        _allowed(room, "remove", [occupant.janus_token], _admin(room))
    except MediaUnavailable as error:
        logger.info("room %s: allowed list not updated: %s", room.janus_id, error)


# --- the room's state (the page polls it; it also keeps the user's presence) ------------------
def room_state(access: RoomAccess, room: Room, *, since: int = 0) -> dict[str, Any]:
    now = timezone.now()
    _expire_slots(room, now)
    mine = RoomOccupant.objects.filter(room=room.meeting, user_id=access.user_id).first()
    in_room = bool(mine and mine.active)
    if mine is not None and in_room:
        RoomOccupant.objects.filter(pk=mine.pk).update(seen_at=now)
    removal = _removal(room, access.user_id)
    people = [
        {"id": o.user_id, "name": o.name, "muted": o.muted, "feed": feed_of(o.user_id)}
        for o in _present(room).order_by("joined_at")
    ]
    can_read = in_room or access.is_host
    messages = (
        [
            {"id": m.pk, "author": m.author_name, "text": m.text, "at": m.created_at.isoformat()}
            for m in RoomMessage.objects.filter(room=room.meeting, pk__gt=since)[:200]
        ]
        if can_read
        else []
    )
    room.meeting.refresh_from_db(fields=["locked"])
    return {
        "room": room_summary(
            room, zone=Event.objects.get(pk=access.event_id).tzinfo, people=people
        ),
        "me": {
            "in_room": in_room,
            "muted": bool(mine and mine.active and mine.muted),
            "removed": removal is not None,
            "is_host": access.is_host,
        },
        "messages": messages,
        "queue": queue_state(access, room, now=now) if room.kind == "expert" else None,
    }


KIND_LABELS = {
    "workshop": "Workshop room",
    "breakout": "Breakout room",
    "expert": "Meet the expert",
    "poster": "Poster spot",
    "booth": "Booth meeting spot",
    "lounge": "Lounge",
}


def listed_rooms(event: Event, hall_slug: str, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The published meeting rooms of a hall (from the layout `manifest` attendees see), with
    who is in each and how full it is, and the address of each room's page."""
    data = next((h for h in manifest["halls"] if h["slug"] == hall_slug), None)
    published = {p["id"] for p in (data or {}).get("placements", []) if p["kind"] == "meeting_room"}
    if not published or event.venue_id is None:
        return []
    placements = Placement.objects.filter(
        pk__in=published, kind=PlacementKind.MEETING_ROOM, hall__venue_id=event.venue_id
    ).order_by("order", "id")
    listed = []
    for placement in placements:
        try:
            room = _room(placement)
        except Exception:  # noqa: S112 - skip a draft with broken props
            continue
        url = reverse(
            "venue:room",
            kwargs={"event_slug": event.slug, "hall_slug": hall_slug, "room_id": placement.pk},
        )
        listed.append(
            {
                **room_summary(room, zone=event.tzinfo),
                "url": url,
                "kind_label": KIND_LABELS.get(room.kind, room.kind),
            }
        )
    return listed


# Where the hosts of a kind of room are, in "At the poster now: …".
HOST_PLACES = {"poster": "at the poster", "booth": "at the booth", "expert": "in the room"}
SHOWN_HOST_SLOTS = 6


def host_times(room: Room, *, zone: tzinfo, now: datetime | None = None) -> dict[str, Any]:
    """The room's published host times that are on now and the next one, and a line for people
    to read, in the event's time zone: "At the poster now: Dr. Ana Ruiz (until 14:30). Next at the
    poster: Dr. Ben Okoro, Tue 8 Dec 15:00-15:30 (CET)."."""
    now = now or timezone.now()
    slots = list(
        RoomHostSlot.objects.filter(room=room.meeting, ends_at__gt=now)
        .select_related("host")
        .order_by("starts_at", "pk")[:SHOWN_HOST_SLOTS]
    )
    current = [slot for slot in slots if slot.starts_at <= now]
    coming = next((slot for slot in slots if slot.starts_at > now), None)
    where = HOST_PLACES.get(room.kind, "hosting")

    def clock(moment: datetime) -> str:
        return timezone.localtime(moment, zone).strftime("%H:%M")

    parts = []
    if current:
        names = ", ".join(
            f"{slot.host.public_name} (until {clock(slot.ends_at)})" for slot in current
        )
        parts.append(f"{where[0].upper()}{where[1:]} now: {names}.")
    if coming is not None:
        starts = timezone.localtime(coming.starts_at, zone)
        parts.append(
            f"Next {where}: {coming.host.public_name}, {starts:%a} {starts.day} {starts:%b} "
            f"{starts:%H:%M}–{clock(coming.ends_at)} ({starts:%Z})."
        )
    return {
        "now": [
            {
                "host": s.host.public_name,
                "starts": s.starts_at.isoformat(),
                "ends": s.ends_at.isoformat(),
            }
            for s in current
        ],
        "next": None
        if coming is None
        else {
            "host": coming.host.public_name,
            "starts": coming.starts_at.isoformat(),
            "ends": coming.ends_at.isoformat(),
        },
        "line": " ".join(parts),
    }


def room_summary(
    room: Room, *, zone: tzinfo, people: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    if people is None:
        people = [
            {"id": o.user_id, "name": o.name, "muted": o.muted, "feed": feed_of(o.user_id)}
            for o in _present(room).order_by("joined_at")
        ]
    return {
        "id": room.placement.pk,
        "label": room.label,
        "kind": room.kind,
        "capacity": room.capacity,
        "topic": room.topic,
        "board": room.board,
        "locked": room.meeting.locked,
        "people": people,
        "count": len(people),
        "full": len(people) >= room.capacity,
        "host_times": host_times(room, zone=zone),
    }


# --- meet the expert: the queue --------------------------------------------------------------
def _admitted(room: Room, user_id: int) -> bool:
    return RoomQueueEntry.objects.filter(
        room=room.meeting,
        user_id=user_id,
        status=QueueStatus.ADMITTED,
        ends_at__gt=timezone.now(),
    ).exists()


def _require_expert_room(room: Room) -> None:
    if room.kind != "expert":
        raise MediaRefused("Only a meet-the-expert room has a queue.", code="invalid")


def request_slot(access: RoomAccess, room: Room) -> dict[str, Any]:
    _require_expert_room(room)
    _check_entry_to_queue(access, room)
    try:
        with transaction.atomic():
            RoomQueueEntry.objects.get_or_create(
                room=room.meeting,
                user_id=access.user_id,
                status__in=(QueueStatus.WAITING, QueueStatus.ADMITTED),
                defaults={
                    "name": access.name,
                    "status": QueueStatus.WAITING,
                    "requested_at": timezone.now(),
                },
            )
    except IntegrityError:
        pass  # requested twice at once: one entry, as wanted
    return queue_state(access, room)


def _check_entry_to_queue(access: RoomAccess, room: Room) -> None:
    if access.is_host:
        raise MediaRefused("You host this room: admit people from the queue.", code="invalid")
    if _removal(room, access.user_id) is not None:
        raise MediaRefused("A host removed you from this room.")


def leave_queue(access: RoomAccess, room: Room) -> dict[str, Any]:
    _require_expert_room(room)
    RoomQueueEntry.objects.filter(
        room=room.meeting, user_id=access.user_id, status=QueueStatus.WAITING
    ).update(status=QueueStatus.LEFT)
    return queue_state(access, room)


def admit(access: RoomAccess, room: Room, *, count: int = 1) -> dict[str, Any]:
    """The expert admits the first `count` people waiting; each gets a slot of the room's
    length from now."""
    _require_expert_room(room)
    _require_host(access)
    if not 1 <= count <= MAX_ADMIT:
        raise MediaRefused(f"Admit 1 to {MAX_ADMIT} people at a time.", code="invalid")
    now = timezone.now()
    with transaction.atomic():
        waiting = list(
            RoomQueueEntry.objects.select_for_update()
            .filter(room=room.meeting, status=QueueStatus.WAITING)
            .order_by("requested_at", "pk")[:count]
        )
        for entry in waiting:
            entry.status = QueueStatus.ADMITTED
            entry.admitted_at = now
            entry.ends_at = now + timedelta(minutes=room.slot_minutes)
            entry.save(update_fields=["status", "admitted_at", "ends_at"])
    if not waiting:
        raise MediaRefused("Nobody is waiting.", code="conflict")
    return queue_state(access, room)


def end_slot(access: RoomAccess, room: Room, *, user_id: int) -> dict[str, Any]:
    """The expert ends someone's slot: they leave the room (their media is cut)."""
    _require_expert_room(room)
    _require_host(access)
    RoomQueueEntry.objects.filter(
        room=room.meeting, user_id=user_id, status=QueueStatus.ADMITTED
    ).update(status=QueueStatus.DONE)
    _put_out(room, user_id)
    return queue_state(access, room)


def _expire_slots(room: Room, now: datetime) -> None:
    """Slots past their time limit end: the person leaves the room."""
    if room.kind != "expert":
        return
    expired = list(
        RoomQueueEntry.objects.filter(
            room=room.meeting, status=QueueStatus.ADMITTED, ends_at__lte=now
        ).values_list("pk", "user_id")
    )
    for pk, user_id in expired:
        if RoomQueueEntry.objects.filter(pk=pk, status=QueueStatus.ADMITTED).update(
            status=QueueStatus.DONE
        ):
            _put_out(room, user_id)


def queue_state(access: RoomAccess, room: Room, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    entries = list(
        RoomQueueEntry.objects.filter(
            room=room.meeting, status__in=(QueueStatus.WAITING, QueueStatus.ADMITTED)
        ).order_by("requested_at", "pk")
    )
    waiting = [e for e in entries if e.status == QueueStatus.WAITING]
    admitted = [e for e in entries if e.status == QueueStatus.ADMITTED]
    remaining = max(((e.ends_at - now).total_seconds() for e in admitted if e.ends_at), default=0.0)
    state = {
        "slot_minutes": room.slot_minutes,
        "waiting": len(waiting),
        "admitted": [
            {"id": e.user_id, "name": e.name, "ends_at": _iso(e.ends_at)} for e in admitted
        ]
        if access.is_host
        else [],
        "people": [{"id": e.user_id, "name": e.name} for e in waiting] if access.is_host else [],
    }
    mine = next((e for e in entries if e.user_id == access.user_id), None)
    if mine is None:
        state["mine"] = None
    elif mine.status == QueueStatus.ADMITTED:
        state["mine"] = {"status": "admitted", "ends_at": _iso(mine.ends_at)}
    else:
        place = waiting.index(mine) + 1
        # Whoever is with the expert now finishes their slot, then one slot per person ahead.
        wait = remaining / 60 + (place - 1) * room.slot_minutes
        state["mine"] = {"status": "waiting", "place": place, "wait_minutes": round(wait)}
    return state


def get_note(access: RoomAccess, room: Room) -> str:
    note = RoomNote.objects.filter(room=room.meeting, user_id=access.user_id).first()
    return note.text if note else ""


def save_note(access: RoomAccess, room: Room, *, text: str) -> None:
    if len(text) > NOTE_MAX:
        raise MediaRefused(f"A note has at most {NOTE_MAX} characters.", code="invalid")
    RoomNote.objects.update_or_create(
        room=room.meeting, user_id=access.user_id, defaults={"text": text}
    )


# --- chat and reports ------------------------------------------------------------------------
def post_message(access: RoomAccess, room: Room, *, text: str) -> RoomMessage:
    text = (text or "").strip()
    if not text or len(text) > MESSAGE_MAX:
        raise MediaRefused(f"A message has 1 to {MESSAGE_MAX} characters.", code="invalid")
    inside = RoomOccupant.objects.filter(
        room=room.meeting, user_id=access.user_id, active=True
    ).exists()
    if not inside and not access.is_host:
        raise MediaRefused("Join the room to write in its chat.")
    return RoomMessage.objects.create(
        room=room.meeting, author_id=access.user_id, author_name=access.name, text=text
    )


def report_room(access: RoomAccess, room: Room, *, reason: str) -> RoomReport:
    """A report to the organizer with the room, the time (UTC, shown in the event's zone in the
    e-mail and the admin's) and who was in the room; e-mailed to the organizer's contact
    address after commit when it has one."""
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise MediaRefused(f"Say what happened in 1 to {REASON_MAX} characters.", code="invalid")
    people = [{"id": o.user_id, "name": o.name} for o in _present(room).order_by("joined_at")]
    report = RoomReport.objects.create(
        room=room.meeting,
        reporter_id=access.user_id,
        reporter_name=access.name,
        reason=reason,
        people=people,
    )
    event = Event.objects.select_related("organizer").get(pk=access.event_id)
    address = event.organizer.contact_email
    if address:
        transaction.on_commit(lambda: _mail_report(report, room, event, address))
    return report


def _mail_report(report: RoomReport, room: Room, event: Event, address: str) -> None:
    moment = timezone.localtime(report.created_at, event.tzinfo)
    names = ", ".join(person["name"] for person in report.people) or "nobody"
    send_mail(
        subject=f"Report from {room.label} ({event.title})",
        message=(
            f"{report.reporter_name} reported a problem in {room.label} "
            f"({room.placement.hall.name}) at {moment:%Y-%m-%d %H:%M} ({event.timezone}).\n\n"
            f"What happened: {report.reason}\n\nIn the room then: {names}\n\n"
            "The report is in the admin under Room reports."
        ),
        from_email=None,
        recipient_list=[address],
    )


# --- moderation ------------------------------------------------------------------------------
def set_locked(access: RoomAccess, room: Room, *, locked: bool) -> None:
    _require_host(access)
    MeetingRoom.objects.filter(pk=room.meeting.pk).update(locked=locked)


def mute(access: RoomAccess, room: Room, *, user_id: int, muted: bool = True) -> None:
    """A host mutes (or unmutes) someone: Janus stops relaying their sound, whatever their
    browser does, and their page says so."""
    _require_host(access)
    updated = RoomOccupant.objects.filter(room=room.meeting, user_id=user_id, active=True).update(
        muted=muted
    )
    if not updated:
        raise MediaRefused("That person is not in the room.", code="not_found")
    try:
        _admin(room).plugin(
            VIDEOROOM,
            {
                "request": "moderate",
                "room": room.janus_id,
                "secret": settings.JANUS_ROOM_SECRET,
                "id": feed_of(user_id),
                "mid": AUDIO_MID,
                "mute": muted,
            },
            allow_codes=(428,),  # not publishing (yet)
        )
    except MediaUnavailable as error:
        raise MediaRefused(
            f"The media server is not answering: {error}", code="unavailable"
        ) from None


def remove(access: RoomAccess, room: Room, *, user_id: int) -> None:
    """A host removes someone: out of the room for ROOM_REMOVAL_MINUTES, their media stops."""
    _require_host(access)
    if user_id == access.user_id:
        raise MediaRefused("You cannot remove yourself; leave instead.", code="invalid")
    target = RoomOccupant.objects.filter(room=room.meeting, user_id=user_id).first()
    if target is None:
        raise MediaRefused("That person has not been in this room.", code="not_found")
    if _is_host_user(room, user_id):
        raise MediaRefused("A host cannot be removed from the room.", code="invalid")
    RoomRemoval.objects.create(
        room=room.meeting,
        user_id=user_id,
        removed_by_id=access.user_id,
        until=timezone.now() + timedelta(minutes=settings.ROOM_REMOVAL_MINUTES),
    )
    RoomQueueEntry.objects.filter(
        room=room.meeting, user_id=user_id, status__in=(QueueStatus.WAITING, QueueStatus.ADMITTED)
    ).update(status=QueueStatus.DONE)
    _put_out(room, user_id)


def _is_host_user(room: Room, user_id: int) -> bool:
    if room.meeting.hosts.filter(pk=user_id).exists():
        return True
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    try:
        return live.resolve_hall_access(user, room.placement.hall_id).is_moderator
    except Refused:
        return False


def _put_out(room: Room, user_id: int) -> int:
    """Take `user_id` out of the room: presence, allowed list, the Janus room (kick) and their
    Janus sessions of this room. Returns how many sessions were ended."""
    occupant = RoomOccupant.objects.filter(room=room.meeting, user_id=user_id).first()
    if occupant is None:
        return 0
    RoomOccupant.objects.filter(pk=occupant.pk).update(active=False)
    if not media_enabled():
        return 0
    admin = _admin(room)
    try:
        _allowed(room, "remove", [occupant.janus_token], admin)
        admin.plugin(
            VIDEOROOM,
            {
                "request": "kick",
                "room": room.janus_id,
                "secret": settings.JANUS_ROOM_SECRET,
                "id": feed_of(user_id),
            },
            allow_codes=(426, 428),  # no such room / not in it
        )
    except MediaUnavailable as error:
        logger.warning("room %s: could not kick user %s: %s", room.janus_id, user_id, error)
    return cut_room_media(room, user_id, admin)


def cut_room_media(room: Room, user_id: int, admin: JanusAdmin | None = None) -> int:
    """End the Janus sessions in which `user_id` attached a handle for this room."""
    try:
        return end_sessions_of(admin or _admin(room), user_id, tag=_tag(room))
    except MediaUnavailable as error:
        logger.warning("room %s: could not end sessions of %s: %s", room.janus_id, user_id, error)
        return 0
