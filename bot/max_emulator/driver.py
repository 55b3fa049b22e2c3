"""One MAX user in their dialog with the bot, for tests.

Every action returns once the bot has handled the update (its next poll confirmed it, or
the webhook answered 200) and no call of its is still running, so a test can assert on
`user.messages` right away. MAX has no reply keyboard for bots: every button is inline,
including "share my phone" (`request_contact`), which `press` handles like a person would.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.emulator.common import ExpectingDriver
from bot.max_emulator.models import (
    CallbackAnswer,
    ChatAction,
    Json,
    MaxUser,
    MediaKind,
    StoredMessage,
)

if TYPE_CHECKING:
    from bot.max_emulator.world import Dialog, MaxWorld

MOSCOW = (55.7558, 37.6173)


def vcard(phone: str, name: str) -> str:
    digits = re.sub(r"\D", "", phone)  # MAX writes the number without "+"
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nTEL;TYPE=cell:{digits}\r\nFN:{name}\r\nEND:VCARD\r\n"


class MaxUserDriver(ExpectingDriver[StoredMessage]):
    def __init__(self, world: MaxWorld, dialog: Dialog, *, timeout: float = 5.0) -> None:
        self.world = world
        self.dialog = dialog
        self.timeout = timeout
        self.opened_links: list[str] = []
        self._mark()

    # ----- who and what they see ----------------------------------------------------------

    @property
    def user(self) -> MaxUser:
        return self.dialog.user

    @property
    def user_id(self) -> int:
        return self.dialog.user.user_id

    @property
    def chat_id(self) -> int:
        return self.dialog.chat_id

    @property
    def messages(self) -> list[StoredMessage]:
        """Bot messages still in the dialog, oldest first, with edits applied."""
        return self.world.bot_messages(self.dialog)

    @property
    def last_message(self) -> StoredMessage:
        if not self.messages:
            raise AssertionError("the bot has not sent any message to this user")
        return self.messages[-1]

    @property
    def sent(self) -> list[StoredMessage]:
        return [
            self.world.messages[m] for m in self.dialog.mids if not self.world.messages[m].from_bot
        ]

    @property
    def deleted(self) -> list[StoredMessage]:
        return [self.world.messages[m] for m in self.dialog.mids if self.world.messages[m].deleted]

    @property
    def answers(self) -> list[CallbackAnswer]:
        return list(self.dialog.answers)

    @property
    def notifications(self) -> list[str]:
        """The one-off notices the bot showed when answering button presses."""
        return [a.notification for a in self.dialog.answers if a.notification]

    @property
    def chat_actions(self) -> list[ChatAction]:
        return list(self.dialog.actions)

    @property
    def files(self) -> list[Json]:
        """Media attachments of every bot message, oldest first."""
        return [
            a for m in self.world.bot_messages(self.dialog, include_deleted=True) for a in m.media
        ]

    def download(self, attachment: Json) -> bytes:
        """The bytes behind an attachment the bot sent (what tapping it would fetch)."""
        stored = self.world.files.for_attachment(attachment)
        if stored is None:
            raise AssertionError(f"no stored file behind {attachment}")
        return stored.data

    # ----- acting -------------------------------------------------------------------------

    async def start(self, payload: str | None = None, *, settle: bool = True) -> None:
        """Press Start (or open a deep link `https://max.ru/<bot>?start=<payload>`)."""
        self._mark()
        update_id = self.world.bot_started(self.dialog, payload)
        if settle:
            await self.world.settle(update_id, timeout=self.timeout)

    async def stop(self, *, settle: bool = True) -> None:
        """Stop the bot: MAX then refuses the bot's sends with 403 chat.denied."""
        self._mark()
        update_id = self.world.bot_stopped(self.dialog)
        if settle:
            await self.world.settle(update_id, timeout=self.timeout)

    async def send_text(self, text: str, *, settle: bool = True) -> StoredMessage:
        return await self._send(settle, text=text, source_text=text)

    async def share_contact(self, *, settle: bool = True) -> StoredMessage:
        """What the `request_contact` button sends: one's own contact, signed by MAX."""
        if self.user.phone is None:
            raise AssertionError("no phone: create the user with phone=")
        info = vcard(self.user.phone, self.user.full_name)
        payload = {
            "vcf_info": info,
            "hash": self.world.contact_hash(self.user, info),
            "max_info": self.user.to_api(),
        }
        return await self._send(settle, attachments=[{"type": "contact", "payload": payload}])

    async def send_contact(
        self, phone: str, name: str, *, user_id: int | None = None, settle: bool = True
    ) -> StoredMessage:
        """Someone's contact card from the attach menu: no hash, maybe another MAX user."""
        payload: Json = {"vcf_info": vcard(phone, name)}
        if user_id is not None and user_id in self.world.users:
            payload["max_info"] = self.world.users[user_id].to_api()
        return await self._send(settle, attachments=[{"type": "contact", "payload": payload}])

    async def send_location(
        self, latitude: float = MOSCOW[0], longitude: float = MOSCOW[1], *, settle: bool = True
    ) -> StoredMessage:
        location = {"type": "location", "latitude": latitude, "longitude": longitude}
        return await self._send(settle, attachments=[location])

    async def send_file(
        self, data: bytes, filename: str, *, mime_type: str | None = None, settle: bool = True
    ) -> StoredMessage:
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        kind: MediaKind = "image" if mime.startswith("image/") else "file"
        stored = self.world.files.store_from_user(kind, data, filename, mime)
        return await self._send(settle, attachments=[self.world.files.attachment(stored)])

    async def press(
        self, text: str, *, settle: bool = True, require_answer: bool = True
    ) -> CallbackAnswer | None:
        """Press an inline button by its text on the newest message that has it."""
        for message in reversed(self.messages):
            button = message.button(text)
            if button is None:
                continue
            kind = button["type"]
            if kind == "callback":
                return await self.press_payload(
                    message, button["payload"], settle=settle, require_answer=require_answer
                )
            if kind == "request_contact":
                await self.share_contact(settle=settle)
            elif kind == "request_geo_location":
                await self.send_location(settle=settle)
            elif kind == "message":
                await self.send_text(text, settle=settle)
            elif kind == "link":
                self.opened_links.append(button["url"])
            else:
                raise AssertionError(f"the driver cannot press a {kind!r} button")
            return None
        raise AssertionError(f"no button {text!r}; the user sees:\n{self.describe_buttons()}")

    async def press_payload(
        self,
        message: StoredMessage,
        payload: str | None,
        *,
        settle: bool = True,
        require_answer: bool = True,
    ) -> CallbackAnswer | None:
        """Press a callback button with any payload (a modified client can send anything)."""
        self._mark()
        record, update_id = self.world.user_callback(self.dialog, message, payload)
        if not settle:
            return None
        await self.world.settle(update_id, timeout=self.timeout)
        if require_answer and not record.answers:
            raise AssertionError(f"the bot did not answer the press of {payload!r} (POST /answers)")
        return record.answers[-1] if record.answers else None

    async def _send(self, settle: bool, **fields: Any) -> StoredMessage:
        self._mark()
        message, update_id = self.world.user_message(self.dialog, **fields)
        if settle:
            await self.world.settle(update_id, timeout=self.timeout)
        return message

    def _mark(self) -> None:
        self._seen = {
            m.mid: m.revision for m in self.world.bot_messages(self.dialog, include_deleted=True)
        }

    # ----- waiting ------------------------------------------------------------------------

    def _fresh_messages(self) -> list[StoredMessage]:
        return [m for m in self.messages if self._seen.get(m.mid) != m.revision]

    def _content(self, message: StoredMessage) -> str:
        return message.text or ""

    async def _wait_until(self, check: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        await self.world.signal.wait_for(check, timeout=timeout, what="")

    def _no_match(self, text_contains: str | None, timeout: float) -> str:
        seen = "\n".join(f"  - {m.text!r}" for m in self.messages[-5:])
        return (
            f"no new bot message containing {text_contains!r}; last messages:\n{seen or '  (none)'}"
        )

    def describe_buttons(self) -> str:
        for message in reversed(self.messages):
            if message.buttons:
                return f"  on {message.mid}: " + ", ".join(repr(t) for t in message.buttons)
        return "  (no buttons)"
