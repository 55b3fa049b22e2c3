"""Lets the world know exactly when an in-process Dispatcher finished an update.

Without it, "the bot is done" is inferred from a quiet period after the last API call; with
it, settling waits for the handler itself, which keeps e2e tests fast and deterministic
even when a handler awaits a slow backend before replying.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.emulator.world import EmulatorWorld


def track_dispatcher(world: EmulatorWorld, dispatcher: Dispatcher) -> None:
    """Wrap `dispatcher.feed_update` (instance only) to report handled update ids."""
    original = dispatcher.feed_update

    async def feed_update(bot: Bot, update: Update, **kwargs: Any) -> Any:
        try:
            return await original(bot, update, **kwargs)
        finally:
            world.mark_update_handled(update.update_id)

    # Wrapping feed_update (not a middleware) also covers updates a middleware drops.
    dispatcher.feed_update = feed_update  # type: ignore[method-assign]
    world.dispatcher_tracked = True
