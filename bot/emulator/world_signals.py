"""The world's change signal and the waits built on it: chat listeners, "the bot fetched and
handled this update", "the bot went quiet", and closing long polls at shutdown.

Every change replaces a "generation" event, so a waiter that read the state and then waits on
the event it saw before reading can never miss a change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from bot.emulator.common import ActivityTracking
from bot.emulator.models import ChatEvent
from bot.emulator.world_state import ChatState


class WorldSignals(ActivityTracking):
    """Waiting on the world; `EmulatorWorld.__init__` sets the attributes declared here."""

    quiet_period: float
    chats: dict[int, ChatState]
    delivered_update_id: int
    handled_update_ids: set[int]
    dispatcher_tracked: bool
    _closed: bool
    _changed: asyncio.Event

    def now(self) -> int:
        """Telegram's dates: whole seconds on the world's clock."""
        return int(self.clock.time())

    def mark_update_handled(self, update_id: int) -> None:
        self.handled_update_ids.add(update_id)
        self._touch()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _publish(self, chat: ChatState, event: ChatEvent) -> None:
        for queue in chat.listeners:
            queue.put_nowait(event)

    def subscribe(self, chat_id: int) -> asyncio.Queue[ChatEvent]:
        queue: asyncio.Queue[ChatEvent] = asyncio.Queue()
        self.chats[chat_id].listeners.append(queue)
        return queue

    def unsubscribe(self, chat_id: int, queue: asyncio.Queue[ChatEvent]) -> None:
        self.chats[chat_id].listeners.remove(queue)

    async def wait_for(self, predicate: Callable[[], bool], *, timeout: float, what: str) -> None:  # noqa: ASYNC109
        deadline = self.clock.monotonic() + timeout
        while True:
            event = self._changed
            if predicate():
                return
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
            await wait_event(event, remaining)

    async def wait_quiet(self, *, timeout: float, quiet: float | None = None) -> None:  # noqa: ASYNC109
        """Return once no bot API call is running and none started for `quiet` seconds."""
        quiet = self.quiet_period if quiet is None else quiet
        deadline = self.clock.monotonic() + timeout
        while True:
            event = self._changed
            now = self.clock.monotonic()
            idle_for = now - self._last_activity
            if self._in_flight == 0 and idle_for >= quiet:
                return
            if now >= deadline:
                raise AssertionError(f"the bot was still busy after {timeout:g}s")
            wait = quiet - idle_for if self._in_flight == 0 else deadline - now
            await wait_event(event, min(wait, deadline - now))

    async def settle(self, update_id: int | None, *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot fetched the update, handled it, and went quiet."""
        if update_id is not None:
            await self.wait_for(
                lambda: self.delivered_update_id >= update_id,
                timeout=timeout,
                what=f"the bot to fetch update {update_id} (is it polling this emulator?)",
            )
            if self.dispatcher_tracked:
                await self.wait_for(
                    lambda: update_id in self.handled_update_ids,
                    timeout=timeout,
                    what=f"the bot to finish handling update {update_id}",
                )
        # With a tracked dispatcher only a hair of quiet is needed for follow-up calls.
        quiet = min(self.quiet_period, 0.02) if self.dispatcher_tracked else None
        await self.wait_quiet(timeout=timeout, quiet=quiet)

    async def close(self) -> None:
        """Release long polls so the server can shut down promptly."""
        self._closed = True
        self._notify()

    def reopen(self) -> None:
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed


async def wait_event(event: asyncio.Event, timeout: float) -> None:  # noqa: ASYNC109
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
