"""The MAX side of notifications: a view becomes a MAX message, errors become outcomes (as
`bot/notify_telegram.py` does for Telegram).

MAX answers 403 `chat.denied` to a person who stopped the bot (`BLOCKED`), 429 when the bot
sends too fast (`RETRY_AFTER`, one second: MAX sends no Retry-After), 5xx and network errors
are `NETWORK` (the row waits), any other 4xx `REJECTED`. A notification's buttons carry the same
ids as on Telegram, so a press goes through the same flow and its access check.
"""

from __future__ import annotations

from aiohttp import ClientError
from maxapi import Bot
from maxapi.enums.parse_mode import ParseMode
from maxapi.exceptions.max import InvalidToken, MaxApiError, MaxConnection

from bot.flows.screens import Button, Screen, column
from bot.services.notifications.render import NotificationView
from bot.services.notifications.sending import Outcome, SendResult
from keyboards.notifications import button_action
from max_channel.keyboard import keyboard
from max_channel.render import TEXT_LIMIT, Outgoing

RETRY_AFTER_SECONDS = 1.0


def view_screen(view: NotificationView) -> Screen:
    buttons = (Button(b.text, button_action(b)) for b in view.buttons)
    return Screen(view.text, column(*buttons), protect=view.protect_content)


class MaxSender:
    """The `send(chat_id, view)` callable the delivery loop takes for people on MAX."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, chat_id: int, view: NotificationView) -> SendResult:
        """`chat_id` is the person's MAX user id (`User.telegram_id` keeps it): MAX's dialog
        chat has an id of its own, and a message to a person is addressed by `user_id`."""
        markup = keyboard(view_screen(view))
        attachments: Outgoing = [markup] if markup is not None else []
        try:
            await self.bot.send_message(
                user_id=chat_id,
                text=view.text[:TEXT_LIMIT],
                attachments=attachments or None,
                format=ParseMode.HTML,
            )
        except InvalidToken:
            # Nothing would go to anyone: the rows wait for the token to be put right.
            return SendResult(Outcome.NETWORK, reason="unauthorized")
        except MaxApiError as error:
            if error.code == 403:
                return SendResult(Outcome.BLOCKED)
            if error.code == 429:
                return SendResult(Outcome.RETRY_AFTER, retry_after=RETRY_AFTER_SECONDS)
            if error.code >= 500:
                return SendResult(Outcome.NETWORK, reason="server_error")
            return SendResult(Outcome.REJECTED, reason="bad_request")
        except TimeoutError:
            return SendResult(Outcome.NETWORK, reason="timeout")
        except (MaxConnection, ClientError, OSError):
            return SendResult(Outcome.NETWORK, reason="network")
        return SendResult(Outcome.SENT)
