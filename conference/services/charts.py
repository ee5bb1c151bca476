"""Small server-rendered SVG charts (no JavaScript): horizontal bars and time lines.

Every label is escaped; each chart is an `<svg role="img">` with a title and a description,
and the page offers its numbers as CSV next to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from django.utils.html import escape

COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"]
WIDTH = 720
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(height: int, title: str, description: str, body: list[str]) -> str:
    ident = "chart-" + hashlib.sha256(title.encode()).hexdigest()[:10]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'class="chart">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(description)}'
        f"</desc>" + "".join(body) + "</svg>"
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for power in range(0, 12):
        for step in (1, 2, 5):
            candidate: int = step * 10**power
            if candidate >= value:
                return candidate
    return value


def bar_chart(
    labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str, unit: str = ""
) -> str:
    """Horizontal bars: one row per label, one bar per series in each row."""
    rows = max(len(labels), 1)
    per_row = 14 * max(len(series), 1) + 10
    legend = 24 if len(series) > 1 else 0
    height = 30 + legend + rows * per_row + 24
    left, right = 260, WIDTH - 60
    largest = _nice_max(max((v for values in series.values() for v in values), default=0))
    body = [f'<text x="0" y="16" {FONT} font-weight="700">{escape(title)}</text>']
    for index, name in enumerate(series if len(series) > 1 else []):
        x = left + index * 150
        body.append(
            f'<rect x="{x}" y="24" width="12" height="12" fill="{COLORS[index % len(COLORS)]}"/>'
            f'<text x="{x + 16}" y="34" {FONT}>{escape(name)}</text>'
        )
    top = 30 + legend
    if not labels:
        body.append(f'<text x="{left}" y="{top + 16}" {FONT} fill="#4b5563">No data yet.</text>')
    for row, label in enumerate(labels):
        y = top + row * per_row
        short = label if len(label) <= 40 else label[:39] + "…"
        body.append(
            f'<text x="{left - 8}" y="{y + per_row / 2 + 2}" text-anchor="end" {FONT}>'
            f"<title>{escape(label)}</title>{escape(short)}</text>"
        )
        for index, values in enumerate(series.values()):
            value = values[row]
            width = (right - left) * value / largest
            by = y + 4 + index * 14
            body.append(
                f'<rect x="{left}" y="{by}" width="{width:.1f}" height="12" '
                f'fill="{COLORS[index % len(COLORS)]}"/>'
                f'<text x="{left + width + 4:.1f}" y="{by + 10}" {FONT}>'
                f"{_number(value)}{escape(unit)}</text>"
            )
    axis_y = top + rows * per_row + 4
    body.append(
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{axis_y}" stroke="#9ca3af"/>'
        f'<text x="{right}" y="{axis_y + 16}" text-anchor="end" {FONT} fill="#4b5563">'
        f"scale 0–{_number(largest)}{escape(unit)}</text>"
    )
    description = "; ".join(
        f"{label}: " + ", ".join(f"{name} {_number(values[i])}" for name, values in series.items())
        for i, label in enumerate(labels)
    )
    return _svg(height, title, description or "No data yet.", body)


def line_chart(
    times: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str, step: bool = False
) -> str:
    """Lines over time labels (already in the event's time zone), one per series."""
    height, left, right, top, bottom = 300, 50, WIDTH - 20, 50, 250
    largest = _nice_max(max((v for values in series.values() for v in values), default=0))
    body = [f'<text x="0" y="16" {FONT} font-weight="700">{escape(title)}</text>']
    for index, name in enumerate(series):
        x = left + index * 170
        body.append(
            f'<rect x="{x}" y="24" width="12" height="12" fill="{COLORS[index % len(COLORS)]}"/>'
            f'<text x="{x + 16}" y="34" {FONT}>{escape(name)}</text>'
        )
    for fraction in (0, 0.5, 1):
        y = bottom - (bottom - top) * fraction
        body.append(
            f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" {FONT}>'
            f"{_number(largest * fraction)}</text>"
        )
    count = len(times)
    if count == 0:
        body.append(
            f'<text x="{left + 10}" y="{top + 40}" {FONT} fill="#4b5563">No data yet.</text>'
        )

    def x_of(i: int) -> float:
        return left + (right - left) * (i / max(count - 1, 1))

    for i in sorted({0, count // 2, count - 1} if count else set()):
        body.append(
            f'<text x="{x_of(i):.1f}" y="{bottom + 18}" text-anchor="middle" {FONT}>'
            f"{escape(times[i])}</text>"
        )
    for index, values in enumerate(series.values()):
        points: list[str] = []
        for i, value in enumerate(values):
            y = bottom - (bottom - top) * value / largest
            if step and points:
                points.append(f"{x_of(i):.1f},{points[-1].split(',')[1]}")
            points.append(f"{x_of(i):.1f},{y:.1f}")
        color = COLORS[index % len(COLORS)]
        if points:
            body.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                f'points="{" ".join(points)}"/>'
            )
        if len(values) <= 40:  # dots show single values and where each interval starts
            for i, value in enumerate(values):
                y = bottom - (bottom - top) * value / largest
                body.append(f'<circle cx="{x_of(i):.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
    description = "; ".join(
        f"{name}: peak {_number(max(values, default=0))}" for name, values in series.items()
    )
    return _svg(height, title, description or "No data yet.", body)


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
