"""A wall clock that tests can move forward (message ages, rate-limit windows)."""

from __future__ import annotations

import time


class Clock:
    """Real time plus an offset; `advance()` moves it without sleeping."""

    def __init__(self) -> None:
        self._offset = 0.0

    def time(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
