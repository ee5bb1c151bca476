"""Plane geometry of a hall floor, in metres: x east, z south, yaw counter-clockwise seen from
above (three.js `rotation.y`), 0 facing -z.

A placement's footprint is the rectangle `width` (along its local x) by `depth` (local z),
centred on (x, z) and turned by `yaw`.
"""

import math
from collections.abc import Sequence

Point = tuple[float, float]
EPSILON = 1e-6
# Solids may touch; they overlap when they share more than this many metres along every axis.
OVERLAP_TOLERANCE = 0.001


def footprint(x: float, z: float, yaw: float, width: float, depth: float) -> list[Point]:
    """The four corners of a turned rectangle, in order around it."""
    angle = math.radians(yaw)
    cos, sin = math.cos(angle), math.sin(angle)
    half_w, half_d = width / 2, depth / 2
    corners = [(-half_w, -half_d), (half_w, -half_d), (half_w, half_d), (-half_w, half_d)]
    return [(x + lx * cos + lz * sin, z - lx * sin + lz * cos) for lx, lz in corners]


def rectangle(width: float, depth: float) -> list[Point]:
    """A floor of `width` by `depth` centred on the origin."""
    return footprint(0, 0, 0, width, depth)


def _axes(polygon: Sequence[Point]) -> list[Point]:
    axes = []
    for (ax, az), (bx, bz) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        edge_x, edge_z = bx - ax, bz - az
        length = math.hypot(edge_x, edge_z) or 1.0
        axes.append((-edge_z / length, edge_x / length))
    return axes


def _project(polygon: Sequence[Point], axis: Point) -> tuple[float, float]:
    values = [px * axis[0] + pz * axis[1] for px, pz in polygon]
    return min(values), max(values)


def convex_overlap(first: Sequence[Point], second: Sequence[Point]) -> bool:
    """Whether two convex polygons share area (separating axis theorem); touching is fine."""
    for axis in _axes(first) + _axes(second):
        low_a, high_a = _project(first, axis)
        low_b, high_b = _project(second, axis)
        if min(high_a, high_b) - max(low_a, low_b) <= OVERLAP_TOLERANCE:
            return False
    return True


def _on_segment(point: Point, a: Point, b: Point) -> bool:
    cross = (b[0] - a[0]) * (point[1] - a[1]) - (b[1] - a[1]) * (point[0] - a[0])
    if abs(cross) > EPSILON * max(1.0, math.dist(a, b)):
        return False
    return (
        min(a[0], b[0]) - EPSILON <= point[0] <= max(a[0], b[0]) + EPSILON
        and min(a[1], b[1]) - EPSILON <= point[1] <= max(a[1], b[1]) + EPSILON
    )


def contains_point(polygon: Sequence[Point], point: Point) -> bool:
    """Whether `point` lies inside `polygon` or on its outline (ray casting)."""
    edges = list(zip(polygon, [*polygon[1:], polygon[0]], strict=True))
    if any(_on_segment(point, a, b) for a, b in edges):
        return True
    px, pz = point
    inside = False
    for (ax, az), (bx, bz) in edges:
        if (az > pz) != (bz > pz):
            crossing = ax + (pz - az) * (bx - ax) / (bz - az)
            if px < crossing:
                inside = not inside
    return inside


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segments ab and cd properly cross (not merely touch)."""

    def side(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2 = side(c, d, a), side(c, d, b)
    d3, d4 = side(a, b, c), side(a, b, d)
    return d1 * d2 < -EPSILON and d3 * d4 < -EPSILON


def contains_polygon(outer: Sequence[Point], inner: Sequence[Point]) -> bool:
    """Whether `inner` lies within `outer` (which may be concave)."""
    if not all(contains_point(outer, point) for point in inner):
        return False
    outer_edges = list(zip(outer, [*outer[1:], outer[0]], strict=True))
    inner_edges = list(zip(inner, [*inner[1:], inner[0]], strict=True))
    return not any(_segments_cross(a, b, c, d) for a, b in inner_edges for c, d in outer_edges)


def bounds(polygon: Sequence[Point]) -> tuple[float, float, float, float]:
    """(min x, min z, max x, max z)."""
    xs = [p[0] for p in polygon]
    zs = [p[1] for p in polygon]
    return min(xs), min(zs), max(xs), max(zs)
