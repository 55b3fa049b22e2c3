"""Plain records the emulator keeps: users, messages, files, callback queries."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.emulator.markup import Markup, inline_buttons, keyboard_buttons

Json = dict[str, Any]


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone: str | None = None
    blocked_bot: bool = False
    deactivated: bool = False
    started: bool = False  # has written to the bot at least once

    def to_api(self) -> Json:
        data: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data

    def chat_api(self) -> Json:
        data: Json = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        return data


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: Literal["photo", "document"]
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def file_path(self) -> str:
        folder = "photos" if self.kind == "photo" else "documents"
        suffix = ""
        if self.file_name and "." in self.file_name:
            suffix = "." + self.file_name.rsplit(".", 1)[1]
        elif self.kind == "photo":
            suffix = ".jpg"
        return f"{folder}/file_{self.file_unique_id}{suffix}"

    def photo_sizes(self) -> list[Json]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.size,
                "width": self.width,
                "height": self.height,
            }
        ]

    def document_api(self) -> Json:
        data: Json = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name is not None:
            data["file_name"] = self.file_name
        if self.mime_type is not None:
            data["mime_type"] = self.mime_type
        return data


@dataclass
class Edit:
    """One edit the bot made, as the user would notice it."""

    message_id: int
    date: int
    old_text: str | None
    new_text: str | None
    old_reply_markup: Markup | None
    new_reply_markup: Markup | None


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    sender: Json
    chat: Json
    date: int
    from_bot: bool
    text: str | None = None
    entities: list[Json] = field(default_factory=list)
    parse_mode: str | None = None
    source: str | None = None  # text or caption exactly as the bot sent it (e.g. HTML)
    caption: str | None = None
    caption_entities: list[Json] = field(default_factory=list)
    reply_markup: Markup | None = None
    protect_content: bool = False
    disable_notification: bool = False
    reply_to_message_id: int | None = None
    photo: StoredFile | None = None
    document: StoredFile | None = None
    contact: Json | None = None
    edit_date: int | None = None
    deleted: bool = False

    @property
    def html(self) -> str:
        """What the bot wrote in HTML mode (edits applied), else the escaped plain text."""
        if self.parse_mode == "HTML" and self.source is not None:
            return self.source
        return html.escape(self.text or self.caption or "", quote=False)

    @property
    def inline_keyboard(self) -> list[list[Json]]:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            rows: list[list[Json]] = self.reply_markup["inline_keyboard"]
            return rows
        return []

    @property
    def buttons(self) -> list[str]:
        """Texts of the inline buttons, row by row."""
        return [button["text"] for button in inline_buttons(self.reply_markup)]

    @property
    def keyboard(self) -> list[str]:
        """Texts of the reply-keyboard buttons this message sent, row by row."""
        return [button["text"] for button in keyboard_buttons(self.reply_markup)]

    def button(self, text: str) -> Json | None:
        for button in inline_buttons(self.reply_markup):
            if button["text"] == text:
                return button
        return None

    def to_api(self) -> Json:
        data: Json = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if self.photo is not None:
            data["photo"] = self.photo.photo_sizes()
        if self.document is not None:
            data["document"] = self.document.document_api()
        if self.contact is not None:
            data["contact"] = self.contact
        # Telegram echoes only inline keyboards back in Message.reply_markup.
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if self.protect_content:
            data["has_protected_content"] = True
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        return data


@dataclass
class CallbackAnswer:
    query_id: str
    message_id: int | None
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    date: float
    answer: CallbackAnswer | None = None


@dataclass
class ChatAction:
    chat_id: int
    action: str
    date: int


@dataclass
class ChatEvent:
    """What happened in a chat, for live views such as the terminal client."""

    kind: Literal["message", "edit", "delete", "callback_answer"]
    message: StoredMessage | None = None
    answer: CallbackAnswer | None = None
    edit: Edit | None = None
