"""The emulator's view of time: the bot's one clock (`bot.clock`) plus an offset tests add.

Message dates and rate-limit windows read `time()`; waits and deadlines read `monotonic()`.
`advance()` moves the wall time forward without sleeping (message ages, the 48-hour delete
window), independently of the clock it is based on."""

from __future__ import annotations

from bot.clock import Clock as AppClock
from bot.clock import SystemClock


class Clock:
    """Wall seconds from `base` plus an offset that only grows."""

    def __init__(self, base: AppClock | None = None) -> None:
        self.base: AppClock = base or SystemClock()
        self._offset = 0.0

    def time(self) -> float:
        return self.base().timestamp() + self._offset

    def monotonic(self) -> float:
        return self.base.monotonic()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
