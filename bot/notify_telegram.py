"""The Telegram side of notifications: a view becomes `sendMessage`, errors become outcomes."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.services.notifications.delivery import Outcome, SendResult
from bot.services.notifications.render import NotificationView
from keyboards.notifications import notification_keyboard


class TelegramSender:
    """The `send(chat_id, view)` callable the delivery loop takes."""

    def __init__(self, bot: Bot, *, paid_broadcast: bool = False) -> None:
        self.bot = bot
        self.paid_broadcast = paid_broadcast

    async def __call__(self, chat_id: int, view: NotificationView) -> SendResult:
        try:
            await self.bot.send_message(
                chat_id,
                view.text,
                reply_markup=notification_keyboard(view.buttons),
                protect_content=view.protect_content,
                # Only sent when on: paid broadcasts cost Stars for every message.
                allow_paid_broadcast=True if self.paid_broadcast else None,
            )
        except TelegramRetryAfter as error:
            return SendResult(Outcome.RETRY_AFTER, retry_after=float(error.retry_after))
        except TelegramForbiddenError:
            return SendResult(Outcome.BLOCKED)
        except (TelegramNetworkError, TelegramServerError, TimeoutError):
            return SendResult(Outcome.NETWORK, reason="network")
        except TelegramBadRequest:
            return SendResult(Outcome.REJECTED, reason="bad_request")
        return SendResult(Outcome.SENT)
