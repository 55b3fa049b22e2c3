"""A lab analyte's trend as a PNG, readable on a phone: 1080×720, large fonts.

Matplotlib runs headless (Agg canvas on a bare `Figure`, no pyplot state), so charts can be
drawn in worker threads concurrently.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from backend_client.models import AnalyteHistory

WIDTH_PX, HEIGHT_PX, DPI = 1080, 720, 100
_LINE = "#1f5fa8"
_BAND = "#3fa34d"
_OUT = "#c62828"


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Translated words on the chart."""

    title: str
    reference: str


def trend_png(history: AnalyteHistory, labels: ChartLabels, locale: str) -> bytes:
    """The analyte's values over time with the reference band shaded; dates in `locale`."""
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    days = [p.date.toordinal() for p in history.points]
    values = [p.value for p in history.points]
    low, high = history.ref_low, history.ref_high
    if low is not None or high is not None:
        span = [v for v in (*values, low, high) if v is not None]
        bottom = low if low is not None else min(span) - abs(min(span)) * 0.1
        top = high if high is not None else max(span) + abs(max(span)) * 0.1
        axes.axhspan(bottom, top, color=_BAND, alpha=0.15, label=labels.reference)
    axes.plot(days, values, color=_LINE, linewidth=3, marker="o", markersize=8)
    outside = [
        (d, v)
        for d, v in zip(days, values, strict=True)
        if (high is not None and v > high) or (low is not None and v < low)
    ]
    if outside:
        axes.scatter([d for d, _ in outside], [v for _, v in outside], color=_OUT, s=120, zorder=3)
    ticks = month_ticks(history.points[0].date, history.points[-1].date)
    axes.set_xticks(
        [t.toordinal() for t in ticks],
        [format_date(t, format="LLL yyyy", locale=locale) for t in ticks],
    )
    axes.tick_params(labelsize=18)
    axes.grid(True, alpha=0.3)
    unit = f", {history.unit}" if history.unit else ""
    axes.set_title(labels.title + unit, fontsize=24, pad=16, loc="left")
    if low is not None or high is not None:
        # Above the plot, right of the title: never over the points.
        axes.legend(fontsize=16, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)
    # Fixed margins: `tight_layout` would measure every label and double the drawing time.
    figure.subplots_adjust(left=0.08, right=0.97, top=0.9, bottom=0.09)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


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
