"""Telling another user of the bot something now (the card owner's "someone got access"), on
the messenger that person uses, whichever messenger the update came from.

Best effort by design: the link that caused it is already made, so a messenger that refuses
(the owner blocked the bot, a network error) is logged, not turned into an error for the
person who linked; the owner also sees the access in "Who has access" at any time."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from maxapi import Bot as MaxBot
from maxapi.exceptions.max import MaxApiError, MaxConnection

from bot.db.models import MAX, TELEGRAM
from bot.flows.linking_outputs import Notice
from bot.logs import log_event, pseudonym
from keyboards.inline import inline_markup

logger = logging.getLogger(__name__)


class OtherChats:
    """The bots this process has (either may be missing: one channel only)."""

    def __init__(self, telegram: Bot | None, max_bot: MaxBot | None) -> None:
        self.telegram = telegram
        self.max_bot = max_bot

    async def tell(self, notice: Notice) -> None:
        # As every log line names a Telegram user; a MAX user's id is told apart by its channel.
        who = pseudonym(
            notice.recipient
            if notice.channel == TELEGRAM
            else f"{notice.channel}:{notice.recipient}"
        )
        try:
            sent = await self._send(notice)
        except (TelegramAPIError, MaxApiError, MaxConnection, OSError, TimeoutError) as error:
            log_event(logger, "notice.failed", logging.WARNING, to=who, error=type(error).__name__)
            return
        if sent:
            log_event(logger, "access.owner_alerted", owner=who, channel=notice.channel)
        else:
            log_event(logger, "notice.no_channel", logging.WARNING, to=who, channel=notice.channel)

    async def _send(self, notice: Notice) -> bool:
        screen = notice.screen
        if notice.channel == TELEGRAM and self.telegram is not None:
            await self.telegram.send_message(
                notice.recipient, screen.text, reply_markup=inline_markup(screen.rows)
            )
            return True
        if notice.channel == MAX and self.max_bot is not None:
            from max_channel.render import MaxAnswer  # the MAX renderer, only where MAX is used

            await MaxAnswer(self.max_bot, None, user_id=notice.recipient).send(screen)
            return True
        return False
