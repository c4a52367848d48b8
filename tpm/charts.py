"""Server-side SVG chart geometry: pure functions from series to coordinates.

Templates in ``templates/components/`` draw the SVG (``role="img"`` with a title) and a data
table behind it, so charts need no JavaScript, pass a strict CSP and stay accessible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

WIDTH = 640
HEIGHT = 260
PAD_LEFT = 44
PAD_RIGHT = 26
PAD_TOP = 12
PAD_BOTTOM = 34

Number = int | float | Decimal


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Line:
    name: str
    css: str  # class name giving the colour and dash
    points: str  # "x,y x,y ..." for <polyline>
    dots: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str


@dataclass(frozen=True)
class Area:
    name: str
    css: str
    path: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    lines: list[Line] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)


def nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def _y_ticks(top: float, count: int = 4) -> list[tuple[float, str]]:
    ticks = []
    for n in range(count + 1):
        value = top * n / count
        label = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
        ticks.append((value, label))
    return ticks


def _frame(y_max: float) -> tuple[float, list[Tick], float, float]:
    top = nice_max(y_max)
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    ticks = [
        Tick(position=HEIGHT - PAD_BOTTOM - plot_h * v / top, label=label)
        for v, label in _y_ticks(top)
    ]
    return top, ticks, plot_h, float(WIDTH - PAD_LEFT - PAD_RIGHT)


def _x_labels(labels: Sequence[str], xs: Sequence[float], limit: int = 8) -> list[Tick]:
    if not labels:
        return []
    step = max(1, math.ceil(len(labels) / limit))
    return [Tick(position=xs[i], label=labels[i]) for i in range(0, len(labels), step)]


def line_chart(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[Number | None]]]
) -> Chart:
    """Lines over shared x labels; ``None`` values break nothing, they are skipped."""
    values = [float(v) for _, _, vs in series for v in vs if v is not None]
    top, y_ticks, plot_h, plot_w = _frame(max(values, default=0.0))
    n = len(labels)
    xs = [PAD_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    lines = []
    for name, css, vs in series:
        coords = [
            (xs[i], HEIGHT - PAD_BOTTOM - plot_h * float(v) / top)
            for i, v in enumerate(vs)
            if v is not None
        ]
        lines.append(
            Line(
                name=name,
                css=css,
                points=" ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
                dots=[(round(x, 1), round(y, 1)) for x, y in coords] if len(coords) <= 31 else [],
            )
        )
    return Chart(
        WIDTH,
        HEIGHT,
        PAD_LEFT,
        WIDTH - PAD_RIGHT,
        PAD_TOP,
        HEIGHT - PAD_BOTTOM,
        _x_labels(labels, xs),
        y_ticks,
        lines=lines,
    )


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[Number]]],
    reference: tuple[str, str, Number] | None = None,
) -> Chart:
    """Grouped bars per label, with an optional horizontal reference line (e.g. the mean)."""
    values = [float(v) for _, _, vs in series for v in vs]
    if reference is not None:
        values.append(float(reference[2]))
    top, y_ticks, plot_h, plot_w = _frame(max(values, default=0.0))
    n = max(1, len(labels))
    group = plot_w / n
    bar_w = min(28.0, group * 0.8 / max(1, len(series)))
    bars: list[Bar] = []
    centres = []
    for i, label in enumerate(labels):
        start = PAD_LEFT + group * i + (group - bar_w * len(series)) / 2
        centres.append(PAD_LEFT + group * i + group / 2)
        for s, (name, css, vs) in enumerate(series):
            h = plot_h * float(vs[i]) / top
            bars.append(
                Bar(
                    x=round(start + s * bar_w, 1),
                    y=round(HEIGHT - PAD_BOTTOM - h, 1),
                    width=round(bar_w - 2, 1),
                    height=round(h, 1),
                    css=css,
                    label=f"{label} {name}: {vs[i]}",
                )
            )
    lines = []
    if reference is not None:
        y = HEIGHT - PAD_BOTTOM - plot_h * float(reference[2]) / top
        lines.append(
            Line(
                name=reference[0],
                css=reference[1],
                points=f"{PAD_LEFT},{y:.1f} {WIDTH - PAD_RIGHT},{y:.1f}",
            )
        )
    return Chart(
        WIDTH,
        HEIGHT,
        PAD_LEFT,
        WIDTH - PAD_RIGHT,
        PAD_TOP,
        HEIGHT - PAD_BOTTOM,
        _x_labels(labels, centres),
        y_ticks,
        lines=lines,
        bars=bars,
    )


def stacked_area_chart(
    labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[Number]]]
) -> Chart:
    """Stacked areas (first series at the bottom), e.g. cumulative flow."""
    n = len(labels)
    totals = [sum(float(vs[i]) for _, _, vs in series) for i in range(n)]
    top, y_ticks, plot_h, plot_w = _frame(max(totals, default=0.0))
    xs = [PAD_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    base = [0.0] * n
    areas = []
    for name, css, vs in series:
        upper = [base[i] + float(vs[i]) for i in range(n)]

        def y(value: float) -> float:
            return HEIGHT - PAD_BOTTOM - plot_h * value / top

        forward = " ".join(f"L{xs[i]:.1f},{y(upper[i]):.1f}" for i in range(n))
        back = " ".join(f"L{xs[i]:.1f},{y(base[i]):.1f}" for i in reversed(range(n)))
        path = f"M{xs[0]:.1f},{y(base[0]):.1f} {forward} {back} Z" if n else ""
        areas.append(Area(name=name, css=css, path=path))
        base = upper
    return Chart(
        WIDTH,
        HEIGHT,
        PAD_LEFT,
        WIDTH - PAD_RIGHT,
        PAD_TOP,
        HEIGHT - PAD_BOTTOM,
        _x_labels(labels, xs),
        y_ticks,
        areas=areas,
    )
