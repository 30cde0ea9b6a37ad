"""A small SVG line chart drawn on the server (no JavaScript, no inline styles)."""

from __future__ import annotations

from dataclasses import dataclass

from members.currency import format_amount
from rewards.selectors import ChartPoint

WIDTH, HEIGHT, PAD = 720, 260, 36


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    points: str  # "x,y x,y …" for <polyline points>


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    top_label: str
    first_week: str
    last_week: str


def line_chart(points: list[ChartPoint], labels: dict[str, str], currency: str) -> Chart:
    keys = list(labels)
    values = [getattr(p, k) for p in points for k in keys] or [0]
    top = max(max(values), 1)
    bottom = min(min(values), 0)
    span = top - bottom or 1
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)

    def y(value: int) -> float:
        return float(round(HEIGHT - PAD - (value - bottom) * (HEIGHT - 2 * PAD) / span, 1))

    series = [
        Series(
            key=key,
            label=labels[key],
            points=" ".join(
                f"{round(PAD + i * step, 1)},{y(getattr(p, key))}" for i, p in enumerate(points)
            ),
        )
        for key in keys
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        top_label=format_amount(top, currency),
        first_week=str(points[0].week) if points else "",
        last_week=str(points[-1].week) if points else "",
    )
