"""When the delivery loop may claim rows again: its hold on claims while a dependency is away
or after a 429, with one outage line per outage and a growing backoff per dependency."""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import Clock
from bot.outages import Backoff, OutageLog, note_failure


class ClaimHold:
    """Kept by one `DeliveryLoop`: no claims before `left()` is 0, so a dead dependency is not
    hammered by every row."""

    def __init__(self, outages: OutageLog, clock: Clock, backoff: Callable[[], Backoff]) -> None:
        self.outages = outages
        self.clock = clock
        self._new_backoff = backoff
        self._backoffs: dict[str, Backoff] = {}
        self._held_until = 0.0  # monotonic: no claims before (something is away, or a 429)

    def left(self) -> float:
        return max(0.0, self._held_until - self.clock.monotonic())

    def hold(self, seconds: float) -> None:
        self._held_until = max(self._held_until, self.clock.monotonic() + seconds)

    def _backoff(self, kind: str) -> Backoff:
        if kind not in self._backoffs:
            self._backoffs[kind] = self._new_backoff()
        return self._backoffs[kind]

    def failed(
        self, error: BaseException | str, kind: str | None = None, *, default: str | None = None
    ) -> None:
        """Something failed: one outage line per outage (a bug: a line each), and claims wait
        a growing backoff so a dead dependency is not hammered by every row."""
        if isinstance(error, str):
            assert kind is not None
            self.outages.failed(kind, error)
        else:
            kind = note_failure(self.outages, error, default=default)
        self.hold(self._backoff(kind or "bug").next())

    def answered(self, kind: str) -> None:
        if self.outages.is_down(kind):
            self.outages.recovered(kind)
        self._backoffs.pop(kind, None)
