"""Long polling that gets past an update the bot cannot decode.

aiogram decodes a getUpdates batch as a whole: one update it has no model for (a field Telegram
added, a malformed emulator payload) fails the batch, the offset never moves, and the same batch
is fetched and failed again for ever, so nobody gets an answer any more. `SkipUndecodableUpdates`
decodes such a batch one update at a time instead: the good ones are handled as usual, a bad one
is logged by its id only (`polling.skipped_bad_update`) and confirmed with the next offset.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import ClientDecodeError, TelegramUnauthorizedError
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from pydantic import ValidationError

from bot.logs import log_event
from bot.settings import SettingsError

logger = logging.getLogger(__name__)


class SkipUndecodableUpdates(BaseRequestMiddleware):
    """A Bot session middleware for getUpdates; other methods pass through untouched."""

    def __init__(self) -> None:
        # The highest update id of a batch that had to be decoded one by one. Every update up
        # to it has been handed to the dispatcher or skipped, so the next poll starts after it
        # even when the batch's last update was a bad one (aiogram only moves the offset past
        # the updates it was given).
        self._done_through: int | None = None

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        get_updates = method if isinstance(method, GetUpdates) else None
        if get_updates is None:
            return await make_request(bot, method)
        self._skip_done(get_updates)
        try:
            return await make_request(bot, method)
        except ClientDecodeError as error:
            if not isinstance(error.original, ValidationError):
                raise  # not JSON at all: a transport problem, aiogram retries with backoff
            decoded = self._decode_each(bot, error.data)
            if decoded is None:
                raise
            return decoded

    def _skip_done(self, method: GetUpdates) -> None:
        done = self._done_through
        if done is None:
            return
        if method.offset is None or 0 <= method.offset <= done:
            # aiogram's own loop reuses one GetUpdates object: moving its offset is what
            # aiogram itself does after each update.
            method.offset = done + 1

    def _decode_each(self, bot: Bot, data: object) -> list[Update] | None:
        """The batch's decodable updates, or None when the answer is not a batch of updates
        with ids (nothing can be skipped safely then)."""
        try:
            raw = Response[list[dict[str, Any]]].model_validate(data)
        except ValidationError:
            return None
        if not raw.ok or raw.result is None:
            return None
        ids = [item.get("update_id") for item in raw.result]
        if not raw.result or not all(isinstance(i, int) for i in ids):
            return None
        good: list[Update] = []
        for item in raw.result:
            try:
                good.append(Update.model_validate(item, context={"bot": bot}))
            except ValidationError:
                # The id only: the update's content is a user's text and name.
                log_event(
                    logger,
                    "polling.skipped_bad_update",
                    logging.WARNING,
                    update_id=item["update_id"],
                )
        self._done_through = max(i for i in ids if isinstance(i, int))
        return good


async def check_bot_token(bot: Bot) -> None:
    """A token of the right shape that Telegram refuses is a bad setting, said in one line."""
    try:
        await bot.get_me()
    except TelegramUnauthorizedError:
        raise SettingsError(
            "configuration error: BOT_TOKEN: Telegram refused it (Unauthorized); "
            "copy it again from @BotFather"
        ) from None


def guard_polling(bot: Bot) -> None:
    """Install `SkipUndecodableUpdates` on the bot's session (once)."""
    if not any(isinstance(m, SkipUndecodableUpdates) for m in bot.session.middleware):
        bot.session.middleware(SkipUndecodableUpdates())


async def start_polling(dispatcher: Dispatcher, bot: Bot, **kwargs: Any) -> None:
    """`dispatcher.start_polling` for the used update types, skipping undecodable updates."""
    guard_polling(bot)
    await dispatcher.start_polling(
        bot, allowed_updates=dispatcher.resolve_used_update_types(), **kwargs
    )
