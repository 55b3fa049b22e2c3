from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser

from bot.clock import Clock
from bot.logs import log_event, pseudonym

logger = logging.getLogger("bot.updates")


class UpdateLogMiddleware(BaseMiddleware):
    """One structured line per update: its kind, a pseudonymous user, outcome and duration.

    Never the text, the callback data or anything else the user typed.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        started = self._clock.monotonic()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        finally:
            tg_user: TgUser | None = data.get("event_from_user")
            log_event(
                logger,
                "update",
                kind=event.event_type if isinstance(event, Update) else type(event).__name__,
                user=pseudonym(tg_user.id) if tg_user else None,
                outcome=outcome,
                ms=round((self._clock.monotonic() - started) * 1000, 1),
            )
