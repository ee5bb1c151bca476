import pytest

from tests.factories import HallFactory
from tests.venues.conftest import PlacementFactory, make_venue_with_lobby, portal_there
from venues.manifest import serialize_venue_layout
from venues.models import PlacementKind, Venue
from venues.services import LayoutInvalid, publish_layout

pytestmark = pytest.mark.django_db


def test_publish_layout_bumps_version_and_snapshots():
    venue, _lobby, _ = make_venue_with_lobby(halls=2)

    result = publish_layout(venue)

    venue.refresh_from_db()
    assert (result.version, result.changed, venue.layout_version) == (1, True, 1)
    assert venue.published_at is not None
    assert venue.published_layout == serialize_venue_layout(venue)
    assert venue.published_layout["lobby"] == "lobby"


def test_publish_layout_unchanged_keeps_version():
    venue, _, _ = make_venue_with_lobby()
    publish_layout(venue)

    again = publish_layout(venue)
    forced = publish_layout(venue, force=True)

    assert (again.version, again.changed) == (1, False)
    assert (forced.version, forced.changed) == (2, True)


def test_publish_layout_snapshot_ignores_later_edits_until_republished():
    venue, lobby, (hall,) = make_venue_with_lobby()
    publish_layout(venue)
    PlacementFactory(hall=lobby, kind=PlacementKind.SPAWN, label="Door", width=1, depth=1)

    venue.refresh_from_db()
    published_labels = _lobby_labels(venue)
    result = publish_layout(venue)

    venue.refresh_from_db()
    assert published_labels == [f"To {hall.name}"]
    assert result.version == 2
    assert _lobby_labels(venue) == [f"To {hall.name}", "Door"]


def _lobby_labels(venue) -> list[str]:
    (lobby,) = [h for h in venue.published_layout["halls"] if h["slug"] == "lobby"]
    return [p["label"] for p in lobby["placements"]]


def test_publish_layout_invalid_changes_nothing():
    venue, lobby, _ = make_venue_with_lobby()
    publish_layout(venue)
    portal_there(lobby, HallFactory(name="Elsewhere"), x=8, label="Away")

    with pytest.raises(LayoutInvalid) as caught:
        publish_layout(venue)

    stored = Venue.objects.get(pk=venue.pk)
    assert len(caught.value.report.errors) == 1
    assert "a hall of another venue" in caught.value.report.errors[0]
    assert stored.layout_version == 1
    assert "Away" not in str(stored.published_layout)
