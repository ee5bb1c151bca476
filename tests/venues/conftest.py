import struct
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import HallFactory
from venues.models import HallKind, Placement, PlacementKind, Zone, ZoneKind


class PlacementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Placement

    hall = factory.SubFactory(HallFactory)
    kind = PlacementKind.STAGE
    label = factory.Sequence(lambda n: f"Placement {n}")
    x = Decimal("0")
    z = Decimal("0")
    yaw = Decimal("0")
    width = Decimal("2")
    depth = Decimal("2")
    height = Decimal("1")
    props = factory.LazyFunction(dict)


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Zone

    hall = factory.SubFactory(HallFactory)
    kind = ZoneKind.QUIET
    label = factory.Sequence(lambda n: f"Zone {n}")
    polygon = factory.LazyFunction(lambda: [[-1, -1], [1, -1], [1, 1], [-1, 1]])
    props = factory.LazyFunction(dict)


def make_venue_with_lobby(*, halls: int = 1, **hall_kwargs):
    """A lobby (30 x 20 m) and `halls` further halls, each joined to the lobby both ways."""
    lobby = HallFactory(kind=HallKind.LOBBY, slug="lobby", name="Lobby", width_m=30, depth_m=20)
    others = []
    for index in range(halls):
        hall = HallFactory(venue=lobby.venue, width_m=30, depth_m=20, **hall_kwargs)
        portal_there(lobby, hall, x=-12 + index * 4)
        portal_there(hall, lobby, x=0)
        others.append(hall)
    return lobby.venue, lobby, others


def portal_there(hall, target, *, x=0, z=-9.5, label=None):
    return PlacementFactory(
        hall=hall,
        kind=PlacementKind.PORTAL,
        label=label or f"To {target.name}",
        x=Decimal(x),
        z=Decimal(str(z)),
        width=Decimal("3"),
        depth=Decimal("0.5"),
        height=Decimal("3"),
        target_hall=target,
    )


def glb_bytes(*, body: bytes = b"\0" * 20, version: int = 2, declared: int | None = None):
    length = 12 + len(body) if declared is None else declared
    return struct.pack("<4sII", b"glTF", version, length) + body


def glb_upload(content: bytes, name: str = "shell.glb") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="model/gltf-binary")


def parse_svg(svg: str):
    """Parse a floor plan we rendered ourselves (trusted input) as XML."""
    import xml.etree.ElementTree as ET

    return ET.fromstring(svg)  # noqa: S314
