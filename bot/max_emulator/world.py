"""In-memory state of the emulated MAX for one bot: users, dialogs, messages, updates.

Everything mutates synchronously on one event loop, so HTTP handlers and the test driver
never see half-applied state. Each user has a dialog with the bot whose `chat_id` differs
from the user's `user_id`, as in MAX (a renderer must not mix them up).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.emulator.clock import Clock
from bot.emulator.common import ActivityTracking, get_or_add_user
from bot.max_emulator.attachments import KeyboardLimits
from bot.max_emulator.errors import chat_denied, not_found
from bot.max_emulator.files import FileStore
from bot.max_emulator.models import (
    CallbackAnswer,
    CallbackRecord,
    ChatAction,
    Json,
    MaxUser,
    StoredMessage,
    Subscription,
)
from bot.max_emulator.rate_limit import MaxRateLimiter, MaxRateLimits
from bot.max_emulator.updates import Signal, UpdateQueue

if TYPE_CHECKING:
    from bot.max_emulator.driver import MaxUserDriver

DEFAULT_TOKEN = "emulator-max-token-for-offline-use-only"  # noqa: S105 - not a secret
FIRST_CHAT_ID = 70_000_000_001


@dataclass
class Dialog:
    chat_id: int
    user: MaxUser
    created_ms: int
    started: bool = False
    stopped: bool = False  # the user stopped the bot: sends answer 403 chat.denied
    mids: list[str] = field(default_factory=list)
    answers: list[CallbackAnswer] = field(default_factory=list)
    actions: list[ChatAction] = field(default_factory=list)


@dataclass
class Stats:
    calls: Counter[str] = field(default_factory=Counter)  # "POST /messages": n
    token_in_header: int = 0
    token_in_query: int = 0
    too_many_requests: int = 0


class MaxWorld(ActivityTracking):
    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_id: int = 229_000_001,
        bot_name: str = "EMK test bot",
        bot_username: str = "emk_test_bot",
        clock: Clock | None = None,
        rate_limits: MaxRateLimits | None = None,
        allow_http_webhooks: bool = False,
        bot_can_delete_user_messages: bool = True,
        processing_seconds: float = 0.0,
        keyboard_limits: KeyboardLimits | None = None,
        quiet_period: float = 0.02,
    ) -> None:
        self.clock = clock or Clock()
        self.token = token
        self.bot = MaxUser(bot_id, bot_name, username=bot_username, is_bot=True, locale=None)
        self.commands: list[Json] = []
        self.limiter = MaxRateLimiter(self.clock, rate_limits or MaxRateLimits())
        self.allow_http_webhooks = allow_http_webhooks  # MAX requires HTTPS since May 2026
        # Unverified on real MAX: whether a bot may delete the user's messages in a dialog.
        self.bot_can_delete_user_messages = bot_can_delete_user_messages
        self.keyboard_limits = keyboard_limits or KeyboardLimits()
        self.quiet_period = quiet_period
        self.files = FileStore(self.clock, processing_seconds=processing_seconds)
        self.signal = Signal(self.clock)
        self.updates = UpdateQueue(self.signal)
        self.subscription: Subscription | None = None
        self.users: dict[int, MaxUser] = {}
        self.dialogs: dict[int, Dialog] = {}
        self.dialog_by_user: dict[int, int] = {}
        self.messages: dict[str, StoredMessage] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.stats = Stats()
        self._chat_ids = itertools.count(FIRST_CHAT_ID)
        self._seq = itertools.count(1)
        self._callback_numbers = itertools.count(1)
        self._keyboard_numbers = itertools.count(1)
        self._in_flight = 0
        self._last_activity = 0.0

    # ----- time and identity --------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self.clock.time() * 1000)

    def bot_info(self) -> Json:
        self.bot.last_activity_ms = self.now_ms()
        return {**self.bot.to_api(), "description": None, "commands": self.commands or None}

    # ----- users and dialogs --------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        locale: str | None = "ru",
        phone: str | None = None,
    ) -> MaxUserDriver:
        """Create (or look up) a MAX user with a dialog with the bot; a driver acting as them."""
        from bot.max_emulator.driver import MaxUserDriver

        def add() -> MaxUser:
            user = MaxUser(user_id, first_name, last_name, username, locale, phone)
            self.users[user_id] = user
            dialog = Dialog(next(self._chat_ids), user, self.now_ms())
            self.dialogs[dialog.chat_id] = dialog
            self.dialog_by_user[user_id] = dialog.chat_id
            return user

        get_or_add_user(self.users, user_id, phone, add)
        return MaxUserDriver(self, self.dialog_of_user(user_id))

    def dialog(self, chat_id: int) -> Dialog:
        dialog = self.dialogs.get(chat_id)
        if dialog is None:
            raise not_found(f"Chat {chat_id} not found")
        return dialog

    def dialog_of_user(self, user_id: int) -> Dialog:
        chat_id = self.dialog_by_user.get(user_id)
        if chat_id is None:
            raise not_found(f"User {user_id} not found")
        return self.dialogs[chat_id]

    def writable_dialog(self, chat_id: int | None, user_id: int | None) -> Dialog:
        """The dialog a send addresses (`chat_id` wins, as in maxapi), if the bot may write."""
        dialog = self.dialog(chat_id) if chat_id is not None else None
        if dialog is None and user_id is not None:
            dialog = self.dialog_of_user(user_id)
        assert dialog is not None
        if dialog.stopped or not dialog.started:
            raise chat_denied(dialog.chat_id)
        return dialog

    def chat_api(self, dialog: Dialog) -> Json:
        mids = [m for m in dialog.mids if not self.messages[m].deleted]
        last = self.messages[mids[-1]].timestamp if mids else dialog.created_ms
        return {
            "chat_id": dialog.chat_id,
            "type": "dialog",
            "status": "suspended" if dialog.stopped else "active",
            "title": None,
            "icon": None,
            "last_event_time": last,
            "participants_count": 2,
            "is_public": False,
            "description": None,
            "dialog_with_user": dialog.user.to_api(),
        }

    # ----- messages -----------------------------------------------------------------------

    def add_message(self, dialog: Dialog, *, from_bot: bool, **fields: Any) -> StoredMessage:
        seq = next(self._seq)
        sender = self.bot if from_bot else dialog.user
        if not from_bot:
            dialog.user.last_activity_ms = self.now_ms()
        other = dialog.user if from_bot else self.bot
        message = StoredMessage(
            mid=f"mid.{dialog.chat_id:016x}{seq:016x}",
            seq=seq,
            chat_id=dialog.chat_id,
            from_bot=from_bot,
            sender=sender.to_api(),
            recipient={"chat_id": dialog.chat_id, "chat_type": "dialog", "user_id": other.user_id},
            timestamp=self.now_ms(),
            **fields,
        )
        self.messages[message.mid] = message
        dialog.mids.append(message.mid)
        self.signal.notify()
        return message

    def next_keyboard_id(self) -> str:
        number = next(self._keyboard_numbers)
        return "kb" + hashlib.sha256(f"{self.bot.user_id}:kb:{number}".encode()).hexdigest()[:40]

    def message(self, mid: str) -> StoredMessage:
        message = self.messages.get(mid)
        if message is None or message.deleted:
            raise not_found(f"Message {mid} not found")
        return message

    def bot_messages(self, dialog: Dialog, *, include_deleted: bool = False) -> list[StoredMessage]:
        found = [self.messages[mid] for mid in dialog.mids]
        return [m for m in found if m.from_bot and (include_deleted or not m.deleted)]

    # ----- what users do (the driver calls these) -----------------------------------------

    def _locale(self, dialog: Dialog) -> Json:
        return {"user_locale": dialog.user.locale} if dialog.user.locale else {}

    def bot_started(self, dialog: Dialog, payload: str | None) -> int:
        dialog.started, dialog.stopped = True, False
        update: Json = {
            "update_type": "bot_started",
            "timestamp": self.now_ms(),
            "chat_id": dialog.chat_id,
            "user": dialog.user.to_api(),
            "user_id": dialog.user.user_id,
            **self._locale(dialog),
        }
        if payload is not None:
            update["payload"] = payload
        return self.updates.add("bot_started", update)

    def bot_stopped(self, dialog: Dialog) -> int:
        dialog.stopped = True
        update: Json = {
            "update_type": "bot_stopped",
            "timestamp": self.now_ms(),
            "chat_id": dialog.chat_id,
            "user": dialog.user.to_api(),
            "user_id": dialog.user.user_id,
            **self._locale(dialog),
        }
        return self.updates.add("bot_stopped", update)

    def user_message(self, dialog: Dialog, **fields: Any) -> tuple[StoredMessage, int]:
        dialog.started = True  # writing to a bot opens the dialog, as pressing Start does
        message = self.add_message(dialog, from_bot=False, **fields)
        update: Json = {
            "update_type": "message_created",
            "timestamp": message.timestamp,
            "message": message.to_api(),
            **self._locale(dialog),
        }
        return message, self.updates.add("message_created", update)

    def user_callback(
        self, dialog: Dialog, message: StoredMessage, payload: str | None
    ) -> tuple[CallbackRecord, int]:
        number = next(self._callback_numbers)
        digest = hashlib.sha256(f"{self.bot.user_id}:{number}".encode()).hexdigest()
        record = CallbackRecord(
            callback_id=f"f9{digest[:62]}",
            chat_id=dialog.chat_id,
            mid=message.mid,
            user_id=dialog.user.user_id,
            payload=payload,
            timestamp=self.now_ms(),
        )
        self.callbacks[record.callback_id] = record
        callback: Json = {
            "timestamp": record.timestamp,
            "callback_id": record.callback_id,
            "user": dialog.user.to_api(),
        }
        if payload is not None:
            callback["payload"] = payload
        update: Json = {
            "update_type": "message_callback",
            "timestamp": record.timestamp,
            "callback": callback,
            "message": message.to_api(),
            **self._locale(dialog),
        }
        return record, self.updates.add("message_callback", update)

    def contact_hash(self, user: MaxUser, vcf_info: str) -> str:
        # Opaque: MAX signs the contact so a bot can tell the phone is the account's own;
        # the real algorithm is not public, so nothing should recompute this one.
        return hashlib.sha256(f"{self.token}:{user.user_id}:{vcf_info}".encode()).hexdigest()

    # ----- activity and waiting -----------------------------------------------------------

    def _notify(self) -> None:
        self.signal.notify()

    async def settle(self, update_id: int | None, *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot handled the update and no call of its is still running."""
        if update_id is not None:
            await self.signal.wait_for(
                lambda: update_id in self.updates.handled,
                timeout=timeout,
                what=f"the bot to handle update {update_id} (is it polling or subscribed?)",
            )
        # A short quiet period lets a trailing call (e.g. from a background task) land.
        deadline = self.clock.monotonic() + timeout
        while True:
            now = self.clock.monotonic()
            idle = now - self._last_activity
            if self._in_flight == 0 and idle >= self.quiet_period:
                return
            if now >= deadline:
                raise AssertionError(f"the bot was still busy after {timeout:g}s")
            wait = self.quiet_period - idle if self._in_flight == 0 else deadline - now
            await self.signal.changed(min(wait, deadline - now))

    async def close(self) -> None:
        self.updates.closed = True
        self.signal.notify()

    def reopen(self) -> None:
        self.updates.closed = False
