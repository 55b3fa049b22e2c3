"""The period filter of record lists and exports."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum


class Period(StrEnum):
    QUARTER = "3m"
    YEAR = "1y"
    ALL = "all"


def since(period: Period, today: date) -> date | None:
    """The first day (inclusive) of the period ending today; None for "all time"."""
    if period is Period.QUARTER:
        return today - timedelta(days=91)
    if period is Period.YEAR:
        return today - timedelta(days=365)
    return None
