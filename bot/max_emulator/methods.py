"""The MAX Bot API methods over messages, callbacks and chats, with MAX's checks.

Each handler takes the world and an `ApiRequest` (query, JSON body, path parameters) and
returns the JSON answer or raises `ApiError`. HTTP lives in `server.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.max_emulator.attachments import build_attachments
from bot.max_emulator.errors import ApiError, bad_request, not_found, too_many_requests
from bot.max_emulator.formatting import render
from bot.max_emulator.models import CallbackAnswer, ChatAction, Json, StoredMessage
from bot.max_emulator.world import MaxWorld

TEXT_LIMIT = 4000
EDIT_WINDOW_MS = 7 * 24 * 3600 * 1000  # messages without a keyboard: editable for 7 days
SENDER_ACTIONS = frozenset(
    {"typing_on", "sending_photo", "sending_video", "sending_audio", "sending_file", "mark_seen"}
)


@dataclass
class ApiRequest:
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    path: Mapping[str, str] = field(default_factory=dict)
    connected: Callable[[], bool] = lambda: True  # False once the client hung up

    def int_param(self, name: str, *, source: str = "query") -> int | None:
        raw = (self.query if source == "query" else self.path).get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise bad_request(f"Invalid {name}: {raw!r}") from None

    def str_param(self, name: str) -> str:
        value = self.query.get(name, "")
        if not value.strip():
            raise bad_request(f"Parameter '{name}' is required")
        return value

    def json_body(self) -> Json:
        if not isinstance(self.body, dict):
            raise bad_request("Can't deserialize body")
        return self.body


Handler = Callable[[MaxWorld, ApiRequest], Awaitable[Json]]


def _content(world: MaxWorld, body: Json, current: StoredMessage | None) -> dict[str, Any]:
    """Message fields from a NewMessageBody; for an edit, null/missing keeps the old value."""
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        raise bad_request("Field 'text' must be a string")
    text_format = body.get("format")
    if text_format not in (None, "markdown", "html"):
        raise bad_request(f"Invalid format: {text_format!r}")
    if text is not None and len(text) > TEXT_LIMIT:
        raise bad_request(f"text: size must be between 0 and {TEXT_LIMIT}, got {len(text)}")
    fields: dict[str, Any] = {}
    if text is not None:
        plain, markup = render(text, text_format)
        fields.update(text=plain, markup=markup, source_text=text, text_format=text_format)
    raw = body.get("attachments")
    if raw is not None:
        fields["attachments"] = build_attachments(
            raw, world.files, keyboard_id=world.next_keyboard_id(), limits=world.keyboard_limits
        )
    if body.get("link") is not None:
        fields["link"] = _link(world, body["link"])
    if current is None:
        fields.setdefault("attachments", [])
        if not fields.get("text") and not fields["attachments"]:
            raise bad_request("Message must have text or attachments")
    return fields


def _link(world: MaxWorld, link: Any) -> Json:
    if not isinstance(link, dict) or link.get("type") not in ("reply", "forward"):
        raise bad_request("Field 'link' needs type 'reply' or 'forward' and 'mid'")
    linked = world.message(str(link.get("mid")))
    built: Json = {"type": link["type"], "sender": linked.sender, "message": linked.body()}
    if link["type"] == "forward":
        built["chat_id"] = linked.chat_id
    return built


def _apply_edit(world: MaxWorld, message: StoredMessage, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(message, name, value)
    message.edited_at = world.now_ms()
    message.revision += 1
    world.signal.notify()


async def get_me(world: MaxWorld, request: ApiRequest) -> Json:
    return world.bot_info()


async def set_commands(world: MaxWorld, request: ApiRequest) -> Json:
    commands = request.json_body().get("commands") or []
    if not isinstance(commands, list) or len(commands) > 32:
        raise bad_request("Field 'commands' must be an array of at most 32 commands")
    world.commands = [c for c in commands if isinstance(c, dict)]
    return {"commands": world.commands}


async def get_chats(world: MaxWorld, request: ApiRequest) -> Json:
    # GET /chats lists group chats and channels only (never dialogs) and is unsupported
    # since June 2026: a bot must remember chat_ids from bot_started / message_created.
    return {"chats": [], "marker": None}


async def get_chat(world: MaxWorld, request: ApiRequest) -> Json:
    chat_id = request.int_param("chat_id", source="path")
    assert chat_id is not None
    return world.chat_api(world.dialog(chat_id))


async def send_action(world: MaxWorld, request: ApiRequest) -> Json:
    chat_id = request.int_param("chat_id", source="path")
    assert chat_id is not None
    dialog = world.dialog(chat_id)
    action = request.json_body().get("action")
    if action not in SENDER_ACTIONS:
        raise bad_request(f"Invalid action: {action!r}")
    dialog.actions.append(ChatAction(chat_id, str(action), world.now_ms()))
    world.signal.notify()
    return {"success": True}


async def send_message(world: MaxWorld, request: ApiRequest) -> Json:
    chat_id, user_id = request.int_param("chat_id"), request.int_param("user_id")
    if chat_id is None and user_id is None:
        raise bad_request("Either 'chat_id' or 'user_id' is required")
    body = request.json_body()
    dialog = world.writable_dialog(chat_id, user_id)
    fields = _content(world, body, None)
    if not world.limiter.message(dialog.chat_id):
        world.stats.too_many_requests += 1
        raise too_many_requests()
    message = world.add_message(dialog, from_bot=True, **fields)
    return {"message": message.to_api()}


def _editable(world: MaxWorld, mid: str) -> StoredMessage:
    message = world.message(mid)
    if not message.from_bot:
        raise ApiError(403, "chat.denied", "Bot can edit only its own messages")
    if not message.keyboard and world.now_ms() - message.timestamp >= EDIT_WINDOW_MS:
        raise bad_request("Message is too old to edit")
    return message


async def edit_message(world: MaxWorld, request: ApiRequest) -> Json:
    message = _editable(world, request.str_param("message_id"))
    _apply_edit(world, message, _content(world, request.json_body(), message))
    return {"success": True}


async def delete_message(world: MaxWorld, request: ApiRequest) -> Json:
    message = world.message(request.str_param("message_id"))
    if not message.from_bot and not world.bot_can_delete_user_messages:
        raise ApiError(403, "chat.denied", "Bot can delete only its own messages")
    message.deleted = True
    world.signal.notify()
    return {"success": True}


async def get_message(world: MaxWorld, request: ApiRequest) -> Json:
    return world.message(request.path.get("mid", "")).to_api()


async def get_messages(world: MaxWorld, request: ApiRequest) -> Json:
    count = request.int_param("count") or 50
    if not 1 <= count <= 100:
        raise bad_request("Parameter 'count' must be 1 to 100")
    if ids := request.query.get("message_ids"):
        found = [world.messages[m] for m in ids.split(",") if m in world.messages]
    else:
        chat_id = request.int_param("chat_id")
        if chat_id is None:
            raise bad_request("Either 'chat_id' or 'message_ids' is required")
        found = [world.messages[m] for m in reversed(world.dialog(chat_id).mids)]
    return {"messages": [m.to_api() for m in found if not m.deleted][:count]}


async def answer_callback(world: MaxWorld, request: ApiRequest) -> Json:
    callback_id = request.str_param("callback_id")
    record = world.callbacks.get(callback_id)
    if record is None:
        raise not_found(f"Callback {callback_id} not found")
    body = request.json_body()
    notification, new_body = body.get("notification"), body.get("message")
    if notification is not None and not isinstance(notification, str):
        raise bad_request("Field 'notification' must be a string")
    if new_body is not None:
        if not isinstance(new_body, dict):
            raise bad_request("Field 'message' must be an object")
        message = world.message(record.mid)
        _apply_edit(world, message, _content(world, new_body, message))
    answer = CallbackAnswer(callback_id, record.mid, notification, new_body)
    record.answers.append(answer)
    world.dialog(record.chat_id).answers.append(answer)
    world.signal.notify()
    return {"success": True}


async def new_upload(world: MaxWorld, request: ApiRequest) -> Json:
    return world.files.new_slot(request.str_param("type"))
