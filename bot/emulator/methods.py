"""Bot API methods: each takes the world and the request parameters, returns the result."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Awaitable, Callable
from typing import Any

from bot.emulator.errors import MESSAGE_NOT_MODIFIED, ApiError, bad_request
from bot.emulator.formatting import Entity, parse_html, strip_text
from bot.emulator.markup import Markup, parse_reply_markup
from bot.emulator.media import image_size
from bot.emulator.models import CallbackAnswer, Edit, Json, StoredFile, StoredMessage
from bot.emulator.params import Params, Upload
from bot.emulator.world import ChatState, EmulatorWorld

Method = Callable[[EmulatorWorld, Params], Awaitable[Any]]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    def register(func: Method) -> Method:
        METHODS[name.lower()] = func
        return func

    return register


# ----- shared helpers ---------------------------------------------------------------------


def _chat_id(params: Params) -> int:
    raw = params.text("chat_id")
    if raw is None or raw == "":
        raise bad_request("chat_id is empty")
    try:
        return int(raw)
    except ValueError:
        raise bad_request("chat not found") from None  # @usernames never name a private chat


def _required_int(params: Params, name: str, missing: str) -> int:
    value = params.integer(name)
    if value is None:
        raise bad_request(missing)
    return value


def _formatted(
    world: EmulatorWorld, params: Params, field: str, entities_field: str
) -> tuple[str | None, list[Entity], str | None]:
    """Parse text/caption per parse_mode; return (visible text, entities, parse_mode)."""
    source = params.text(field)
    if source is None:
        return None, [], None
    parse_mode = params.text("parse_mode") or None
    entities: list[Entity] = []
    if parse_mode is None:
        raw = params.json_value(entities_field)
        entities = list(raw) if isinstance(raw, list) else []
        text = source
    elif parse_mode.lower() == "html":
        parse_mode = "HTML"
        text, entities = parse_html(source, strict_ampersand=world.strict_html_ampersand)
    elif parse_mode.lower() in ("markdown", "markdownv2"):
        text = source  # not parsed by the emulator; the project uses HTML
    else:
        raise bad_request("unsupported parse_mode")
    text, entities = strip_text(text, entities)
    return text, entities, parse_mode


def _message_text(world: EmulatorWorld, params: Params) -> tuple[str, list[Entity], str | None]:
    text, entities, parse_mode = _formatted(world, params, "text", "entities")
    if not text:
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text, entities, parse_mode


def _caption(world: EmulatorWorld, params: Params) -> tuple[str | None, list[Entity], str | None]:
    caption, entities, parse_mode = _formatted(world, params, "caption", "caption_entities")
    if caption is not None and len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return caption or None, entities, parse_mode


def _reply_to(params: Params, chat: ChatState) -> int | None:
    reply = params.json_value("reply_parameters")
    message_id = params.integer("reply_to_message_id")
    allow_missing = params.flag("allow_sending_without_reply")
    if isinstance(reply, dict):
        message_id = reply.get("message_id")
        allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
    if message_id is None:
        return None
    target = chat.messages.get(int(message_id))
    if target is None or target.deleted:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return int(message_id)


def _send(
    world: EmulatorWorld, params: Params, chat_id: int, markup: Markup | None, **fields: Any
) -> Json:
    chat = world.chat_for_bot(chat_id)
    reply_to = _reply_to(params, chat)
    world.take_send_slot(chat_id)
    message = world.add_message(
        chat,
        from_bot=True,
        reply_markup=markup,
        protect_content=params.flag("protect_content"),
        disable_notification=params.flag("disable_notification"),
        reply_to_message_id=reply_to,
        **fields,
    )
    return message.to_api()


def _stored_file(world: EmulatorWorld, params: Params, field: str, kind: str) -> StoredFile:
    value = params.file(field)
    if value is None:
        raise bad_request(f"there is no {field} in the request")
    if isinstance(value, str):
        stored = world.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(
                f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}"
            )
        return stored
    return _store_upload(world, value, kind)


def _store_upload(world: EmulatorWorld, upload: Upload, kind: str) -> StoredFile:
    if not upload.data:
        raise bad_request("file must be non-empty")
    if kind == "photo":
        if len(upload.data) > MAX_PHOTO_BYTES:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        size = image_size(upload.data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        return world.store_file("photo", upload.data, width=size[0], height=size[1])
    if len(upload.data) > MAX_DOCUMENT_BYTES:
        raise ApiError(413, "Request Entity Too Large")
    name = upload.filename
    mime = (mimetypes.guess_type(name)[0] if name else None) or "application/octet-stream"
    return world.store_file("document", upload.data, file_name=name, mime_type=mime)


# ----- identity, updates, webhook ---------------------------------------------------------


@method("getMe")
async def get_me(world: EmulatorWorld, params: Params) -> Any:
    return world.get_me()


@method("logOut")
@method("close")
async def log_out(world: EmulatorWorld, params: Params) -> Any:
    return True


@method("getUpdates")
async def get_updates(world: EmulatorWorld, params: Params) -> Any:
    limit = params.integer("limit") or 100
    timeout = params.integer("timeout") or 0
    allowed = params.json_value("allowed_updates")
    return await world.get_updates(
        offset=params.integer("offset"),
        limit=min(max(limit, 1), 100),
        timeout=min(max(timeout, 0), 50),
        allowed_updates=list(allowed) if isinstance(allowed, list) else None,
        is_connected=params.is_connected,
    )


@method("setWebhook")
async def set_webhook(world: EmulatorWorld, params: Params) -> Any:
    url = params.text("url") or ""
    schemes = ("https://", "http://") if world.allow_http_webhooks else ("https://",)
    if url and not url.startswith(schemes):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if params.flag("drop_pending_updates"):
        world.drop_pending_updates()
    allowed = params.json_value("allowed_updates")
    world.webhook.url = url
    world.webhook.secret_token = params.text("secret_token")
    world.webhook.max_connections = params.integer("max_connections") or 40
    world.webhook.allowed_updates = list(allowed) if isinstance(allowed, list) else None
    return True


@method("deleteWebhook")
async def delete_webhook(world: EmulatorWorld, params: Params) -> Any:
    if params.flag("drop_pending_updates"):
        world.drop_pending_updates()
    world.webhook.url = ""
    return True


@method("getWebhookInfo")
async def get_webhook_info(world: EmulatorWorld, params: Params) -> Any:
    info: Json = {
        "url": world.webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if world.webhook.url:
        info["max_connections"] = world.webhook.max_connections
        if world.webhook.last_error_date is not None:
            info["last_error_date"] = world.webhook.last_error_date
            info["last_error_message"] = world.webhook.last_error_message
        if world.webhook.allowed_updates is not None:
            info["allowed_updates"] = world.webhook.allowed_updates
    return info


# ----- commands and bot profile -----------------------------------------------------------


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.json_value("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.text("language_code") or ""


@method("setMyCommands")
async def set_my_commands(world: EmulatorWorld, params: Params) -> Any:
    commands = params.json_value("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request('field "commands" must be of type Array')
    for command in commands:
        name = command.get("command", "") if isinstance(command, dict) else ""
        description = command.get("description", "") if isinstance(command, dict) else ""
        valid_name = name.lstrip("/")
        if not (1 <= len(valid_name) <= 32) or not all(
            c.isascii() and (c.isalnum() or c == "_") and not c.isupper() for c in valid_name
        ):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    world.commands[_commands_key(params)] = [
        {"command": c["command"].lstrip("/"), "description": c["description"]} for c in commands
    ]
    return True


@method("getMyCommands")
async def get_my_commands(world: EmulatorWorld, params: Params) -> Any:
    return world.commands.get(_commands_key(params), [])


@method("deleteMyCommands")
async def delete_my_commands(world: EmulatorWorld, params: Params) -> Any:
    world.commands.pop(_commands_key(params), None)
    return True


def _profile_setting(name: str, field: str) -> tuple[Method, Method]:
    async def setter(world: EmulatorWorld, params: Params) -> Any:
        world.bot_settings[(name, params.text("language_code") or "")] = params.text(field) or ""
        return True

    async def getter(world: EmulatorWorld, params: Params) -> Any:
        return {field: world.bot_settings.get((name, params.text("language_code") or ""), "")}

    return setter, getter


for _name, _field in (
    ("Description", "description"),
    ("ShortDescription", "short_description"),
    ("Name", "name"),
):
    _setter, _getter = _profile_setting(_name, _field)
    METHODS[f"setmy{_name.lower()}"] = _setter
    METHODS[f"getmy{_name.lower()}"] = _getter


@method("setChatMenuButton")
async def set_chat_menu_button(world: EmulatorWorld, params: Params) -> Any:
    world.bot_settings[("menu_button", params.text("chat_id") or "")] = params.json_value(
        "menu_button"
    ) or {"type": "default"}
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(world: EmulatorWorld, params: Params) -> Any:
    return world.bot_settings.get(
        ("menu_button", params.text("chat_id") or ""), {"type": "commands"}
    )


# ----- sending ----------------------------------------------------------------------------


@method("sendMessage")
async def send_message(world: EmulatorWorld, params: Params) -> Any:
    chat_id = _chat_id(params)
    text, entities, parse_mode = _message_text(world, params)
    markup = parse_reply_markup(params.json_value("reply_markup"))
    return _send(
        world,
        params,
        chat_id,
        markup,
        text=text,
        entities=entities,
        parse_mode=parse_mode,
        source=params.text("text"),
    )


@method("sendPhoto")
async def send_photo(world: EmulatorWorld, params: Params) -> Any:
    return _send_media(world, params, "photo")


@method("sendDocument")
async def send_document(world: EmulatorWorld, params: Params) -> Any:
    return _send_media(world, params, "document")


def _send_media(world: EmulatorWorld, params: Params, kind: str) -> Json:
    chat_id = _chat_id(params)
    caption, entities, parse_mode = _caption(world, params)
    markup = parse_reply_markup(params.json_value("reply_markup"))
    world.chat_for_bot(chat_id)  # refuse before storing the upload
    stored = _stored_file(world, params, kind, kind)
    media = {"photo": stored} if kind == "photo" else {"document": stored}
    return _send(
        world,
        params,
        chat_id,
        markup,
        caption=caption,
        caption_entities=entities,
        parse_mode=parse_mode,
        source=params.text("caption"),
        **media,
    )


@method("sendChatAction")
async def send_chat_action(world: EmulatorWorld, params: Params) -> Any:
    chat_id = _chat_id(params)
    action = params.text("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    world.record_chat_action(world.chat_for_bot(chat_id), action)
    return True


# ----- editing and deleting ---------------------------------------------------------------


def _message_to_edit(world: EmulatorWorld, params: Params) -> StoredMessage:
    if params.has("inline_message_id"):
        raise bad_request("message to edit not found")  # no inline mode in the emulator
    chat_id = _chat_id(params)
    message_id = _required_int(params, "message_id", "message to edit not found")
    return world.message_for_edit(chat_id, message_id)


def _inline_markup(params: Params) -> Markup | None:
    markup = parse_reply_markup(params.json_value("reply_markup"))
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def _apply_edit(
    world: EmulatorWorld,
    message: StoredMessage,
    *,
    markup: Markup | None,
    **content: Any,
) -> Json:
    # Only inline keyboards belong to a message; a reply keyboard it sent stays as it was.
    old_markup = message.reply_markup if message.inline_keyboard else None
    old_text = message.text if message.text is not None else message.caption
    unchanged = markup == old_markup and all(
        getattr(message, key) == value
        for key, value in content.items()
        if key not in ("source", "parse_mode")
    )
    if unchanged:
        raise bad_request(MESSAGE_NOT_MODIFIED)
    for key, value in content.items():
        setattr(message, key, value)
    if markup is not None or old_markup is not None:
        message.reply_markup = markup
    new_text = message.text if message.text is not None else message.caption
    world.record_edit(
        message,
        Edit(message.message_id, world.now(), old_text, new_text, old_markup, markup),
    )
    return message.to_api()


@method("editMessageText")
async def edit_message_text(world: EmulatorWorld, params: Params) -> Any:
    text, entities, parse_mode = _message_text(world, params)
    markup = _inline_markup(params)
    message = _message_to_edit(world, params)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    return _apply_edit(
        world,
        message,
        markup=markup,
        text=text,
        entities=entities,
        parse_mode=parse_mode,
        source=params.text("text"),
    )


@method("editMessageCaption")
async def edit_message_caption(world: EmulatorWorld, params: Params) -> Any:
    caption, entities, parse_mode = _caption(world, params)
    markup = _inline_markup(params)
    message = _message_to_edit(world, params)
    if message.photo is None and message.document is None:
        raise bad_request("there is no caption in the message to edit")
    return _apply_edit(
        world,
        message,
        markup=markup,
        caption=caption,
        caption_entities=entities,
        parse_mode=parse_mode,
        source=params.text("caption"),
    )


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(world: EmulatorWorld, params: Params) -> Any:
    markup = _inline_markup(params)
    message = _message_to_edit(world, params)
    return _apply_edit(world, message, markup=markup)


@method("deleteMessage")
async def delete_message(world: EmulatorWorld, params: Params) -> Any:
    chat_id = _chat_id(params)
    message_id = _required_int(params, "message_id", "message identifier is not specified")
    world.delete_message(chat_id, message_id)
    return True


@method("deleteMessages")
async def delete_messages(world: EmulatorWorld, params: Params) -> Any:
    chat_id = _chat_id(params)
    ids = params.json_value("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must be a non-empty array of at most 100 identifiers")
    for message_id in ids:
        try:
            world.delete_message(chat_id, int(message_id))
        except ApiError:
            continue  # Telegram skips messages it can't find or delete
    return True


# ----- callback queries and files ---------------------------------------------------------


@method("answerCallbackQuery")
async def answer_callback_query(world: EmulatorWorld, params: Params) -> Any:
    query_id = params.text("callback_query_id") or ""
    text = params.text("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    query = world.callback_queries.get(query_id)
    world.answer_callback(
        query_id,
        CallbackAnswer(
            query_id=query_id,
            message_id=query.message_id if query else None,
            data=query.data if query else None,
            text=text or None,
            show_alert=params.flag("show_alert"),
            url=params.text("url"),
        ),
    )
    return True


@method("getFile")
async def get_file(world: EmulatorWorld, params: Params) -> Any:
    stored = world.files.get(params.text("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }
