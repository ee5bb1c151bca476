"""Database side of the live hall: who may enter, the ordered feed, Q&A and chat.

Called from the websocket consumer through `conference.live.db` (async wrappers). Every write
appends to the hall's feed in the same transaction, so what is acknowledged is stored.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import CharField, Exists, F, IntegerField, OuterRef, Value
from django.utils import timezone

from accounts.models import ProfessionalProfile, User
from conference.models import (
    Audience,
    ChatMessage,
    Event,
    HallFeed,
    HallRemoval,
    LiveItem,
    MembershipRole,
    OrganizerMembership,
    Question,
    QuestionStatus,
    Registration,
    RegistrationRole,
    Session,
    SessionKind,
    Speaker,
)
from conference.services.cme.records import audit
from conference.services.moderation import matched_keyword, removal_data
from conference.services.refusals import Refused
from venues.geometry import contains_point
from venues.models import Hall, Zone, ZoneKind

# The name of a person without a display name or legal name: never their e-mail's local part.
ANONYMOUS_NAME = "Attendee"
NOT_IN_EVENT = "This person is not an attendee or speaker of this event."

MODERATING_ROLES = {RegistrationRole.MODERATOR, RegistrationRole.STAFF}
# Every member of the organizer enters its halls as staff; these roles also moderate there
# (docs/roles.md). CME coordinators and content managers do not.
MODERATING_MEMBERS = {MembershipRole.OWNER, MembershipRole.MODERATOR}
QUESTION_MAX_LENGTH = 500
CHAT_MAX_LENGTH = 500
RESUME_LIMIT = 500
UPCOMING_WINDOW = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class RoleZone:
    """A zone of the hall that only some roles may enter (restricted areas, the podium)."""

    label: str
    polygon: tuple[tuple[float, float], ...]
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class HallAccess:
    """What the server knows about one user in one hall, checked once when they connect."""

    user_id: int
    user_name: str
    degree: str
    hall_id: int
    hall_name: str
    hall_capacity: int
    hall_width: float
    hall_depth: float
    venue_hall_ids: tuple[int, ...]
    event_id: int
    event_slug: str
    organizer_id: int
    role: str
    is_moderator: bool
    speaks_in_hall: bool = False
    role_zones: tuple[RoleZone, ...] = ()

    @property
    def sees_pending(self) -> bool:
        """Moderators, staff and the hall's speakers see questions awaiting moderation."""
        return self.is_moderator or self.speaks_in_hall


VENUE_CACHE_SECONDS = 10.0
_venue_cache: dict[int, tuple[float, Hall, tuple[int, ...], list[Event], tuple[RoleZone, ...]]] = {}


def _role_zones(hall: Hall) -> tuple[RoleZone, ...]:
    zones = Zone.objects.filter(hall=hall, kind__in=[ZoneKind.RESTRICTED, ZoneKind.PODIUM])
    return tuple(
        RoleZone(
            label=zone.label,
            polygon=tuple((float(x), float(z)) for x, z in zone.polygon),
            roles=frozenset((zone.props or {}).get("roles", [])),
        )
        for zone in zones
        if (zone.props or {}).get("roles")
    )


def _venue_context(hall_id: int) -> tuple[Any, ...]:
    """The hall, its venue's hall ids, the venue's events and the hall's role zones, cached for a
    few seconds per process: every socket joining a busy hall would otherwise read them again."""
    now = time.monotonic()
    cached = _venue_cache.get(hall_id)
    if cached and now - cached[0] < VENUE_CACHE_SECONDS:
        return cached[1:]
    hall = Hall.objects.filter(pk=hall_id).first()
    if hall is None:
        return None, (), [], ()
    hall_ids = tuple(Hall.objects.filter(venue_id=hall.venue_id).values_list("pk", flat=True))
    events = list(Event.objects.filter(venue_id=hall.venue_id))
    _venue_cache[hall_id] = (now, hall, hall_ids, events, _role_zones(hall))
    return _venue_cache[hall_id][1:]


@dataclass(frozen=True, slots=True)
class _UserFacts:
    registrations: dict[int, str]  # event id -> role
    staff_of: dict[int, str]  # organizer id -> membership role
    removed: bool
    speaks_in: set[int]  # event ids where the user speaks in this hall
    degree: str
    legal_name: str


# Sentinels standing for the arguments of the facts query while it is compiled once (see
# `_facts_sql`): no real id or time takes these values.
_USER, _HALL, _EVENT_BASE = -7_000_001, -7_000_002, -7_100_000
_NOW = datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC)
_facts_sql_cache: dict[int, tuple[str, list[Any]]] = {}


def _facts_sql(events_count: int) -> tuple[str, list[Any]]:
    """The SQL of `_facts_query` for `events_count` events, compiled once per process, with each
    parameter as a constant or the name of the argument it stands for: compiling the six-part
    UNION through the ORM cost more CPU than running it (bench/hall_join.py)."""
    found = _facts_sql_cache.get(events_count)
    if found is None:
        event_ids = [_EVENT_BASE - n for n in range(events_count)]
        sql, params = _facts_query(_USER, _HALL, event_ids, _NOW).query.sql_with_params()
        roles: list[Any] = []
        for param in params:
            if param == _USER:
                roles.append(("user",))
            elif param == _HALL:
                roles.append(("hall",))
            elif param == _NOW:
                roles.append(("now",))
            elif isinstance(param, int) and _EVENT_BASE - events_count < param <= _EVENT_BASE:
                roles.append(("event", _EVENT_BASE - param))
            else:
                roles.append(("constant", param))
        found = _facts_sql_cache[events_count] = (sql, roles)
    return found


def _facts_query(user_id: int, hall_id: int, event_ids: list[int], now: datetime) -> Any:
    def rows(queryset: Any, kind: str, key: str, value: str) -> Any:
        return (
            queryset.annotate(
                fact_kind=Value(kind, output_field=CharField()),
                fact_key=F(key) if key != "0" else Value(0, output_field=IntegerField()),
                fact_value=F(value) if value else Value("", output_field=CharField()),
            )
            .order_by()
            .values_list("fact_kind", "fact_key", "fact_value")
        )

    return rows(
        Registration.objects.active().filter(user_id=user_id, event_id__in=event_ids),
        "registration",
        "event_id",
        "role",
    ).union(
        rows(OrganizerMembership.objects.filter(user_id=user_id), "staff", "organizer_id", "role"),
        rows(
            HallRemoval.objects.filter(hall_id=hall_id, user_id=user_id, until__gt=now),
            "removed",
            "hall_id",
            "",
        ),
        rows(
            Session.objects.filter(
                hall_id=hall_id, event_id__in=event_ids, speakers__user_id=user_id
            ),
            "speaks",
            "event_id",
            "",
        ),
        rows(ProfessionalProfile.objects.filter(user_id=user_id), "degree", "0", "degree"),
        rows(ProfessionalProfile.objects.filter(user_id=user_id), "legal_name", "0", "legal_name"),
        all=True,
    )


def _user_facts(user: Any, hall: Hall, events: list[Event]) -> _UserFacts:
    """Everything about `user` that entering `hall` depends on, in one query (UNION ALL):
    registrations at the venue's events, organizer memberships, an active removal from the
    hall, speaking in the hall, and the profile's degree."""
    event_ids = [event.pk for event in events]
    now = timezone.now()
    if event_ids:
        sql, roles = _facts_sql(len(event_ids))
        values = {"user": user.pk, "hall": hall.pk, "now": now}
        params = [
            event_ids[role[1]]
            if role[0] == "event"
            else role[1]
            if role[0] == "constant"
            else values[role[0]]
            for role in roles
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            union = cursor.fetchall()
    else:
        union = list(_facts_query(user.pk, hall.pk, event_ids, now))
    found: dict[str, Any] = {"registration": {}, "staff": {}, "speaks": set(), "removed": False}
    for kind, key, value in union:
        if kind in ("registration", "staff"):
            found[kind][key] = value
        elif kind == "speaks":
            found[kind].add(key)
        elif kind == "removed":
            found["removed"] = True
        else:
            found[kind] = value
    return _UserFacts(
        registrations=found["registration"],
        staff_of=found["staff"],
        removed=found["removed"],
        speaks_in=found["speaks"],
        degree=found.get("degree", ""),
        legal_name=found.get("legal_name", ""),
    )


def _pick_event(events: list[Event], user: Any, facts: _UserFacts) -> tuple[Event, str] | None:
    """The event of the hall's venue that `user` may attend, with their role; None if none."""
    today = timezone.now().date()
    ordered = sorted(
        events,
        key=lambda e: (not (e.start_date <= today <= e.end_date), -e.start_date.toordinal()),
    )
    for event in ordered:
        if user.is_superuser or event.organizer_id in facts.staff_of:
            return event, RegistrationRole.STAFF
        if event.is_published and event.pk in facts.registrations:
            return event, facts.registrations[event.pk]
    return None


def resolve_hall_access(user: Any, hall_id: int) -> HallAccess:
    """Check that `user` may enter hall `hall_id`; raise Refused otherwise."""
    hall, venue_hall_ids, events, role_zones = _venue_context(hall_id)
    if hall is None:
        raise Refused("not_found", "This hall does not exist.")
    facts = _user_facts(user, hall, events)
    picked = _pick_event(events, user, facts)
    if picked is None:
        raise Refused("forbidden", "Only registered attendees of this hall's event may enter.")
    event, role = picked
    registered_as = facts.registrations.get(event.pk)
    is_moderator = RegistrationRole.MODERATOR in (role, registered_as) or (
        role == RegistrationRole.STAFF
        and (user.is_superuser or facts.staff_of.get(event.organizer_id) in MODERATING_MEMBERS)
    )
    if role not in MODERATING_ROLES and facts.removed:
        raise removed_error(active_removal(hall.pk, user.pk))
    return HallAccess(
        user_id=user.pk,
        # Never anything derived from the e-mail address (docs/protocol.md, "Names").
        user_name=user.display_name or facts.legal_name or ANONYMOUS_NAME,
        degree=facts.degree,
        hall_id=hall.pk,
        hall_name=hall.name,
        hall_capacity=hall.capacity,
        hall_width=float(hall.width_m),
        hall_depth=float(hall.depth_m),
        venue_hall_ids=venue_hall_ids,
        event_id=event.pk,
        event_slug=event.slug,
        organizer_id=event.organizer_id,
        role=role,
        is_moderator=is_moderator,
        speaks_in_hall=event.pk in facts.speaks_in,
        role_zones=role_zones,
    )


def zone_refusing(access: HallAccess, x: float, z: float) -> RoleZone | None:
    """The role zone that (x, z) lies in and this user may not enter, if any. Organizer staff
    go everywhere; the hall's speakers count as speakers."""
    if access.role == RegistrationRole.STAFF:
        return None
    roles = {access.role} | ({RegistrationRole.SPEAKER} if access.speaks_in_hall else set())
    for zone in access.role_zones:
        if not roles & zone.roles and contains_point(zone.polygon, (x, z)):
            return zone
    return None


def event_keywords(access: HallAccess) -> str:
    """The moderation keywords of the access's event (from the venue cache: a change applies
    within VENUE_CACHE_SECONDS)."""
    _hall, _ids, events, _zones = _venue_context(access.hall_id)
    for event in events:
        if event.pk == access.event_id:
            return str(event.moderation_keywords)
    return ""


def current_session(access: HallAccess, *, now: datetime | None = None) -> Session | None:
    """The session on in the hall now, else the next one starting within 30 minutes."""
    now = now or timezone.now()
    sessions = Session.objects.filter(event_id=access.event_id, hall_id=access.hall_id)
    on_now = sessions.filter(starts_at__lte=now, ends_at__gt=now).order_by("starts_at").first()
    if on_now:
        return on_now
    return (
        sessions.filter(starts_at__gt=now, starts_at__lte=now + UPCOMING_WINDOW)
        .order_by("starts_at")
        .first()
    )


def moderates_session(access: HallAccess, session: Session) -> bool:
    """Moderators and staff moderate every session; speakers moderate their own."""
    if access.is_moderator:
        return True
    return access.speaks_in_hall and session.speakers.filter(user_id=access.user_id).exists()


def moderates(access: HallAccess, speakers: frozenset[int]) -> bool:
    """`moderates_session` for a session whose speakers' user ids are known (no query)."""
    return access.is_moderator or (access.speaks_in_hall and access.user_id in speakers)


@dataclass(frozen=True, slots=True)
class HallNow:
    """A hall's state for one event: its feed position, the session on now (else the next one
    within 30 minutes) and that session's stage. Read once for every socket of the event that
    joins or follows the programme at the same moment (conference.live.batch), so it holds
    nothing about one user: `session_for` adds that without a query."""

    seq: int
    session: dict[str, Any] | None  # as in `hello`, without `you_moderate`
    speakers: frozenset[int]  # user ids of the session's speakers
    ends_at: datetime | None
    stage: dict[str, Any] | None


def hall_now(
    hall_id: int,
    event_id: int,
    *,
    stage: Callable[[Session], dict[str, Any] | None] = lambda session: None,
) -> HallNow:
    """The hall's state now; `stage(session)` gives the session's stage (the live layer passes
    `services.media.stage.hall_stage_data`, which imports this module)."""
    now = timezone.now()
    sessions = Session.objects.filter(event_id=event_id, hall_id=hall_id)
    session = (
        sessions.filter(starts_at__lte=now, ends_at__gt=now).order_by("starts_at").first()
        or sessions.filter(starts_at__gt=now, starts_at__lte=now + UPCOMING_WINDOW)
        .order_by("starts_at")
        .first()
    )
    if session is None:
        return HallNow(last_seq(hall_id), None, frozenset(), None, None)
    speakers = frozenset(
        user_id
        for user_id in session.speakers.values_list("user_id", flat=True)
        if user_id is not None
    )
    data = {
        "id": session.pk,
        "title": session.title,
        "kind": session.kind,
        "starts_at": session.starts_at.isoformat(),
        "ends_at": session.ends_at.isoformat(),
        "qa_moderation_required": session.qa_moderation_required,
        "attention_check_minutes": session.attention_check_minutes,
        "attention_window_seconds": session.attention_window_seconds,
    }
    return HallNow(last_seq(hall_id), data, speakers, session.ends_at, stage(session))


def session_for(access: HallAccess, now: HallNow) -> dict[str, Any] | None:
    """The session of `now` as `access`'s user is told it (`you_moderate`)."""
    if now.session is None:
        return None
    return {**now.session, "you_moderate": moderates(access, now.speakers)}


def last_seq(hall_id: int) -> int:
    return HallFeed.objects.filter(hall_id=hall_id).values_list("last_seq", flat=True).first() or 0


def append_item(
    access: HallAccess,
    *,
    event: str,
    data: dict[str, Any],
    audience: str = Audience.EVERYONE,
    session_id: int | None = None,
    client_key: str = "",
) -> LiveItem:
    """Append one event to the hall's feed with the next sequence number.

    Must run inside the caller's transaction: the counter row stays locked until it commits, so
    sequence numbers have no gaps and no duplicates across processes.
    """
    HallFeed.objects.get_or_create(hall_id=access.hall_id)
    feed = HallFeed.objects.select_for_update().get(hall_id=access.hall_id)
    feed.last_seq += 1
    feed.save(update_fields=["last_seq"])
    return LiveItem.objects.create(
        hall_id=access.hall_id,
        seq=feed.last_seq,
        event=event,
        data=data,
        audience=audience,
        session_id=session_id,
        actor_id=access.user_id,
        client_key=client_key,
    )


def find_resubmission(access: HallAccess, client_key: str) -> LiveItem | None:
    """The feed item an earlier request with the same idempotency key produced, if any."""
    if not client_key:
        return None
    return LiveItem.objects.filter(actor_id=access.user_id, client_key=client_key).first()


def question_data(question: Question) -> dict[str, Any]:
    data = {
        "id": question.pk,
        "session": question.session_id,
        "author": question.author_name,
        "author_id": question.author_id,
        "text": question.text,
        "status": question.status,
        "pinned": question.is_pinned,
        "votes": question.vote_count,
        "created_at": question.created_at.isoformat(),
    }
    if question.held_keyword and question.status == QuestionStatus.PENDING:
        data["held_for"] = question.held_keyword  # moderators only: pending items reach no one else
    return data


def chat_data(message: ChatMessage) -> dict[str, Any]:
    data = {
        "id": message.pk,
        "author": message.author_name,
        "author_id": message.author_id,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
    }
    if message.is_held:
        data["held_for"] = message.held_keyword
    return data


def ask_question(access: HallAccess, *, text: str, client_key: str = "") -> tuple[LiveItem, bool]:
    """Store a question for the session on in the hall; returns (feed item, created)."""
    with transaction.atomic():
        earlier = find_resubmission(access, client_key)
        if earlier:
            return earlier, False
        session = current_session(access)
        if session is None:
            raise Refused("no_session", "No session is on in this hall right now.")
        if session.kind == SessionKind.BREAK:
            raise Refused("no_session", f"“{session.title}” is a break: it has no Q&A.")
        held_for = matched_keyword(event_keywords(access), text)
        status = (
            QuestionStatus.PENDING
            if session.qa_moderation_required or held_for
            else QuestionStatus.APPROVED
        )
        question = Question.objects.create(
            session=session,
            author_id=access.user_id,
            author_name=access.user_name,
            text=text,
            status=status,
            held_keyword=held_for,
        )
        audience = Audience.MODERATORS if status == QuestionStatus.PENDING else Audience.EVERYONE
        item = append_item(
            access,
            event="qa.question",
            data=question_data(question),
            audience=audience,
            session_id=session.pk,
            client_key=client_key,
        )
        return item, True


def send_chat(access: HallAccess, *, text: str, client_key: str = "") -> tuple[LiveItem, bool]:
    with transaction.atomic():
        earlier = find_resubmission(access, client_key)
        if earlier:
            return earlier, False
        held_for = matched_keyword(event_keywords(access), text)
        message = ChatMessage.objects.create(
            hall_id=access.hall_id,
            author_id=access.user_id,
            author_name=access.user_name,
            text=text,
            is_held=bool(held_for),
            held_keyword=held_for,
        )
        item = append_item(
            access,
            event="chat.message",
            data=chat_data(message),
            audience=Audience.MODERATORS if held_for else Audience.EVERYONE,
            client_key=client_key,
        )
        return item, True


PLACEHOLDER_EVENT = "feed.skip"


def placeholder(seq: int) -> dict[str, Any]:
    """What someone who may not see a feed item gets in its place: its position only."""
    return {"event": PLACEHOLDER_EVENT, "seq": seq, "data": {}}


def items_since(
    access: HallAccess, since: int, *, limit: int = RESUME_LIMIT
) -> tuple[list[dict[str, Any]], bool]:
    """The feed after `since`, oldest first, as frames: every position up to `limit`, with a
    placeholder for each item this user may not see; and whether more positions follow."""
    rows = list(
        LiveItem.objects.filter(hall_id=access.hall_id, seq__gt=since)
        .order_by("seq")
        .values_list("seq", "event", "data", "audience")[: limit + 1]
    )
    # Chat messages hidden by a moderator are gone for everyone, also from the feed's history.
    chat_ids = [data.get("id") for _seq, event, data, _a in rows[:limit] if event == "chat.message"]
    hidden = (
        set(
            ChatMessage.objects.filter(pk__in=chat_ids, is_removed=True).values_list(
                "pk", flat=True
            )
        )
        if chat_ids
        else set()
    )
    frames = [
        placeholder(seq)
        if (event == "chat.message" and data.get("id") in hidden)
        or not (access.sees_pending or audience == Audience.EVERYONE)
        else {"event": event, "seq": seq, "data": data}
        for seq, event, data, audience in rows[:limit]
    ]
    return frames, len(rows) > limit


def still_allowed(hall_id: int, user_ids: list[int]) -> set[int]:
    """Which of `user_ids` may still be in hall `hall_id` (active, registered or staff)."""
    hall = Hall.objects.filter(pk=hall_id).first()
    if hall is None:
        return set()
    events = Event.objects.filter(venue_id=hall.venue_id)
    registered = set(
        Registration.objects.active()
        .filter(
            event__in=events.filter(is_published=True), user_id__in=user_ids, user__is_active=True
        )
        .values_list("user_id", flat=True)
    )
    staff = set(
        OrganizerMembership.objects.filter(
            organizer__events__in=events, user_id__in=user_ids, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    supers = set(
        User.objects.filter(pk__in=user_ids, is_superuser=True, is_active=True).values_list(
            "pk", flat=True
        )
    )
    removed = set(
        HallRemoval.objects.filter(
            hall_id=hall_id, user_id__in=user_ids, until__gt=timezone.now()
        ).values_list("user_id", flat=True)
    )
    return (registered - removed) | staff | supers


def active_removal(hall_id: int, user_id: int) -> HallRemoval | None:
    """The removal that keeps `user_id` out of the hall now (the one ending last), if any."""
    return (
        HallRemoval.objects.filter(hall_id=hall_id, user_id=user_id, until__gt=timezone.now())
        .order_by("-until")
        .first()
    )


def removed_error(removal: HallRemoval | None) -> Refused:
    """The `removed` refusal, telling the person until when and why (docs/protocol.md)."""
    details = {"until": removal.until.isoformat(), "reason": removal.reason} if removal else {}
    return Refused("removed", "A moderator removed you from this hall.", **details)


def is_removed(hall_id: int, user_id: int) -> bool:
    return HallRemoval.objects.filter(
        hall_id=hall_id, user_id=user_id, until__gt=timezone.now()
    ).exists()


def removable_user(access: HallAccess, user_id: int) -> User:
    """The user a moderator may remove from the hall; staff and oneself cannot be removed."""
    if user_id == access.user_id:
        raise Refused("invalid", "You cannot remove yourself.")
    # Members of the hall's organizer (who enter its halls as staff) cannot be removed; saying so
    # tells the moderator nothing about anybody outside their own organizer.
    if OrganizerMembership.objects.filter(
        user_id=user_id, organizer_id=access.organizer_id
    ).exists():
        raise Refused("forbidden", "Organizer staff cannot be removed from a hall.")
    # Otherwise only people of this hall's event: registered (active) or one of its speakers. An
    # id that does not exist and one of somebody elsewhere on the installation get one answer.
    target = (
        User.objects.select_related("profile")
        .filter(pk=user_id)
        .filter(
            Exists(
                Registration.objects.active().filter(
                    user_id=OuterRef("pk"), event_id=access.event_id
                )
            )
            | Exists(Speaker.objects.filter(user_id=OuterRef("pk"), event_id=access.event_id))
        )
        .first()
    )
    if target is None:
        raise Refused("not_found", NOT_IN_EVENT)
    if target.is_superuser:
        raise Refused("forbidden", "Organizer staff cannot be removed from a hall.")
    return target


def remove_from_hall(access: HallAccess, *, user_id: int, minutes: int, reason: str) -> HallRemoval:
    """A moderator removes `user_id` from the hall for `minutes`; staff cannot be removed.
    Recorded in the CME audit and, for the hall's moderators, in the feed (`hall.removal`):
    the returned removal carries that feed item as `item`."""
    target = removable_user(access, user_id)
    with transaction.atomic():
        removal = HallRemoval.objects.create(
            hall_id=access.hall_id,
            user=target,
            removed_by_id=access.user_id,
            reason=reason.strip(),
            until=timezone.now() + timedelta(minutes=minutes),
        )
        actor = User.objects.filter(pk=access.user_id).first()
        audit(
            actor,
            Event.objects.filter(pk=access.event_id).first(),
            "hall_removal.created",
            removal,
            hall=access.hall_id,
            user=target.pk,
            minutes=minutes,
            until=removal.until.isoformat(),
            reason=removal.reason,
        )
        removal.item = append_item(
            access, event="hall.removal", data=removal_data(removal), audience=Audience.MODERATORS
        )
    return removal


def enter_hall(user: Any, hall_id: int, *, present: int = 0) -> HallAccess:
    """Check that `user` may enter hall `hall_id` now that `present` people are in it (a full
    hall admits only moderators). The hall's state and the attendance `join` are read and
    written for every socket joining together afterwards (conference.live.attendance)."""
    access = resolve_hall_access(user, hall_id)
    if not access.is_moderator and present >= access.hall_capacity:
        raise Refused("hall_full", "This hall is full; try again soon.")
    return access
