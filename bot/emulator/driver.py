"""One Telegram user in a private chat with the bot, for tests and the terminal client.

Every action returns once the bot has fetched the update, handled it and gone quiet, so a
test can assert on `user.messages` right away. Waiting helpers cover messages that arrive
later (reminders, notifications).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.emulator.common import ExpectingDriver
from bot.emulator.formatting import utf16_len
from bot.emulator.markup import inline_buttons, keyboard_buttons
from bot.emulator.media import image_size
from bot.emulator.models import (
    CallbackAnswer,
    ChatAction,
    Edit,
    Json,
    StoredFile,
    StoredMessage,
    UserRecord,
)

if TYPE_CHECKING:
    from bot.emulator.world import EmulatorWorld
    from bot.emulator.world_state import ChatState

_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


class UserDriver(ExpectingDriver[StoredMessage]):
    def __init__(self, world: EmulatorWorld, record: UserRecord, *, timeout: float = 5.0) -> None:
        self.world = world
        self.record = record
        self.timeout = timeout
        self._cursor = len(self.chat.bot_messages(include_deleted=True))
        self._action_mark = self._cursor
        self._edit_mark = len(self.chat.edits)

    # ----- who and where ------------------------------------------------------------------

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def chat(self) -> ChatState:
        return self.world.chat(self.record.id)

    # ----- what the user saw --------------------------------------------------------------

    @property
    def messages(self) -> list[StoredMessage]:
        """Bot messages still in the chat, oldest first, with edits applied."""
        return self.chat.bot_messages()

    @property
    def last_message(self) -> StoredMessage:
        messages = self.messages
        if not messages:
            raise AssertionError("the bot has not sent any message to this user")
        return messages[-1]

    @property
    def sent(self) -> list[StoredMessage]:
        """What this user sent, oldest first."""
        return [m for m in self.chat.messages.values() if not m.from_bot]

    @property
    def edits(self) -> list[Edit]:
        return list(self.chat.edits)

    @property
    def deleted(self) -> list[StoredMessage]:
        """Every message deleted from the chat: the bot's, and the user's own that the bot
        deleted (a typed policy number or code)."""
        return [m for m in self.chat.messages.values() if m.deleted]

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        return list(self.chat.callback_answers)

    @property
    def chat_actions(self) -> list[ChatAction]:
        return list(self.chat.chat_actions)

    @property
    def photos(self) -> list[StoredFile]:
        return [m.photo for m in self.chat.bot_messages(include_deleted=True) if m.photo]

    @property
    def documents(self) -> list[StoredFile]:
        return [m.document for m in self.chat.bot_messages(include_deleted=True) if m.document]

    @property
    def reply_keyboard(self) -> list[str]:
        """Texts of the reply keyboard currently shown under the input field."""
        return [button["text"] for button in keyboard_buttons(self.chat.reply_keyboard)]

    # ----- acting -------------------------------------------------------------------------

    async def send_text(
        self, text: str, *, entities: list[Json] | None = None, settle: bool = True
    ) -> StoredMessage:
        if entities is None:
            entities = []
            if match := _COMMAND_RE.match(text):
                # Telegram marks a leading /command as a bot_command entity.
                entities = [{"type": "bot_command", "offset": 0, "length": match.end()}]
        return await self._send(settle, text=text, entities=entities)

    async def send_command(
        self, command: str, args: str = "", *, settle: bool = True
    ) -> StoredMessage:
        command = command if command.startswith("/") else f"/{command}"
        text = f"{command} {args}".strip()
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
        return await self._send(settle, text=text, entities=[entity])

    async def share_contact(
        self,
        phone: str | None = None,
        *,
        user_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        omit_user_id: bool = False,
        settle: bool = True,
    ) -> StoredMessage:
        """Share a contact: by default one's own (what a request_contact button sends)."""
        phone = phone or self.record.phone
        if phone is None:
            raise AssertionError("no phone: pass phone= or create the user with phone=")
        contact: Json = {"phone_number": phone, "first_name": first_name or self.record.first_name}
        if last_name or (first_name is None and self.record.last_name):
            contact["last_name"] = last_name or self.record.last_name
        if not omit_user_id:
            contact["user_id"] = self.id if user_id is None else user_id
        return await self._send(settle, contact=contact)

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        settle: bool = True,
    ) -> StoredMessage:
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self.world.store_file("document", data, file_name=file_name, mime_type=mime)
        return await self._send(settle, document=stored, caption=caption)

    async def send_photo(
        self, data: bytes, *, caption: str | None = None, settle: bool = True
    ) -> StoredMessage:
        size = image_size(data)
        if size is None:
            raise AssertionError("send_photo needs PNG, JPEG, GIF or WebP bytes")
        stored = self.world.store_file("photo", data, width=size[0], height=size[1])
        return await self._send(settle, photo=stored, caption=caption)

    async def press(self, text: str, *, settle: bool = True) -> CallbackAnswer | None:
        """Press a button by its text: inline on the newest message that has it, else the
        reply keyboard (which sends the text, or the contact for request_contact)."""
        for message in reversed(self.messages):
            button = message.button(text)
            if button is None:
                continue
            if "callback_data" not in button:
                raise AssertionError(f"button {text!r} is not a callback button: {button}")
            return await self.press_data(message.message_id, button["callback_data"], settle=settle)
        for button in keyboard_buttons(self.chat.reply_keyboard):
            if button["text"] != text:
                continue
            keyboard = self.chat.reply_keyboard or {}
            if keyboard.get("one_time_keyboard"):
                self.chat.reply_keyboard = None
            if button.get("request_contact"):
                await self.share_contact(settle=settle)
            else:
                await self.send_text(text, settle=settle)
            return None
        raise AssertionError(f"no button {text!r}; the user sees:\n{self.describe_buttons()}")

    async def press_data(
        self, message_id: int, data: str, *, settle: bool = True
    ) -> CallbackAnswer:
        """Press a callback button with arbitrary data (a client can forge any data)."""
        self._begin_action()
        query, update_id = self.world.user_callback(self.id, message_id, data)
        if not settle:
            return CallbackAnswer(query.id, message_id, data, None, show_alert=False)
        await self.world.settle(update_id, timeout=self.timeout)
        await self.world.wait_for(
            lambda: query.answer is not None,
            timeout=self.timeout,
            what=f"the bot to answer the callback query with data {data!r}",
        )
        await self.world.settle(None, timeout=self.timeout)
        assert query.answer is not None
        return query.answer

    def block_bot(self) -> None:
        self.world.set_blocked(self.id, True)

    def unblock_bot(self) -> None:
        self.world.set_blocked(self.id, False)

    def deactivate(self) -> None:
        self.record.deactivated = True

    async def _send(self, settle: bool, **fields: Any) -> StoredMessage:
        self._begin_action()
        if self.record.blocked_bot:
            self.world.set_blocked(self.id, False)  # writing to a blocked bot restarts it
        message, update_id = self.world.user_message(self.id, **fields)
        if settle:
            await self.world.settle(update_id, timeout=self.timeout)
        return message

    def _begin_action(self) -> None:
        self._cursor = self._action_mark = len(self.chat.bot_messages(include_deleted=True))
        self._edit_mark = len(self.chat.edits)

    # ----- waiting ------------------------------------------------------------------------

    async def wait_idle(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the bot has made no API call for the world's quiet period."""
        await self.world.wait_quiet(timeout=timeout or self.timeout)

    async def wait_for_message(self, timeout: float | None = None) -> StoredMessage:  # noqa: ASYNC109
        """The next bot message this driver has not returned yet (since the last action)."""
        cursor = self._cursor
        await self.world.wait_for(
            lambda: len(self.chat.bot_messages(include_deleted=True)) > cursor,
            timeout=timeout or self.timeout,
            what="a message from the bot",
        )
        self._cursor = cursor + 1
        return self.chat.bot_messages(include_deleted=True)[cursor]

    def _fresh_messages(self) -> list[StoredMessage]:
        candidates = self.chat.bot_messages(include_deleted=True)[self._action_mark :]
        edited_ids = {e.message_id for e in self.chat.edits[self._edit_mark :]}
        candidates += [m for m in self.messages if m.message_id in edited_ids]
        return [m for m in candidates if not m.deleted]

    def _content(self, message: StoredMessage) -> str:
        return message.text if message.text is not None else message.caption or ""

    async def _wait_until(self, check: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        await self.world.wait_for(check, timeout=timeout, what="")

    def _no_match(self, text_contains: str | None, timeout: float) -> str:
        seen = "\n".join(f"  - {m.text or m.caption!r}" for m in self.messages[-5:])
        return (
            f"no bot message containing {text_contains!r} within "
            f"{timeout:g}s; last messages:\n{seen or '  (none)'}"
        )

    # ----- describing ---------------------------------------------------------------------

    def describe_buttons(self) -> str:
        lines: list[str] = []
        for message in reversed(self.messages):
            if inline_buttons(message.reply_markup):
                texts = ", ".join(repr(t) for t in message.buttons)
                lines.append(f"  inline on message {message.message_id}: {texts}")
                break
        if self.reply_keyboard:
            lines.append("  reply keyboard: " + ", ".join(repr(t) for t in self.reply_keyboard))
        return "\n".join(lines) or "  (no buttons)"
