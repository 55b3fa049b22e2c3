"""The bot's update queue: getUpdates long polling with `offset`, and webhook bookkeeping.

As in Telegram, a poll with `offset` confirms every update before it, a newer poll ends an
older one with 409, and polling is refused while a webhook is set.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from bot.emulator.errors import ApiError
from bot.emulator.models import Json
from bot.emulator.world_signals import WorldSignals, wait_event
from bot.emulator.world_state import DEFAULT_UPDATE_TYPES, PendingUpdate, Webhook


class UpdateFeed(WorldSignals):
    """Queued updates and their delivery; `EmulatorWorld.__init__` sets the attributes."""

    webhook: Webhook
    allowed_updates: frozenset[str]
    updates: list[PendingUpdate]
    _update_ids: itertools.count[int]
    _poll_generation: int

    def enqueue(self, kind: str, payload: Json) -> int | None:
        """Queue an update; None if the bot's allowed_updates filter drops it (as Telegram)."""
        if kind not in self.allowed_updates:
            return None
        update = PendingUpdate(next(self._update_ids), kind, payload)
        self.updates.append(update)
        self._notify()
        return update.update_id

    async def get_updates(
        self,
        *,
        offset: int | None,
        limit: int,
        timeout: float,  # noqa: ASYNC109 - Telegram's long-poll timeout, not ours
        allowed_updates: list[str] | None,
        is_connected: Callable[[], bool] = lambda: True,
    ) -> list[Json]:
        if self.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if allowed_updates is not None:
            self.allowed_updates = frozenset(allowed_updates) or DEFAULT_UPDATE_TYPES
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting gets terminated (409)
        deadline = self.clock.monotonic() + max(timeout, 0)
        while True:
            event = self._changed
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            # Like Telegram, a new filter only affects updates created after it was set.
            batch = self.updates[:limit]
            remaining = deadline - self.clock.monotonic()
            if batch or remaining <= 0 or self._closed:
                break
            await wait_event(event, remaining)
        if not is_connected():
            return []  # the client went away (polling stopped): nothing was delivered
        if batch:
            self.delivered_update_id = max(self.delivered_update_id, batch[-1].update_id)
            self._touch()  # the bot is about to work: the quiet period starts now
        return [u.to_api() for u in batch]

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u.update_id >= offset]

    def drop_pending_updates(self) -> None:
        self.updates.clear()

    def webhook_delivered(self, update_id: int) -> None:
        self.updates = [u for u in self.updates if u.update_id != update_id]
        self.delivered_update_id = max(self.delivered_update_id, update_id)
        self.webhook.delivered += 1
        self.webhook.last_error_date = self.webhook.last_error_message = None
        self._touch()

    def webhook_failed(self, message: str) -> None:
        self.webhook.last_error_date = self.now()
        self.webhook.last_error_message = message
        self._notify()
