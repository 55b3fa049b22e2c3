"""Bot API methods on messages: sending, editing, deleting, answering callback queries, files."""

from __future__ import annotations

import mimetypes
from typing import Any

from bot.emulator.errors import MESSAGE_NOT_MODIFIED, ApiError, bad_request
from bot.emulator.markup import Markup, parse_reply_markup
from bot.emulator.media import image_size
from bot.emulator.methods_common import (
    Method,
    read_caption,
    read_chat_id,
    read_message_text,
    read_required_int,
    registrar,
)
from bot.emulator.models import CallbackAnswer, Edit, Json, StoredFile, StoredMessage
from bot.emulator.params import Params, Upload
from bot.emulator.world import EmulatorWorld
from bot.emulator.world_state import ChatState

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


MESSAGE_METHODS: dict[str, Method] = {}
method = registrar(MESSAGE_METHODS)


# ----- sending ----------------------------------------------------------------------------


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


@method("sendMessage")
async def send_message(world: EmulatorWorld, params: Params) -> Any:
    chat_id = read_chat_id(params)
    text, entities, parse_mode = read_message_text(world, params)
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
    chat_id = read_chat_id(params)
    caption, entities, parse_mode = read_caption(world, params)
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
    chat_id = read_chat_id(params)
    action = params.text("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    world.record_chat_action(world.chat_for_bot(chat_id), action)
    return True


# ----- editing and deleting ---------------------------------------------------------------


def _message_to_edit(world: EmulatorWorld, params: Params) -> StoredMessage:
    if params.has("inline_message_id"):
        raise bad_request("message to edit not found")  # no inline mode in the emulator
    chat_id = read_chat_id(params)
    message_id = read_required_int(params, "message_id", "message to edit not found")
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
    text, entities, parse_mode = read_message_text(world, params)
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
    caption, entities, parse_mode = read_caption(world, params)
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
    chat_id = read_chat_id(params)
    message_id = read_required_int(params, "message_id", "message identifier is not specified")
    world.delete_message(chat_id, message_id)
    return True


@method("deleteMessages")
async def delete_messages(world: EmulatorWorld, params: Params) -> Any:
    chat_id = read_chat_id(params)
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
