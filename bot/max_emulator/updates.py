"""The bot's update queue: long polling with `marker`, and the "bot is done" signal.

`marker` in an answer is the number of the next update; a poll that passes it back confirms
every update before it. maxapi moves its marker only after it handled the whole batch, so a
confirmation means "handled" exactly; a webhook's 200 means the same. A poll without a
marker gets what was never delivered yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from bot.emulator.clock import Clock
from bot.max_emulator.models import Json


class Signal:
    """Wakes every waiter on each change: a fresh event per generation."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def changed(self, timeout: float) -> None:  # noqa: ASYNC109
        """Return on the next change, or after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float,  # noqa: ASYNC109 - a deadline on the world's own clock
        what: str,
    ) -> None:
        deadline = self.clock.monotonic() + timeout
        while True:
            event = self._event
            if predicate():
                return
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)


@dataclass
class PendingUpdate:
    update_id: int
    update_type: str
    payload: Json


class UpdateQueue:
    def __init__(self, signal: Signal, *, first_id: int = 1) -> None:
        self.signal = signal
        self.pending: list[PendingUpdate] = []
        self.handled: set[int] = set()
        self.next_undelivered = first_id
        self.polls = 0
        self._ids = itertools.count(first_id)
        self.closed = False

    def add(self, update_type: str, payload: Json) -> int:
        update = PendingUpdate(next(self._ids), update_type, payload)
        self.pending.append(update)
        self.signal.notify()
        return update.update_id

    def mark_handled(self, update_id: int) -> None:
        self.pending = [u for u in self.pending if u.update_id != update_id]
        self.handled.add(update_id)
        self.signal.notify()

    def confirm_below(self, marker: int) -> None:
        for update in [u for u in self.pending if u.update_id < marker]:
            self.mark_handled(update.update_id)

    def _take(self, cursor: int, limit: int, types: set[str] | None) -> list[PendingUpdate]:
        batch: list[PendingUpdate] = []
        for update in list(self.pending):
            if update.update_id < cursor:
                continue
            if types and update.update_type not in types:
                self.mark_handled(update.update_id)  # filtered out: never delivered
                continue
            batch.append(update)
            if len(batch) >= limit:
                break
        return batch

    async def poll(
        self,
        *,
        marker: int | None,
        timeout: float,  # noqa: ASYNC109 - MAX's long-poll timeout, not ours
        limit: int,
        types: set[str] | None,
        webhook_active: Callable[[], bool],
        connected: Callable[[], bool] = lambda: True,
    ) -> Json:
        self.polls += 1
        self.signal.notify()
        if marker is not None:
            self.confirm_below(marker)
        cursor = marker if marker is not None else self.next_undelivered
        batch: list[PendingUpdate] = []

        def ready() -> bool:
            nonlocal batch
            if self.closed:
                return True
            # With a webhook subscription long polling gets nothing: updates go to the hook.
            batch = [] if webhook_active() else self._take(cursor, limit, types)
            return bool(batch)

        with contextlib.suppress(AssertionError):
            await self.signal.wait_for(ready, timeout=timeout, what="updates")
        if not connected():
            batch = []  # the poller went away (polling stopped): nothing was delivered
        next_marker = batch[-1].update_id + 1 if batch else cursor
        self.next_undelivered = max(self.next_undelivered, next_marker)
        return {"updates": [u.payload for u in batch], "marker": next_marker}
