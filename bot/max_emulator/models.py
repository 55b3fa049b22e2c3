"""What the emulated MAX stores: users, messages, callbacks, chat actions, webhook, files.

`to_api()` methods give the JSON shapes MAX sends (captured payloads: `sender`/`recipient`/
`body` messages, millisecond timestamps, `mid.<hex>` ids, dialog chat ids unlike user ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Json = dict[str, Any]
MediaKind = Literal["image", "video", "audio", "file"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("image", "video", "audio", "file")


@dataclass
class MaxUser:
    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    locale: str | None = "ru"
    phone: str | None = None
    is_bot: bool = False
    last_activity_ms: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_api(self) -> Json:
        user: Json = {
            "user_id": self.user_id,
            "first_name": self.first_name,
            "is_bot": self.is_bot,
            "last_activity_time": self.last_activity_ms,
            "name": self.full_name,  # deprecated by MAX but still sent
        }
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        return user


@dataclass
class StoredMessage:
    mid: str
    seq: int
    chat_id: int
    from_bot: bool
    sender: Json
    recipient: Json
    timestamp: int  # milliseconds, like every MAX time field
    text: str | None = None  # what the person reads: formatting already applied
    markup: list[Json] = field(default_factory=list)
    attachments: list[Json] = field(default_factory=list)
    link: Json | None = None
    source_text: str | None = None  # the text as the bot sent it (markdown/html)
    text_format: str | None = None
    deleted: bool = False
    edited_at: int | None = None
    revision: int = 0  # how many times the bot edited it

    def body(self) -> Json:
        body: Json = {"mid": self.mid, "seq": self.seq, "text": self.text}
        if self.attachments:
            body["attachments"] = self.attachments
        if self.markup:
            body["markup"] = self.markup
        return body

    def to_api(self) -> Json:
        message: Json = {
            "sender": self.sender,
            "recipient": self.recipient,
            "timestamp": self.timestamp,
            "body": self.body(),
        }
        if self.link is not None:
            message["link"] = self.link
        return message

    @property
    def keyboard(self) -> list[list[Json]]:
        for attachment in self.attachments:
            if attachment.get("type") == "inline_keyboard":
                rows: list[list[Json]] = attachment["payload"]["buttons"]
                return rows
        return []

    @property
    def buttons(self) -> list[str]:
        return [str(button["text"]) for row in self.keyboard for button in row]

    def button(self, text: str) -> Json | None:
        for row in self.keyboard:
            for button in row:
                if button.get("text") == text:
                    return button
        return None

    @property
    def media(self) -> list[Json]:
        """Image, video, audio and file attachments, as MAX shows them."""
        return [a for a in self.attachments if a.get("type") in MEDIA_KINDS]


@dataclass
class CallbackAnswer:
    callback_id: str
    mid: str
    notification: str | None
    message: Json | None  # the NewMessageBody the bot replaced the message with, if any


@dataclass
class CallbackRecord:
    callback_id: str
    chat_id: int
    mid: str
    user_id: int
    payload: str | None
    timestamp: int
    answers: list[CallbackAnswer] = field(default_factory=list)


@dataclass(frozen=True)
class ChatAction:
    chat_id: int
    action: str
    timestamp: int


@dataclass
class Subscription:
    url: str
    time: int
    secret: str | None = None
    update_types: list[str] | None = None
    version: str | None = None
    delivered: int = 0
    failures: int = 0
    last_error: str | None = None

    def to_api(self) -> Json:
        return {"url": self.url, "time": self.time, "update_types": self.update_types}

    def wants(self, update_type: str) -> bool:
        return not self.update_types or update_type in self.update_types


@dataclass
class StoredFile:
    """Bytes that reached the upload host (from the bot) or were sent by a user."""

    file_id: int
    kind: MediaKind
    token: str
    data: bytes
    filename: str
    mime_type: str
    ready_at: float  # monotonic seconds: before it MAX answers attachment.not.ready

    @property
    def size(self) -> int:
        return len(self.data)
