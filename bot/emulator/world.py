"""In-memory state of the emulated Telegram: users, chats, messages, updates, files.

Everything is mutated synchronously on one event loop (no awaits inside a mutation), so the
HTTP handlers and the test driver never see half-applied state. Waiters are woken through a
"generation" event that is replaced on every change.

`EmulatorWorld` holds the bot, its users and chats, what the Bot API methods change, and files;
the update queue is `UpdateFeed` (world_updates.py), waiting is `WorldSignals`
(world_signals.py), and the plain records are in world_state.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from typing import TYPE_CHECKING, Any, Literal

from bot.emulator.clock import Clock
from bot.emulator.common import get_or_add_user
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
from bot.emulator.world_state import DEFAULT_UPDATE_TYPES, ChatState, PendingUpdate, Stats, Webhook
from bot.emulator.world_updates import UpdateFeed

if TYPE_CHECKING:
    from bot.emulator.driver import UserDriver

TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")
DELETE_WINDOW_SECONDS = 48 * 3600
# Telegram does not document the window; answers come back fine within a minute.
CALLBACK_ANSWER_WINDOW_SECONDS = 60


class EmulatorWorld(UpdateFeed):
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

    # ----- what users do --------------------------------------------------------------------

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
