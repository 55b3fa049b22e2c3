"""The one clock: the only place in the product that reads the real time.

The composition root makes one `Clock` and hands it to everything that needs "now": the
Dispatcher's workflow data (`clock`), the worker's jobs, the sandbox, the webhook's events
endpoint, rate limits and pacing. Tests hand in a `FrozenClock` instead, so every test means
the same thing at any real instant (`tests/unit/test_one_clock.py` keeps it the only one).

Two readings, because they answer two questions:
* `clock()` / `clock.now()` — the calendar time (aware UTC): expiry, quiet hours, visits;
* `clock.monotonic()` — seconds for measuring intervals and pacing sends; it never jumps.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from backend_client.sandbox.clock import ManualClock


@runtime_checkable
class Clock(Protocol):
    def __call__(self) -> datetime:
        """Now, as an aware UTC datetime."""

    def now(self) -> datetime:
        """The same as calling the clock."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start; only differences mean anything."""


class SystemClock:
    """The real time. Production makes exactly one of these, in `bot.app.open_app`."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def timestamp(self) -> float:
        return self.now().timestamp()


class FrozenClock(ManualClock):
    """Calendar time that stands still until a test moves it (`advance`, `set`).

    Monotonic time keeps running, because asyncio's sleeps and timeouts are real; `advance`
    adds to it too, so a rate window or a lease "passes" without sleeping."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._advanced = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self._advanced

    def advance(self, **delta: float) -> datetime:
        step = timedelta(**delta)
        if step > timedelta(0):
            self._advanced += step.total_seconds()
        return super().advance(**delta)

    def timestamp(self) -> float:
        return self().timestamp()


def parse_instant(text: str) -> datetime:
    """An ISO instant for a frozen clock (`2026-12-31T23:59:00+03:00`); naive means UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
