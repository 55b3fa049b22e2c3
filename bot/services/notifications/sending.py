"""What a messenger's sender answers the delivery loop (`delivery.py`), whatever the messenger.

A sender (Telegram's in `bot/notify_telegram.py`, MAX's in `max_channel/notify.py`) turns the
messenger's answer into one of these outcomes; the loop decides what happens to the row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.services.notifications.render import NotificationView


class Outcome(StrEnum):
    SENT = "sent"
    RETRY_AFTER = "retry_after"  # 429
    BLOCKED = "blocked"  # 403: blocked the bot, deactivated
    NETWORK = "network"  # timeouts, 5xx: try again later
    REJECTED = "rejected"  # 400: this message will never go


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    retry_after: float = 0.0
    reason: str = ""


SendFn = Callable[[int, NotificationView], Awaitable[SendResult]]
"""Sends one rendered notification to a chat (the messenger's chat id)."""
