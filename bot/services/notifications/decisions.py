"""What the send-time check decides for one claimed outbox row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.notifications.render import NotificationView


@dataclass(frozen=True, slots=True)
class Send:
    chat_id: int
    view: NotificationView
    channel: str = "telegram"  # the messenger the person uses (`User.channel`)


@dataclass(frozen=True, slots=True)
class Skip:
    """Not to be sent any more (switched off, access gone, visit changed, user blocked)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Defer:
    """Not now: quiet hours (`failed=False`) or a backend hiccup (`failed=True`, backs off);
    `outage`: the backend is away (unavailable, rate limited), so the try does not count
    against the message (see `delivery.py`)."""

    until: datetime | None
    reason: str
    failed: bool = False
    outage: bool = False


Decision = Send | Skip | Defer
