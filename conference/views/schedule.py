"""Arrange an event's sessions for the program page: by local day, then by hall or track."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, tzinfo

from django.utils import timezone

from conference.models import Session, Track

GROUPINGS = {"hall": "Hall", "track": "Track"}
DEFAULT_GROUPING = "hall"
UNGROUPED_LABEL = {"hall": "No hall assigned", "track": "General"}


@dataclass
class ScheduleGroup:
    label: str
    color: str = ""
    sessions: list[Session] = field(default_factory=list)


@dataclass
class ScheduleDay:
    day: date
    groups: list[ScheduleGroup] = field(default_factory=list)


def grouping_from(value: str | None) -> str:
    """The grouping named in the query string, or the default for anything unknown."""
    return value if value in GROUPINGS else DEFAULT_GROUPING


def schedule_days(sessions: Iterable[Session], *, tz: tzinfo, group_by: str) -> list[ScheduleDay]:
    """Sessions (in start order) split into the event's local days, then into groups."""
    days: dict[date, dict[object, ScheduleGroup]] = {}
    sort_keys: dict[object, tuple] = {}
    for session in sessions:
        local_day = timezone.localtime(session.starts_at, tz).date()
        key, sort_key, group = _group_for(session, group_by)
        sort_keys[key] = sort_key
        days.setdefault(local_day, {}).setdefault(key, group).sessions.append(session)
    return [
        ScheduleDay(
            day=day, groups=[groups[key] for key in sorted(groups, key=sort_keys.__getitem__)]
        )
        for day, groups in sorted(days.items())
    ]


def _group_for(session: Session, group_by: str) -> tuple[object, tuple, ScheduleGroup]:
    owner = session.track if group_by == "track" else session.hall
    if owner is None:
        return None, (1, 0, ""), ScheduleGroup(label=UNGROUPED_LABEL[group_by])
    color = owner.color if isinstance(owner, Track) else ""
    return owner.pk, (0, owner.order, owner.name), ScheduleGroup(label=owner.name, color=color)
