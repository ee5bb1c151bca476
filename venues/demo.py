"""The demo venue that `seed_demo` builds: a lobby and two halls (extended with a full layout by
the venue work)."""

from decimal import Decimal

from venues.models import Hall, HallKind, Venue

DEMO_VENUE_SLUG = "medvenue-congress-centre"


def build_demo_venue() -> Venue:
    """Create or refresh the demo venue; running it twice gives the same rows."""
    venue, _ = Venue.objects.update_or_create(
        slug=DEMO_VENUE_SLUG,
        defaults={
            "name": "MedVenue Congress Centre",
            "description": "A bright congress centre with a central lobby and two halls.",
        },
    )
    halls = [
        (
            "lobby",
            "Grand Lobby",
            HallKind.LOBBY,
            40,
            30,
            800,
            "The central lobby, with portals to every hall.",
        ),
        (
            "auditorium",
            "Main Auditorium",
            HallKind.AUDITORIUM,
            36,
            28,
            400,
            "Plenary hall with a large stage.",
        ),
        (
            "seminar",
            "Seminar Hall B",
            HallKind.AUDITORIUM,
            24,
            18,
            150,
            "A smaller hall for seminars and workshops.",
        ),
    ]
    for order, (slug, name, kind, width, depth, capacity, description) in enumerate(halls):
        Hall.objects.update_or_create(
            venue=venue,
            slug=slug,
            defaults={
                "name": name,
                "kind": kind,
                "width_m": Decimal(width),
                "depth_m": Decimal(depth),
                "capacity": capacity,
                "description": description,
                "order": order,
            },
        )
    return venue
