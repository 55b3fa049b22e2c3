"""In-memory state of the emulated Telegram: users, chats, messages, updates, files.

Everything is mutated synchronously on one event loop (no awaits inside a mutation), so the
HTTP handlers and the test driver never see half-applied state. Waiters are woken through a
"generation" event that is replaced on every change.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.emulator.clock import Clock
from bot.emulator.common import ActivityTracking, get_or_add_user
from bot.emulator.errors import ApiError, bad_request, forbidden
from bot.emulator.markup import Markup
from bot.emulator.models import (
    CallbackAnswer,
    CallbackQueryRecord,
    ChatAction,
    ChatEvent,
    Edit,
    Json,
    StoredFile,
    StoredMessage,
    UserRecord,
)
from bot.emulator.rate_limit import RateLimiter, RateLimits

if TYPE_CHECKING:
    from bot.emulator.driver import UserDriver

TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")
DELETE_WINDOW_SECONDS = 48 * 3600
# Telegram does not document the window; answers come back fine within a minute.
CALLBACK_ANSWER_WINDOW_SECONDS = 60
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


class EmulatorWorld(ActivityTracking):
    """The whole emulated Telegram for one bot."""

    def __init__(
        self,
        *,
        bot_token: str | None = None,
        bot_username: str = "emk_test_bot",
        bot_first_name: str = "EMK test bot",
        clock: Clock | None = None,
        rate_limits: RateLimits | None = None,
        quiet_period: float = 0.1,
        strict_html_ampersand: bool = True,
        allow_http_webhooks: bool = False,
        first_update_id: int = 1,
    ) -> None:
        self.clock = clock or Clock()
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.bot_token: str | None = None
        self.bot_id = 0
        if bot_token is not None and not self.accept_token(bot_token):
            raise ValueError("malformed bot token")
        self.rate_limiter = RateLimiter(self.clock, rate_limits or RateLimits())
        self.quiet_period = quiet_period
        self.strict_html_ampersand = strict_html_ampersand
        self.allow_http_webhooks = allow_http_webhooks  # Telegram insists on HTTPS
        self.stats = Stats()
        self.webhook = Webhook()
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.bot_settings: dict[tuple[str, str], Any] = {}
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.updates: list[PendingUpdate] = []
        self.delivered_update_id = 0
        self.handled_update_ids: set[int] = set()
        self.dispatcher_tracked = False  # set by bot.emulator.tracking.track_dispatcher
        self._update_ids = itertools.count(first_update_id)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._poll_generation = 0
        self._in_flight = 0
        self._last_activity = 0.0
        self._closed = False
        self._changed = asyncio.Event()

    # ----- bot identity -------------------------------------------------------------------

    def accept_token(self, token: str) -> bool:
        """Bind to the first well-formed token; any other token is unknown (401)."""
        match = TOKEN_RE.match(token)
        if match is None:
            return False
        if self.bot_token is None:
            self.bot_token = token
            self.bot_id = int(match.group(1))
        return token == self.bot_token

    def bot_user(self) -> Json:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def get_me(self) -> Json:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ----- users and chats ----------------------------------------------------------------

    def user(
        self,
        telegram_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        phone: str | None = None,
    ) -> UserDriver:
        """Create (or look up) a Telegram user and return a driver acting as them."""
        from bot.emulator.driver import UserDriver

        def add() -> UserRecord:
            record = UserRecord(telegram_id, first_name, last_name, username, language_code, phone)
            self.users[telegram_id] = record
            self.chats[telegram_id] = ChatState(record)
            return record

        return UserDriver(self, get_or_add_user(self.users, telegram_id, phone, add))

    def chat(self, chat_id: int) -> ChatState:
        return self.chats[chat_id]

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        """The user blocks (or unblocks) the bot; Telegram tells the bot via my_chat_member."""
        user = self.users[user_id]
        if user.blocked_bot == blocked:
            return
        user.blocked_bot = blocked
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        self.enqueue(
            "my_chat_member",
            {
                "chat": user.chat_api(),
                "from": user.to_api(),
                "date": self.now(),
                "old_chat_member": {
                    "status": old,
                    "user": self.bot_user(),
                    **({"until_date": 0} if old == "kicked" else {}),
                },
                "new_chat_member": {
                    "status": new,
                    "user": self.bot_user(),
                    **({"until_date": 0} if new == "kicked" else {}),
                },
            },
        )

    def now(self) -> int:
        return int(self.clock.time())

    # ----- what the bot's methods use -----------------------------------------------------

    def chat_for_bot(self, chat_id: int) -> ChatState:
        """The chat the bot addresses, or Telegram's error for why it can't."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.user.deactivated:
            raise self._forbidden("user is deactivated")
        if chat.user.blocked_bot:
            raise self._forbidden("bot was blocked by the user")
        if not chat.user.started:
            raise self._forbidden("bot can't initiate conversation with a user")
        return chat

    def _forbidden(self, detail: str) -> ApiError:
        self.stats.forbidden += 1
        return forbidden(detail)

    def take_send_slot(self, chat_id: int) -> None:
        retry_after = self.rate_limiter.acquire(chat_id)
        if retry_after is not None:
            self.stats.too_many_requests += 1
            self.stats.too_many_requests_per_chat[chat_id] += 1
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        self.stats.sends_per_chat[chat_id] += 1

    def set_rate_limits(self, limits: RateLimits) -> None:
        self.rate_limiter.configure(limits)

    def add_message(self, chat: ChatState, *, from_bot: bool, **fields: Any) -> StoredMessage:
        sender = self.bot_user() if from_bot else chat.user.to_api()
        message = StoredMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            sender=sender,
            chat=chat.user.chat_api(),
            date=self.now(),
            from_bot=from_bot,
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        if from_bot:
            self._track_reply_keyboard(chat, message.reply_markup)
            self._publish(chat, ChatEvent("message", message=message))
        self._notify()
        return message

    def _track_reply_keyboard(self, chat: ChatState, markup: Markup | None) -> None:
        if markup is None:
            return
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    def message_for_edit(self, chat_id: int, message_id: int) -> StoredMessage:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def record_edit(self, message: StoredMessage, edit: Edit) -> None:
        message.edit_date = edit.date
        chat = self.chats[message.chat_id]
        chat.edits.append(edit)
        self._publish(chat, ChatEvent("edit", message=message, edit=edit))
        self._notify()

    def delete_message(self, chat_id: int, message_id: int) -> None:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if self.clock.time() - message.date >= DELETE_WINDOW_SECONDS:
            raise bad_request("message can't be deleted")
        message.deleted = True
        self._publish(chat, ChatEvent("delete", message=message))
        self._notify()

    def answer_callback(self, query_id: str, answer: CallbackAnswer) -> None:
        query = self.callback_queries.get(query_id)
        if (
            query is None
            or query.answer is not None
            or self.clock.time() - query.date > CALLBACK_ANSWER_WINDOW_SECONDS
        ):
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        query.answer = answer
        chat = self.chats[query.chat_id]
        chat.callback_answers.append(answer)
        self._publish(chat, ChatEvent("callback_answer", answer=answer))
        self._notify()

    def record_chat_action(self, chat: ChatState, action: str) -> None:
        chat.chat_actions.append(ChatAction(chat.id, action, self.now()))

    # ----- files --------------------------------------------------------------------------

    def store_file(
        self,
        kind: Literal["photo", "document"],
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
    ) -> StoredFile:
        number = next(self._file_ids)
        digest = hashlib.sha256(data).hexdigest()[:12]
        prefix = "AgAC" if kind == "photo" else "BQAC"
        stored = StoredFile(
            file_id=f"{prefix}{number:06d}{digest}",
            file_unique_id=f"AQAD{number:06d}",
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        for stored in self.files.values():
            if stored.file_path == path:
                return stored
        return None

    # ----- updates ------------------------------------------------------------------------

    def enqueue(self, kind: str, payload: Json) -> int | None:
        """Queue an update; None if the bot's allowed_updates filter drops it (as Telegram)."""
        if kind not in self.allowed_updates:
            return None
        update = PendingUpdate(next(self._update_ids), kind, payload)
        self.updates.append(update)
        self._notify()
        return update.update_id

    def user_message(self, user_id: int, **fields: Any) -> tuple[StoredMessage, int | None]:
        chat = self.chats[user_id]
        chat.user.started = True
        message = self.add_message(chat, from_bot=False, **fields)
        return message, self.enqueue("message", message.to_api())

    def user_callback(
        self, user_id: int, message_id: int, data: str
    ) -> tuple[CallbackQueryRecord, int | None]:
        chat = self.chats[user_id]
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise AssertionError(f"message {message_id} is not in the chat with {user_id}")
        query = CallbackQueryRecord(
            id=str(4_000_000_000_000_000 + next(self._query_ids)),
            user_id=user_id,
            chat_id=chat.id,
            message_id=message_id,
            data=data,
            date=self.clock.time(),
        )
        self.callback_queries[query.id] = query
        update_id = self.enqueue(
            "callback_query",
            {
                "id": query.id,
                "from": chat.user.to_api(),
                "message": message.to_api(),
                "chat_instance": str(abs(hash((self.bot_id, chat.id))) % 10**18),
                "data": data,
            },
        )
        return query, update_id

    async def get_updates(
        self,
        *,
        offset: int | None,
        limit: int,
        timeout: float,  # noqa: ASYNC109 - Telegram's long-poll timeout, not ours
        allowed_updates: list[str] | None,
        is_connected: Callable[[], bool] = lambda: True,
    ) -> list[Json]:
        if self.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if allowed_updates is not None:
            self.allowed_updates = frozenset(allowed_updates) or DEFAULT_UPDATE_TYPES
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting gets terminated (409)
        deadline = self.clock.monotonic() + max(timeout, 0)
        while True:
            event = self._changed
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            # Like Telegram, a new filter only affects updates created after it was set.
            batch = self.updates[:limit]
            remaining = deadline - self.clock.monotonic()
            if batch or remaining <= 0 or self._closed:
                break
            await _wait_event(event, remaining)
        if not is_connected():
            return []  # the client went away (polling stopped): nothing was delivered
        if batch:
            self.delivered_update_id = max(self.delivered_update_id, batch[-1].update_id)
            self._touch()  # the bot is about to work: the quiet period starts now
        return [u.to_api() for u in batch]

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u.update_id >= offset]

    def drop_pending_updates(self) -> None:
        self.updates.clear()

    @property
    def closed(self) -> bool:
        return self._closed

    def webhook_delivered(self, update_id: int) -> None:
        self.updates = [u for u in self.updates if u.update_id != update_id]
        self.delivered_update_id = max(self.delivered_update_id, update_id)
        self.webhook.delivered += 1
        self.webhook.last_error_date = self.webhook.last_error_message = None
        self._touch()

    def webhook_failed(self, message: str) -> None:
        self.webhook.last_error_date = self.now()
        self.webhook.last_error_message = message
        self._notify()

    # ----- activity and waiting -----------------------------------------------------------

    def mark_update_handled(self, update_id: int) -> None:
        self.handled_update_ids.add(update_id)
        self._touch()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _publish(self, chat: ChatState, event: ChatEvent) -> None:
        for queue in chat.listeners:
            queue.put_nowait(event)

    def subscribe(self, chat_id: int) -> asyncio.Queue[ChatEvent]:
        queue: asyncio.Queue[ChatEvent] = asyncio.Queue()
        self.chats[chat_id].listeners.append(queue)
        return queue

    def unsubscribe(self, chat_id: int, queue: asyncio.Queue[ChatEvent]) -> None:
        self.chats[chat_id].listeners.remove(queue)

    async def wait_for(self, predicate: Callable[[], bool], *, timeout: float, what: str) -> None:  # noqa: ASYNC109
        deadline = self.clock.monotonic() + timeout
        while True:
            event = self._changed
            if predicate():
                return
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
            await _wait_event(event, remaining)

    async def wait_quiet(self, *, timeout: float, quiet: float | None = None) -> None:  # noqa: ASYNC109
        """Return once no bot API call is running and none started for `quiet` seconds."""
        quiet = self.quiet_period if quiet is None else quiet
        deadline = self.clock.monotonic() + timeout
        while True:
            event = self._changed
            now = self.clock.monotonic()
            idle_for = now - self._last_activity
            if self._in_flight == 0 and idle_for >= quiet:
                return
            if now >= deadline:
                raise AssertionError(f"the bot was still busy after {timeout:g}s")
            wait = quiet - idle_for if self._in_flight == 0 else deadline - now
            await _wait_event(event, min(wait, deadline - now))

    async def settle(self, update_id: int | None, *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot fetched the update, handled it, and went quiet."""
        if update_id is not None:
            await self.wait_for(
                lambda: self.delivered_update_id >= update_id,
                timeout=timeout,
                what=f"the bot to fetch update {update_id} (is it polling this emulator?)",
            )
            if self.dispatcher_tracked:
                await self.wait_for(
                    lambda: update_id in self.handled_update_ids,
                    timeout=timeout,
                    what=f"the bot to finish handling update {update_id}",
                )
        # With a tracked dispatcher only a hair of quiet is needed for follow-up calls.
        quiet = min(self.quiet_period, 0.02) if self.dispatcher_tracked else None
        await self.wait_quiet(timeout=timeout, quiet=quiet)

    async def close(self) -> None:
        """Release long polls so the server can shut down promptly."""
        self._closed = True
        self._notify()

    def reopen(self) -> None:
        self._closed = False


async def _wait_event(event: asyncio.Event, timeout: float) -> None:  # noqa: ASYNC109
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
