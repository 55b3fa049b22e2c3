"""Plain records of the emulated Telegram: chats, counters, queued updates, the webhook, and
which update types a bot receives.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from bot.emulator.markup import Markup
from bot.emulator.models import (
    CallbackAnswer,
    ChatAction,
    ChatEvent,
    Edit,
    Json,
    StoredMessage,
    UserRecord,
)

ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# Telegram's default when allowed_updates was never given.
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


@dataclass
class PendingUpdate:
    update_id: int
    kind: str
    payload: Json

    def to_api(self) -> Json:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass
class Stats:
    """Counters for tests and benchmarks."""

    sends_per_chat: Counter[int] = field(default_factory=Counter)
    calls_per_method: Counter[str] = field(default_factory=Counter)
    too_many_requests: int = 0
    too_many_requests_per_chat: Counter[int] = field(default_factory=Counter)
    forbidden: int = 0


@dataclass
class ChatState:
    user: UserRecord
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: Markup | None = None  # the keyboard currently shown under the input field
    edits: list[Edit] = field(default_factory=list)
    callback_answers: list[CallbackAnswer] = field(default_factory=list)
    chat_actions: list[ChatAction] = field(default_factory=list)
    listeners: list[asyncio.Queue[ChatEvent]] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.user.id

    def bot_messages(self, *, include_deleted: bool = False) -> list[StoredMessage]:
        return [
            m for m in self.messages.values() if m.from_bot and (include_deleted or not m.deleted)
        ]


@dataclass
class Webhook:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0
