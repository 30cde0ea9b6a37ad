"""Small SVG line charts drawn on the server (no JavaScript, no inline styles).

The weekly statements show two panels side by side (stacked on a phone), each on its own
scale: the funds' balances, and the weekly budgets, which are a small fraction of the funds
and would lie flat along the bottom of a shared scale. The axes are labelled in the
community's currency, at round amounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from members.currency import EXPONENT, format_amount
from rewards.selectors import ChartPoint

# The drawing's own units. Narrow enough that its labels stay readable when a phone shrinks
# the drawing to its width (about 0.8 at 390 px); the plot box leaves room on the left for
# the amounts and at the bottom for the weeks. (Each panel's title is the page's text.)
WIDTH, HEIGHT = 400, 200
LEFT, RIGHT, TOP, BOTTOM = 84, 12, 12, 34
INTERVALS = 4  # about this many steps between the axis' labels


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    points: str  # "x,y x,y …" for <polyline points>
    number: int = 1  # its colour and legend (series-1 … series-4 in site.css)


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    ticks: list[Tick]  # bottom to top
    first_week: str
    last_week: str
    title: str = ""
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def top_label(self) -> str:
        return self.ticks[-1].label

    @property
    def bottom_label(self) -> str:
        return self.ticks[0].label


@dataclass(frozen=True)
class Panels:
    """Several charts over the same weeks, each on its own scale, with one legend."""

    panels: list[Chart]

    @property
    def series(self) -> list[Series]:
        return [s for panel in self.panels for s in panel.series]

    @property
    def first_week(self) -> str:
        return self.panels[0].first_week if self.panels else ""

    @property
    def last_week(self) -> str:
        return self.panels[0].last_week if self.panels else ""


def nice_step(span: int, currency: str) -> int:
    """A round step (1, 2 or 5 times a power of ten major units, at least one major unit)
    that divides ``span`` minor units into at most ``INTERVALS`` steps."""
    step: int = 10 ** EXPONENT[currency]
    while True:
        for factor in (1, 2, 5):
            if step * factor * INTERVALS >= span:
                return step * factor
        step *= 10


def axis_amount(amount: int, currency: str) -> str:
    """An axis label: the amount in the community's currency, without the minor units when
    they are zero (``¥1,500`` rather than ``¥1,500.00``)."""
    text = format_amount(amount, currency)
    exponent = EXPONENT[currency]
    zeros = "." + "0" * exponent
    if exponent and text.endswith(zeros):
        text = text[: -len(zeros)]
    return text


def scale(values: list[int], currency: str) -> tuple[int, int, int]:
    """(bottom, top, step) of an axis that holds every value and zero, at round amounts."""
    low, high = min([*values, 0]), max([*values, 0])
    step = nice_step(max(high - low, 1), currency)
    bottom = (low // step) * step
    top = max(-(-high // step) * step, bottom + step)
    return bottom, top, step


def line_chart(
    points: list[ChartPoint],
    labels: dict[str, str],
    currency: str,
    *,
    title: str = "",
    first_number: int = 1,
) -> Chart:
    keys = list(labels)
    bottom, top, step = scale([getattr(p, k) for p in points for k in keys], currency)
    span = top - bottom
    plot_top, plot_bottom = TOP, HEIGHT - BOTTOM
    x_step = (WIDTH - RIGHT - LEFT) / max(len(points) - 1, 1)

    def y(value: int) -> float:
        return float(round(plot_bottom - (value - bottom) * (plot_bottom - plot_top) / span, 1))

    series = [
        Series(
            key=key,
            label=labels[key],
            points=" ".join(
                f"{round(LEFT + i * x_step, 1)},{y(getattr(p, key))}" for i, p in enumerate(points)
            ),
            number=first_number + n,
        )
        for n, key in enumerate(keys)
    ]
    ticks = [Tick(y=y(v), label=axis_amount(v, currency)) for v in range(bottom, top + 1, step)]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        ticks=ticks,
        first_week=str(points[0].week) if points else "",
        last_week=str(points[-1].week) if points else "",
        title=title,
    )


def statements_chart(
    points: list[ChartPoint],
    *,
    funds: tuple[str, dict[str, str]],
    budgets: tuple[str, dict[str, str]],
    currency: str,
) -> Panels:
    """The funds' balances and the weekly budgets, each ``(title, {key: label})``, in two
    panels with their own scales."""
    first = line_chart(points, funds[1], currency, title=funds[0])
    second = line_chart(
        points, budgets[1], currency, title=budgets[0], first_number=len(funds[1]) + 1
    )
    return Panels(panels=[first, second])
