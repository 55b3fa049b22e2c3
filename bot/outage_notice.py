""" "Your message is kept": what a user hears while the webhook cannot take their update.

Without Redis the update ledger cannot tell a new update from a redelivered one, so the
webhook answers 503 and Telegram keeps the update and sends it again (it does so for up to a
day, in order). Nothing is lost, but the user would hear nothing until Redis is back, and a
user who hears nothing taps again and again. So the chat gets one short notice — the request
is kept, the answer will come, no need to repeat — once per outage, repeated at most every
`EVERY_SECONDS` while it lasts, and the real answer follows when the redelivery is handled.
A chat whose update was handled again is forgotten, so the next outage is told at once.

The notice names nothing personal and needs neither Redis nor the database: the language is
the one Telegram reports for the user, and the per-chat memory is this process's own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from aiogram import Bot
from aiogram.types import Update
from aiogram.utils.i18n import I18n

from bot.clock import Clock
from bot.i18n import pick_locale
from bot.logs import log_event

logger = logging.getLogger(__name__)

EVERY_SECONDS = 30.0
SEND_TIMEOUT_SECONDS = 2.0  # Telegram is waiting for our 503; the notice must not hold it
REMEMBERED_CHATS = 10_000


def _chat_and_language(update: Update) -> tuple[int, str | None] | None:
    if update.message is not None:
        message = update.message
        language = message.from_user.language_code if message.from_user else None
        return message.chat.id, language
    query = update.callback_query
    if query is not None and query.message is not None:
        return query.message.chat.id, query.from_user.language_code
    return None  # membership changes and the like: nobody is waiting for an answer


class OutageNotice:
    def __init__(self, i18n: I18n, clock: Clock, every_seconds: float = EVERY_SECONDS) -> None:
        self._i18n = i18n
        self._clock = clock
        self._every = every_seconds
        self._told: OrderedDict[int, float] = OrderedDict()  # chat id -> monotonic time

    def _due(self, chat_id: int) -> bool:
        now = self._clock.monotonic()
        last = self._told.get(chat_id)
        if last is not None and now - last < self._every:
            return False
        self._told[chat_id] = now
        self._told.move_to_end(chat_id)
        while len(self._told) > REMEMBERED_CHATS:
            self._told.popitem(last=False)
        return True

    def text(self, telegram_language: str | None) -> str:
        locale = pick_locale(
            None, telegram_language, self._i18n.available_locales, self._i18n.default_locale
        )
        return self._i18n.gettext(
            "⚠️ A technical problem: answers are delayed. Your request is kept and the answer "
            "will come by itself, there is no need to repeat it.",
            locale=locale,
        )

    def forget(self, update: Update) -> None:
        """The update's chat was served: a later outage is news to it again."""
        if self._told and (target := _chat_and_language(update)) is not None:
            self._told.pop(target[0], None)

    async def tell(self, bot: Bot, update: Update) -> bool:
        """Send the notice to the update's chat unless it was told lately; True if sent."""
        target = _chat_and_language(update)
        if target is None or not self._due(target[0]):
            return False
        chat_id, language = target
        try:
            await asyncio.wait_for(
                bot.send_message(chat_id, self.text(language)), SEND_TIMEOUT_SECONDS
            )
        except Exception as error:  # noqa: BLE001 - a courtesy; the update itself is kept
            log_event(logger, "webhook.notice_failed", logging.INFO, error=type(error).__name__)
            self._told.pop(chat_id, None)  # not told after all: the next update tries again
            return False
        return True
