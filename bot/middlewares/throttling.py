from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser

from bot.logs import log_event, pseudonym
from bot.services.rate_limit import RateLimiter

logger = logging.getLogger(__name__)


class ThrottlingMiddleware(BaseMiddleware):
    """Drops a user's updates beyond their rate, before any database work is done."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is None or await self._limiter.hit(str(tg_user.id)):
            return await handler(event, data)
        log_event(logger, "update.throttled", user=pseudonym(tg_user.id))
        if isinstance(event, Update) and event.callback_query is not None:
            # Stop the button's spinner even when the press itself is dropped.
            await event.callback_query.answer()
        return None
