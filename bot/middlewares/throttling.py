from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message, TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.i18n import pick_locale
from bot.logs import log_event, pseudonym
from bot.middlewares.db import is_membership_update
from bot.services.linking import delete_when_dropped
from bot.services.rate_limit import MemoryRateLimiter, RateLimiter

logger = logging.getLogger(__name__)


async def _drop_if_sensitive(message: Message) -> None:
    """A skipped message must not leave a policy number, a code or a birth date in the chat: no
    handler will read (and delete) it (`delete_when_dropped` says why a bare date counts)."""
    if not delete_when_dropped(message.text):
        return
    try:
        await message.delete()
    except TelegramAPIError as error:
        log_event(logger, "message.delete_failed", logging.INFO, error=type(error).__name__)


class ThrottlingMiddleware(BaseMiddleware):
    """Drops a user's updates beyond their rate, before any database work is done.

    Nothing dropped is lost in silence: a dropped button press gets a popup saying to press
    again; a dropped message, a notice (at most once in a while) to send it again.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        i18n: I18n,
        clock: Clock,
        notice_every_seconds: float = 10.0,
    ) -> None:
        self._limiter = limiter
        self._i18n = i18n
        self._notices = MemoryRateLimiter(
            rate=1.0 / notice_every_seconds, burst=1, clock=clock.monotonic
        )

    def _locale(self, tg_user: TgUser) -> str:
        # No database work before the limit: the language Telegram reports, not the stored one.
        return pick_locale(
            None, tg_user.language_code, self._i18n.available_locales, self._i18n.default_locale
        )

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is None or is_membership_update(event):
            # A block or unblock is a state change, not chatter: dropping the newest one would
            # leave the bot believing the opposite. Nor does it use up the user's budget for the
            # message that often follows it (Restart sends /start).
            return await handler(event, data)
        if await self._limiter.hit(str(tg_user.id)):
            return await handler(event, data)
        log_event(logger, "update.throttled", user=pseudonym(tg_user.id))
        if isinstance(event, Update) and event.message is not None:
            await _drop_if_sensitive(event.message)
        if isinstance(event, Update) and event.callback_query is not None:
            # Every dropped press is answered (or its button spins), and with words: an empty
            # answer looks as if the press worked and the bot had nothing to say.
            await event.callback_query.answer(
                self._i18n.gettext(
                    "Too many presses: wait a second and press again.",
                    locale=self._locale(tg_user),
                )
            )
        elif (
            isinstance(event, Update)
            and event.message is not None
            and await self._notices.hit(str(tg_user.id))
        ):
            await event.message.answer(
                self._i18n.gettext(
                    "Too fast: your last message was skipped. Please wait a moment and send it "
                    "again.",
                    locale=self._locale(tg_user),
                )
            )
        return None
