"""What the Telegram handlers share about sensitive input: deleting it from the chat, and the
line that says so (the texts themselves are the flows', `bot.flows.linking_texts`)."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.flows.linking_texts import deleted_text
from bot.logs import log_event
from bot.services import linking

logger = logging.getLogger(__name__)


def sensitive_deleted_text(kind: linking.Sensitive) -> str:
    """Said after deleting a policy number or a code that the bot did not ask for."""
    return deleted_text(_, kind)


async def delete_sensitive(message: Message) -> None:
    """Remove a message that carried a policy, code or phone; Telegram may refuse (too old)."""
    try:
        await message.delete()
    except TelegramAPIError as error:
        log_event(logger, "message.delete_failed", logging.INFO, error=type(error).__name__)
