"""Time for the sandbox: an injectable clock and Moscow calendar helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Protocol

Clock = Callable[[], datetime]
"""Returns "now" as an aware UTC datetime; the bot passes its one clock (`bot.clock`) in."""


class MonotonicClock(Protocol):
    """A clock that also measures intervals (the bot's `bot.clock.Clock` is one)."""

    def __call__(self) -> datetime: ...

    def monotonic(self) -> float: ...


# Moscow has been UTC+3 all year since 2014; a fixed offset avoids depending on tzdata.
MSK = timezone(timedelta(hours=3), "MSK")


def msk_date(moment: datetime) -> date:
    return moment.astimezone(MSK).date()


def msk_midnight(day: date) -> datetime:
    """00:00 Moscow time on ``day`` as aware UTC."""
    return datetime.combine(day, time(0, 0), MSK).astimezone(UTC)


def at_msk(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), MSK).astimezone(UTC)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def birthday_in_year(birth: date, year: int) -> date:
    """Birthday in ``year``; 29 February becomes 1 March in common years."""
    try:
        return birth.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


class ManualClock:
    """A clock tests can move: ``clock.advance(minutes=11)``."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be aware")
        self._now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._now

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)
