"""The demo venue that `seed_demo` builds: a lobby, two lecture halls and a poster hall.

`build_demo_venue()` is idempotent: rows are matched by slug (halls) and by label within a hall
(placements, zones), anything else in a demo hall is removed, and the layout is published only
when it changed.
"""

from decimal import Decimal
from typing import Any

from django.db import transaction

from venues.models import Hall, HallKind, Placement, PlacementKind, Venue, Zone, ZoneKind
from venues.services import publish_layout

DEMO_VENUE_SLUG = "medvenue-congress-centre"

HALLS = [
    (
        "lobby",
        "Grand Lobby",
        HallKind.LOBBY,
        40,
        30,
        800,
        "The central lobby: the welcome desk, the live programme, exhibitors along the west "
        "wall and portals to every hall.",
    ),
    (
        "auditorium",
        "Main Auditorium",
        HallKind.AUDITORIUM,
        36,
        28,
        600,
        "Plenary hall with a wide stage, a large screen and 400 seats in three blocks.",
    ),
    (
        "seminar",
        "Seminar Hall B",
        HallKind.AUDITORIUM,
        24,
        18,
        150,
        "A smaller hall for seminars and workshops, with 120 seats.",
    ),
    (
        "posters",
        "Poster Hall",
        HallKind.POSTER_HALL,
        30,
        24,
        300,
        "Twelve poster boards in three rows; authors stand by their boards in poster sessions.",
    ),
]


def _portal(label, x, z, yaw, target):
    return (PlacementKind.PORTAL, label, x, z, yaw, 3, 0.5, 3, {}, target)


def _seats(label, x, z, yaw, rows, columns):
    width, depth = columns * 0.6 + 0.3, rows * 0.9 + 0.2
    props = {"rows": rows, "columns": columns, "row_spacing": 0.9, "seat_spacing": 0.6}
    return (PlacementKind.SEAT_BLOCK, label, x, z, yaw, width, depth, 1, props, None)


def _kiosk(label, x, z, text, *, width=1.2, depth=0.6):
    return (PlacementKind.KIOSK, label, x, z, 0, width, depth, 2.2, {"text": text}, None)


def _room(label, x, z, props, *, width=3, depth=3):
    """A meeting room: a place on the floor where people meet in audio and video."""
    return (PlacementKind.MEETING_ROOM, label, x, z, 0, width, depth, 0, props, None)


def _spawn(x, z, yaw=0):
    return (PlacementKind.SPAWN, "Entrance", x, z, yaw, 1, 1, 0, {}, None)


def _booth(label, z, exhibitor):
    # yaw 90: the booth's front (local +z) faces into the lobby, away from the west wall
    return (PlacementKind.BOOTH, label, -16, z, 90, 4, 3, 2.5, {"exhibitor": exhibitor}, None)


POSTERS = [
    (
        "SGLT2 inhibitors and heart-failure readmissions: a regional cohort",
        "A. Okafor, MD; L. Chen, MD",
    ),
    (
        "Point-of-care ultrasound for suspected pneumothorax in the emergency department",
        "M. Rossi, MD; J. Patel, DO",
    ),
    (
        "Early mobilisation after hip-fracture surgery in adults over 80",
        "S. Lindqvist, PT; H. Nakamura, MD",
    ),
    (
        "Remote blood-pressure monitoring for postpartum hypertension",
        "R. Adeyemi, MD; C. Dubois, RN",
    ),
    (
        "Procalcitonin-guided antibiotic de-escalation in community-acquired pneumonia",
        "D. Kowalski, MD; E. García, PharmD",
    ),
    (
        "Continuous glucose monitoring in hospitalised adults with type 2 diabetes",
        "N. Haddad, MD; P. O'Brien, NP",
    ),
    (
        "Deprescribing benzodiazepines in primary care: a quality-improvement project",
        "T. Müller, MD; K. Singh, PharmD",
    ),
    (
        "Delirium screening with the 4AT on the acute medical unit",
        "F. Costa, MD; G. Andersson, RN",
    ),
    (
        "Transcatheter versus surgical aortic valve replacement: five-year outcomes",
        "Y. Tanaka, MD; B. Wright, MD",
    ),
    (
        "Uptake of low-dose CT lung-cancer screening in rural practices",
        "L. Moreau, MD; A. Mensah, PA",
    ),
    (
        "Sepsis bundle compliance before and after an electronic alert",
        "V. Ivanova, MD; M. Johnson, RN",
    ),
    (
        "Telehealth follow-up after acute ischaemic stroke",
        "C. Álvarez, MD; R. Kim, MD",
    ),
]


def _poster_boards():
    boards = []
    for index, (title, authors) in enumerate(POSTERS):
        row, column = divmod(index, 4)
        x, z = -7.5 + column * 6, -6 + row * 6
        props = {"title": title, "authors": authors}
        boards.append(
            (PlacementKind.POSTER_BOARD, f"P-{index + 1:02d}", x, z, 0, 2.4, 0.3, 2.2, props, None)
        )
    return boards


PLACEMENTS = {
    "lobby": [
        _spawn(0, 12),
        _portal("To the Main Auditorium", -10, -14.5, 0, "auditorium"),
        _portal("To Seminar Hall B", 10, -14.5, 0, "seminar"),
        _portal("To the Poster Hall", 19.5, 0, 270, "posters"),
        _kiosk(
            "Welcome desk",
            0,
            5,
            "Welcome to the congress. Badges, CME questions and help: ask at this desk.",
            width=4,
            depth=1.2,
        ),
        _kiosk("Now & next", -5, -7, "What is on now and next in every hall."),
        _kiosk("Venue map", 5, -7, "Auditorium and Seminar Hall B to the north; posters east."),
        _booth("Booth 1", -7, "CardioMed Devices"),
        _booth("Booth 2", 0, "NeuroScan Imaging"),
        _booth("Booth 3", 7, "Society Membership & CME Office"),
        _room("Booth 1 meeting spot", -12, -7, {"room": "booth", "board": "Booth 1"}),
        _room("Coffee lounge", -12, 9, {"room": "lounge", "capacity": 8}, width=4, depth=4),
    ],
    "auditorium": [
        (PlacementKind.STAGE, "Stage", 0, -11, 0, 14, 5, 1, {}, None),
        (PlacementKind.SCREEN, "Main screen", 0, -13.5, 0, 12, 0.2, 6.75, {"elevation": 2.5}, None),
        _seats("Centre stalls", 0, -1, 0, 10, 20),
        _seats("West stalls", -11.5, -0.5, -12, 10, 10),
        _seats("East stalls", 11.5, -0.5, 12, 10, 10),
        _kiosk("Session info", 9, 11, "Speakers, disclosures and CME credit for this hall."),
        _portal("To the lobby", 0, 13.5, 180, "lobby"),
        _spawn(0, 11.5),
    ],
    "seminar": [
        (PlacementKind.STAGE, "Stage", 0, -7, 0, 10, 3, 0.6, {}, None),
        (PlacementKind.SCREEN, "Screen", 0, -8.7, 0, 8, 0.2, 4.5, {"elevation": 1.8}, None),
        _seats("West seats", -4.5, 0.5, 0, 6, 10),
        _seats("East seats", 4.5, 0.5, 0, 6, 10),
        _portal("To the lobby", 0, 8.5, 180, "lobby"),
        _spawn(0, 7),
        _room(
            "Workshop table A",
            -9.5,
            6.5,
            {"room": "workshop", "capacity": 4, "topic": "Echo hands-on"},
        ),
        _room("Workshop table B", -9.5, -6.5, {"room": "breakout", "capacity": 4}),
        _room("Ask the expert", 9.5, 6.5, {"room": "expert", "capacity": 2, "slot_minutes": 10}),
    ],
    "posters": [
        *_poster_boards(),
        _kiosk("Poster index", -12, -9, "Twelve posters; P-01 to P-04 front row, west to east."),
        _portal("To the lobby", -14.5, 0, 90, "lobby"),
        _spawn(-12, 0, 270),
        _room("At poster P-01", -7.5, -4.5, {"room": "poster", "board": "P-01"}, depth=1.5),
    ],
}

# (kind, label, polygon [[x, z], ...] in metres, props)
ZoneRow = tuple[ZoneKind, str, list[list[float]], dict[str, Any]]

ZONES: dict[str, list[ZoneRow]] = {
    "lobby": [
        (ZoneKind.QUIET, "Quiet corner", [[12, 8], [19, 8], [19, 14], [12, 14]], {}),
    ],
    "auditorium": [
        (
            ZoneKind.PODIUM,
            "Podium",
            [[-7, -13.5], [7, -13.5], [7, -8.5], [-7, -8.5]],
            {"roles": ["moderator", "speaker", "staff"]},
        ),
        (ZoneKind.AUDIENCE, "Audience", [[-17, -7], [17, -7], [17, 6], [-17, 6]], {}),
        (
            ZoneKind.RESTRICTED,
            "Backstage",
            [[-18, -14], [-12, -14], [-12, -9], [-18, -9]],
            {"roles": ["speaker", "staff"]},
        ),
    ],
    "seminar": [
        (
            ZoneKind.PODIUM,
            "Podium",
            [[-5, -8.5], [5, -8.5], [5, -5.5], [-5, -5.5]],
            {"roles": ["moderator", "speaker", "staff"]},
        ),
        (
            ZoneKind.CAPACITY,
            "Hall limit",
            [[-12, -9], [12, -9], [12, 9], [-12, 9]],
            {"max_people": 150},
        ),
    ],
    "posters": [
        (ZoneKind.QUIET, "Reading corner", [[9, 8], [15, 8], [15, 12], [9, 12]], {}),
    ],
}


def build_demo_venue() -> Venue:
    """Create or refresh the demo venue and publish its layout; twice gives the same rows."""
    with transaction.atomic():
        venue, _ = Venue.objects.update_or_create(
            slug=DEMO_VENUE_SLUG,
            defaults={
                "name": "MedVenue Congress Centre",
                "description": "A bright congress centre: a central lobby, a main auditorium, "
                "a seminar hall and a poster hall.",
            },
        )
        halls = _build_halls(venue)
        for slug, hall in halls.items():
            _build_placements(hall, PLACEMENTS[slug], halls)
            _build_zones(hall, ZONES[slug])
        publish_layout(venue)
    venue.refresh_from_db()
    return venue


def _build_halls(venue: Venue) -> dict[str, Hall]:
    halls = {}
    for order, (slug, name, kind, width, depth, capacity, description) in enumerate(HALLS):
        halls[slug], _ = Hall.objects.update_or_create(
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
    return halls


def _build_placements(hall: Hall, rows: list, halls: dict[str, Hall]) -> None:
    for order, (kind, label, x, z, yaw, width, depth, height, props, target) in enumerate(rows):
        Placement.objects.update_or_create(
            hall=hall,
            label=label,
            defaults={
                "kind": kind,
                "x": Decimal(str(x)),
                "z": Decimal(str(z)),
                "yaw": Decimal(str(yaw)),
                "width": Decimal(str(width)),
                "depth": Decimal(str(depth)),
                "height": Decimal(str(height)),
                "props": props,
                "target_hall": halls[target] if target else None,
                "order": order,
            },
        )
    hall.placements.exclude(label__in=[row[1] for row in rows]).delete()


def _build_zones(hall: Hall, rows: list[ZoneRow]) -> None:
    for order, (kind, label, polygon, props) in enumerate(rows):
        Zone.objects.update_or_create(
            hall=hall,
            label=label,
            defaults={"kind": kind, "polygon": polygon, "props": props, "order": order},
        )
    hall.zones.exclude(label__in=[row[1] for row in rows]).delete()
