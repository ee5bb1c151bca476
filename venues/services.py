"""Publishing a venue layout: validate the whole venue, then snapshot it as a new version."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from venues.manifest import serialize_venue_layout
from venues.models import Venue
from venues.validation import LayoutReport, layout_halls, validate_venue_layout


class LayoutInvalid(Exception):
    """The layout has errors; nothing was published. `report` lists them."""

    def __init__(self, report: LayoutReport):
        super().__init__("; ".join(report.errors))
        self.report = report


@dataclass(frozen=True)
class PublishResult:
    venue: Venue
    version: int
    changed: bool
    warnings: list[str]


def publish_layout(venue: Venue, *, force: bool = False) -> PublishResult:
    """Validate `venue` and publish its current layout as the next layout version.

    Attendees see the published snapshot (`Venue.published_layout`), not the tables an organizer
    is editing. Publishing an unchanged layout keeps the version unless `force` is given.
    Raises LayoutInvalid, leaving the venue untouched, when the layout has errors.
    """
    with transaction.atomic():
        locked = Venue.objects.select_for_update().get(pk=venue.pk)
        halls = layout_halls(locked)
        report = validate_venue_layout(locked, halls=halls)
        if not report.is_valid:
            raise LayoutInvalid(report)
        snapshot = serialize_venue_layout(locked, halls=halls)
        unchanged = locked.layout_version > 0 and snapshot == locked.published_layout
        if unchanged and not force:
            return PublishResult(locked, locked.layout_version, False, report.warnings)
        locked.layout_version += 1
        locked.published_at = timezone.now()
        locked.published_layout = snapshot
        locked.save(update_fields=["layout_version", "published_at", "published_layout"])
    _copy_published(locked, venue)
    return PublishResult(locked, locked.layout_version, True, report.warnings)


def _copy_published(source: Venue, target: Venue) -> None:
    for name in ("layout_version", "published_at", "published_layout"):
        setattr(target, name, getattr(source, name))
