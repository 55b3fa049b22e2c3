"""Telling a user on Telegram that their watch found a slot: one rendering function (of the
neutral `bot.flows.watch_notify`), one default notifier.

`render_slot_found` is what a Telegram delivery path calls; `BotSlotHitNotifier` is the default
`SlotHitNotifier` that sends it straight through the Bot (the outbox is the production path).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.flows.watch_notify import slot_found
from bot.keys import AppKeys
from bot.logs import log_event
from handlers.appointment_texts import TR
from keyboards.inline import inline_markup

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SlotFoundMessage:
    chat_id: int
    text: str
    markup: InlineKeyboardMarkup | None


async def render_slot_found(
    session: AsyncSession, backend: RecordsBackend, keys: AppKeys, hit_id: int
) -> SlotFoundMessage | None:
    """The message for a hit in the current gettext locale; None when there is nobody to tell
    (the watch, person or access is gone)."""
    found = await slot_found(TR, session, backend, keys, hit_id)
    if found is None:
        return None
    screen = found.screen
    return SlotFoundMessage(found.user.telegram_id, screen.text, inline_markup(screen.rows))


class BotSlotHitNotifier:
    """Sends the slot-found message directly; implements `watch_engine.SlotHitNotifier`."""

    def __init__(
        self,
        bot: Bot,
        sessionmaker: SessionMaker,
        backend: RecordsBackend,
        keys: AppKeys,
        i18n: I18n,
        clock: Clock,
    ) -> None:
        self.bot, self.sessionmaker, self.backend = bot, sessionmaker, backend
        self.keys, self.i18n, self.clock = keys, i18n, clock

    async def slot_found(self, user_id: int, hit_id: int) -> None:
        async with self.sessionmaker() as session:
            user = await session.get(User, user_id)
            if user is None or not user.has_consent or user.blocked_at is not None:
                return
            locale = user.language or self.i18n.default_locale
            with self.i18n.context(), self.i18n.use_locale(locale):
                message = await render_slot_found(session, self.backend, self.keys, hit_id)
            if message is None:
                return
            try:
                await self.bot.send_message(
                    message.chat_id,
                    message.text,
                    reply_markup=message.markup,
                    protect_content=True,
                )
            except TelegramForbiddenError:
                user.blocked_at = self.clock()  # they blocked the bot: stop trying
                await session.commit()
                log_event(logger, "watch.user_blocked", logging.INFO)
