"""Half-open time intervals [start, end) and the wall-clock allocation across sessions."""

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import pairwise

Interval = tuple[datetime, datetime]

_SECOND = timedelta(seconds=1)


def seconds_between(start: datetime, end: datetime) -> int:
    return (end - start) // _SECOND


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping, non-touching union; empty intervals dropped."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Intersection of two merged interval lists."""
    result: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def subtract(a: Sequence[Interval], b: Iterable[Interval]) -> list[Interval]:
    """The parts of `a` outside every interval of `b` (both any lists; result merged)."""
    result = merge(a)
    for cut_start, cut_end in merge(b):
        kept: list[Interval] = []
        for start, end in result:
            if start < cut_start:
                kept.append((start, min(end, cut_start)))
            if end > cut_end:
                kept.append((max(start, cut_end), end))
        result = merge(kept)
    return result


def total_seconds(intervals: Iterable[Interval]) -> int:
    return sum(seconds_between(start, end) for start, end in intervals)


def allocate_wall_clock(
    eligible: Mapping[str, Sequence[Interval]], caps: Mapping[str, int]
) -> dict[str, int]:
    """Credited seconds per session: the most wall-clock time that can be credited when every
    second counts for at most one session and no session exceeds its cap.

    This is a maximum flow: source -> each elementary wall-clock piece (capacity: its length)
    -> every session that covers it -> sink (capacity: the session's cap). The total is unique;
    the split between parallel sessions is one optimal split, chosen deterministically by the
    order of `eligible`. Without parallel sessions it equals min(eligible, cap) per session.
    """
    credited = dict.fromkeys(eligible, 0)
    for _start, _end, split in allocate_pieces(eligible, caps):
        for sid, seconds in split.items():
            credited[sid] += seconds
    return credited


def allocate_pieces(
    eligible: Mapping[str, Sequence[Interval]], caps: Mapping[str, int]
) -> list[tuple[datetime, datetime, dict[str, int]]]:
    """The same maximum flow as `allocate_wall_clock`, piece by piece: for every elementary
    wall-clock piece (start, end), the seconds of it credited to each session (only sessions
    with seconds > 0; pieces nobody is credited for are left out). This is the path through
    the timeline: which session each credited minute belongs to."""
    sessions = list(eligible)
    pieces = _elementary_pieces(eligible)
    graph = _FlowGraph(2 + len(pieces) + len(sessions))
    source, sink = 0, 1
    session_node = {sid: 2 + len(pieces) + n for n, sid in enumerate(sessions)}
    piece_edges = []
    for n, (start, end, covering) in enumerate(pieces):
        length = seconds_between(start, end)
        graph.add_edge(source, 2 + n, length)
        piece_edges.append(
            [(sid, graph.add_edge(2 + n, session_node[sid], length)) for sid in covering]
        )
    for sid in sessions:
        graph.add_edge(session_node[sid], sink, caps[sid])
    graph.max_flow(source, sink)
    result = []
    for (start, end, _covering), edges in zip(pieces, piece_edges, strict=True):
        split = {sid: graph.flow(edge) for sid, edge in edges if graph.flow(edge) > 0}
        if split:
            result.append((start, end, split))
    return result


def _elementary_pieces(
    eligible: Mapping[str, Sequence[Interval]],
) -> list[tuple[datetime, datetime, list[str]]]:
    """Cut the timeline at every boundary: (start, end, sessions covering it) for covered
    pieces."""
    points = sorted({p for intervals in eligible.values() for i in intervals for p in i})
    pieces = []
    for start, end in pairwise(points):
        covering = [
            sid
            for sid, intervals in eligible.items()
            if any(s <= start and end <= e for s, e in intervals)
        ]
        if covering:
            pieces.append((start, end, covering))
    return pieces


class _FlowGraph:
    """Edmonds-Karp on integer capacities (graphs here have at most a few hundred nodes)."""

    def __init__(self, size: int) -> None:
        self.adjacency: list[list[int]] = [[] for _ in range(size)]
        self.to: list[int] = []
        self.capacity: list[int] = []
        self.original: list[int] = []

    def add_edge(self, tail: int, head: int, capacity: int) -> int:
        index = len(self.to)
        for a, b, c in ((tail, head, capacity), (head, tail, 0)):
            self.adjacency[a].append(len(self.to))
            self.to.append(b)
            self.capacity.append(c)
            self.original.append(c)
        return index

    def flow(self, edge: int) -> int:
        return self.original[edge] - self.capacity[edge]

    def max_flow(self, source: int, sink: int) -> int:
        total = 0
        while (path := self._augmenting_path(source, sink)) is not None:
            pushed = min(self.capacity[e] for e in path)
            for e in path:
                self.capacity[e] -= pushed
                self.capacity[e ^ 1] += pushed
            total += pushed
        return total

    def _augmenting_path(self, source: int, sink: int) -> list[int] | None:
        via: dict[int, int] = {source: -1}
        queue = deque([source])
        while queue and sink not in via:
            node = queue.popleft()
            for e in self.adjacency[node]:
                if self.capacity[e] > 0 and self.to[e] not in via:
                    via[self.to[e]] = e
                    queue.append(self.to[e])
        if sink not in via:
            return None
        path = []
        node = sink
        while node != source:
            path.append(via[node])
            node = self.to[via[node] ^ 1]
        return path
