"""The Telegram side of notifications: a view becomes `sendMessage`, errors become outcomes.

What is not the message's fault (no connection, a timeout, a 5xx, an answer that is not
Telegram's, a token Telegram does not know right now) is `NETWORK`: the row waits and is
tried again, however long Telegram is away. What Telegram refuses for this message (400, too
large) is `REJECTED`: trying again would not help.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.services.notifications.render import NotificationView
from bot.services.notifications.sending import Outcome, SendResult
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
        except TelegramEntityTooLarge:  # a TelegramNetworkError, but about this message
            return SendResult(Outcome.REJECTED, reason="too_large")
        except TelegramServerError:
            return SendResult(Outcome.NETWORK, reason="server_error")
        except TimeoutError:  # before OSError, of which it is one
            return SendResult(Outcome.NETWORK, reason="timeout")
        except (TelegramNetworkError, OSError):
            return SendResult(Outcome.NETWORK, reason="network")
        except ClientDecodeError:
            return SendResult(Outcome.NETWORK, reason="bad_answer")
        except (TelegramUnauthorizedError, TelegramNotFound):
            # The token or the API address is wrong (a config change, Telegram's trouble):
            # nothing would go to anyone, so the rows wait for it to be put right.
            return SendResult(Outcome.NETWORK, reason="unauthorized")
        except TelegramBadRequest:
            return SendResult(Outcome.REJECTED, reason="bad_request")
        except TelegramAPIError:
            return SendResult(Outcome.REJECTED, reason="telegram_error")
        return SendResult(Outcome.SENT)
