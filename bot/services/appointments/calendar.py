"""Which days can be booked in the 14-day window, as plain data for any calendar widget."""

from __future__ import annotations

import calendar as _calendar
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from backend_client.models import Slot
from bot.services.appointments.clock import msk_date

WINDOW_DAYS = 14


class DayState:
    FREE = "free"  # has free times: clickable
    FULL = "full"  # inside the window, nothing free: shown, inert
    OUTSIDE = "outside"  # before today or after the window


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    state: str
    free: int
    is_today: bool


@dataclass(frozen=True, slots=True)
class CalendarMonth:
    year: int
    month: int
    weeks: list[list[CalendarDay | None]]
    """Monday-first rows; None pads days of the neighbouring months."""
    prev_month: tuple[int, int] | None
    next_month: tuple[int, int] | None

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


def window(today: date, days: int = WINDOW_DAYS) -> tuple[date, date]:
    return today, today + timedelta(days=days - 1)


def free_by_day(slots: Iterable[Slot]) -> dict[date, int]:
    """How many free slots each Moscow date has."""
    return dict(Counter(msk_date(s.starts_at) for s in slots))


def slots_on(slots: Iterable[Slot], day: date) -> list[Slot]:
    return sorted((s for s in slots if msk_date(s.starts_at) == day), key=lambda s: s.starts_at)


def _month_key(day: date) -> tuple[int, int]:
    return day.year, day.month


def first_bookable_month(today: date, counts: dict[date, int]) -> tuple[int, int]:
    return _month_key(min(counts)) if counts else _month_key(today)


def month_view(
    today: date, counts: dict[date, int], year: int, month: int, days: int = WINDOW_DAYS
) -> CalendarMonth:
    """One month of the calendar; navigation only towards months the window touches."""
    start, end = window(today, days)
    first, last = _month_key(start), _month_key(end)
    year, month = min(max((year, month), first), last)
    weeks: list[list[CalendarDay | None]] = []
    for week in _calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        row: list[CalendarDay | None] = []
        for day in week:
            if day.month != month:
                row.append(None)
                continue
            if not start <= day <= end:
                state = DayState.OUTSIDE
            else:
                state = DayState.FREE if counts.get(day) else DayState.FULL
            row.append(CalendarDay(day, state, counts.get(day, 0), day == today))
        weeks.append(row)
    prev_key = (year, month - 1) if month > 1 else (year - 1, 12)
    next_key = (year, month + 1) if month < 12 else (year + 1, 1)
    return CalendarMonth(
        year,
        month,
        weeks,
        prev_key if prev_key >= first else None,
        next_key if next_key <= last else None,
    )


def is_bookable(today: date, counts: dict[date, int], day: date, days: int = WINDOW_DAYS) -> bool:
    start, end = window(today, days)
    return start <= day <= end and counts.get(day, 0) > 0
