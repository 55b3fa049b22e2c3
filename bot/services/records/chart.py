"""A lab analyte's trend as a PNG, readable on a phone: 1080×720, large fonts.

What a patient needs to read it (issue 14): each point's value written on it, the dates on the
x axis, round y ticks, the norm band always inside the y range (so a small change within the
norm is not drawn as a cliff), and points judged against the patient's own target where the
backend gives one (HbA1c < 7 % for a diabetic), else against the lab norm.

Matplotlib runs headless (Agg canvas on a bare `Figure`, no pyplot state), so charts can be
drawn in worker threads concurrently.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from backend_client.models import AnalyteHistory
from bot.services.records.view import number_text

WIDTH_PX, HEIGHT_PX, DPI = 1080, 720, 100
_LINE = "#1f5fa8"
_BAND = "#3fa34d"
_IN = "#1f5fa8"
_OUT = "#c62828"
_TARGET = "#6a1b9a"
_MOST_LABELLED = 12  # more points than this: label every few, the first, last and extremes
_MOST_DATED = 8  # more points than this: month ticks instead of each point's date

# The backend's units are Russian; an English reader gets the international symbols.
_UNITS_EN = {
    "г/л": "g/L",
    "ммоль/л": "mmol/L",
    "мкмоль/л": "µmol/L",
    "пмоль/л": "pmol/L",
    "Ед/л": "U/L",
    "мм/ч": "mm/h",
    "нг/мл": "ng/mL",
    "мМЕ/л": "mIU/L",
    "×10¹²/л": "×10¹²/L",
    "×10⁹/л": "×10⁹/L",
    "в п/зр": "per HPF",
}


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Translated words on the chart."""

    title: str
    reference: str
    target: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """The patient's own target range for the analyte (either end may be open)."""

    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class Drawn:
    """The chart and what it shows (the texts drawn, the y range, which points are astray)."""

    png: bytes
    title: str
    point_labels: list[str]
    x_labels: list[str]
    y_labels: list[str]
    y_limits: tuple[float, float]
    outside: list[bool]
    """Per point: outside the target (or, without one, outside the norm) — drawn red."""
    legend: list[str]


def patient_target(history: object) -> Target | None:
    """The patient's target where the backend gives one (`target_low` / `target_high` on the
    history, once the protocol carries them); else None and the lab norm is the measure."""
    low, high = getattr(history, "target_low", None), getattr(history, "target_high", None)
    low = float(low) if isinstance(low, int | float) else None
    high = float(high) if isinstance(high, int | float) else None
    return None if low is None and high is None else Target(low, high)


def unit_text(unit: str | None, locale: str) -> str:
    if not unit:
        return ""
    return unit if locale.startswith("ru") else _UNITS_EN.get(unit, unit)


def _bounds_text(low: float | None, high: float | None, locale: str) -> str:
    if low is not None and high is not None:
        return f"{number_text(low, locale)}–{number_text(high, locale)}"
    if high is not None:
        return f"< {number_text(high, locale)}"
    return f"> {number_text(low, locale)}" if low is not None else ""


def y_limits(values: Sequence[float], marks: Sequence[float]) -> tuple[float, float]:
    """Room for the data and every band edge (`marks`): a change inside the norm stays small;
    without a norm, at least ±10 % around the values; above, room for the point labels."""
    lo, hi = min(*values, *marks), max(*values, *marks)
    span = hi - lo
    if not marks:
        span = max(span, 0.2 * max(abs(v) for v in values))
    span = span or 1.0
    bottom, top = lo - 0.12 * span, hi + 0.2 * span
    if lo >= 0 > bottom:
        bottom = 0.0
    return bottom, top


def draw_trend(
    history: AnalyteHistory, labels: ChartLabels, locale: str, target: Target | None = None
) -> Drawn:
    """The analyte's values over time, the norm band shaded, the target dashed; in `locale`."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    points = history.points
    days = [p.date.toordinal() for p in points]
    values = [p.value for p in points]
    low, high = history.ref_low, history.ref_high
    marks = [v for v in (low, high) if v is not None]
    if target is not None:
        marks += [v for v in (target.low, target.high) if v is not None]
    bottom, top = y_limits(values, marks)
    legend: list[str] = []
    if low is not None or high is not None:
        band = labels.reference
        axes.axhspan(
            low if low is not None else bottom,
            high if high is not None else top,
            color=_BAND,
            alpha=0.15,
            label=band,
        )
        legend.append(band)
    judge = (target.low, target.high) if target is not None else (low, high)
    if target is not None:
        bounds = _bounds_text(target.low, target.high, locale)
        unit = unit_text(history.unit, locale)
        text = f"{labels.target} {bounds}{' ' + unit if unit else ''}".strip()
        edges = [edge for edge in (target.low, target.high) if edge is not None]
        for index, edge in enumerate(edges):
            name = text if index == 0 else "_nolegend_"  # one legend entry for both edges
            axes.axhline(edge, color=_TARGET, linewidth=2.5, linestyle="--", label=name)
        legend.append(text)
    outside = [
        (judge[1] is not None and v > judge[1]) or (judge[0] is not None and v < judge[0])
        for v in values
    ]
    axes.plot(days, values, color=_LINE, linewidth=3, zorder=2)
    axes.scatter(
        days, values, c=[_OUT if o else _IN for o in outside], s=110, zorder=3, edgecolors="white"
    )
    point_labels = _label_points(axes, days, values, outside, locale)
    x_labels = _date_axis(axes, [p.date for p in points], locale)
    axes.set_ylim(bottom, top)
    axes.margins(x=0.06)  # the first and last dates whole, not cut at the edges
    ticks = [
        t
        for t in MaxNLocator(nbins=6, steps=[1, 2, 5, 10]).tick_values(bottom, top)
        if bottom <= t <= top
    ]
    y_labels = [number_text(round(t, 6), locale) for t in ticks]
    axes.set_yticks(ticks, y_labels)
    axes.tick_params(labelsize=17)
    axes.grid(True, alpha=0.3)
    unit = unit_text(history.unit, locale)
    title = f"{labels.title}, {unit}" if unit else labels.title
    axes.set_title(title, fontsize=22, pad=14, loc="left")
    if legend:
        # Above the plot, right of the title: never over the points.
        axes.legend(fontsize=15, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)
    # Fixed margins: `tight_layout` would measure every label and double the drawing time.
    figure.subplots_adjust(left=0.08, right=0.97, top=0.88, bottom=0.13)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return Drawn(
        buffer.getvalue(), title, point_labels, x_labels, y_labels, (bottom, top), outside, legend
    )


def trend_png(
    history: AnalyteHistory, labels: ChartLabels, locale: str, target: Target | None = None
) -> bytes:
    return draw_trend(history, labels, locale, target).png


def _label_points(
    axes: Axes, days: list[int], values: list[float], outside: list[bool], locale: str
) -> list[str]:
    """Each point's value above it. With more points than fit side by side, every few points
    evenly (and always the first, last, lowest and highest): the labels must not hide the line."""
    count = len(values)
    shown = set(range(count))
    if count > _MOST_LABELLED:
        step = -(-count // (_MOST_LABELLED - 2))
        shown = {0, count - 1, values.index(min(values)), values.index(max(values))}
        shown |= set(range(0, count, step))
    texts: list[str] = []
    for i in sorted(shown):
        text = number_text(values[i], locale)
        axes.annotate(
            text,
            (days[i], values[i]),
            xytext=(0, 13),
            textcoords="offset points",
            ha="center",
            fontsize=15,
            fontweight="bold",
            color=_OUT if outside[i] else "#222222",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )
        texts.append(text)
    return texts


def _date_axis(axes: Axes, dates: list[date], locale: str) -> list[str]:
    """Each point's date (day, month / year) when few; else month starts."""
    if len(dates) <= _MOST_DATED:
        ticks = dates
        texts = [f"{format_date(d, format='d MMM', locale=locale)}\n{d.year}" for d in ticks]
    else:
        ticks = month_ticks(dates[0], dates[-1])
        texts = [format_date(t, format="LLL yyyy", locale=locale) for t in ticks]
    axes.set_xticks([t.toordinal() for t in ticks], texts)
    return texts


def month_ticks(first: date, last: date, most: int = 5) -> list[date]:
    """First days of months between the two dates, evenly thinned to at most `most`."""
    months = (last.year - first.year) * 12 + last.month - first.month
    step = max(1, -(-months // most))
    ticks: list[date] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        day = date(year, month, 1)
        if day >= first or (not ticks and months == 0):
            ticks.append(day)
        month += step
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return ticks or [first]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
