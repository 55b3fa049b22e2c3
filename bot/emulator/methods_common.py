"""What the Bot API methods share: their type, the registering decorator, and the parsing of
parameters every kind of message needs (chat id, text and caption with their entities).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.emulator.errors import bad_request
from bot.emulator.formatting import Entity, parse_html, strip_text
from bot.emulator.params import Params
from bot.emulator.world import EmulatorWorld

Method = Callable[[EmulatorWorld, Params], Awaitable[Any]]

MAX_TEXT = 4096
MAX_CAPTION = 1024


def registrar(table: dict[str, Method]) -> Callable[[str], Callable[[Method], Method]]:
    """A `@method("sendMessage")` decorator filing methods in `table` by lower-case name."""

    def method(name: str) -> Callable[[Method], Method]:
        def register(func: Method) -> Method:
            table[name.lower()] = func
            return func

        return register

    return method


def read_chat_id(params: Params) -> int:
    raw = params.text("chat_id")
    if raw is None or raw == "":
        raise bad_request("chat_id is empty")
    try:
        return int(raw)
    except ValueError:
        raise bad_request("chat not found") from None  # @usernames never name a private chat


def read_required_int(params: Params, name: str, missing: str) -> int:
    value = params.integer(name)
    if value is None:
        raise bad_request(missing)
    return value


def read_formatted(
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


def read_message_text(world: EmulatorWorld, params: Params) -> tuple[str, list[Entity], str | None]:
    text, entities, parse_mode = read_formatted(world, params, "text", "entities")
    if not text:
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text, entities, parse_mode


def read_caption(
    world: EmulatorWorld, params: Params
) -> tuple[str | None, list[Entity], str | None]:
    caption, entities, parse_mode = read_formatted(world, params, "caption", "caption_entities")
    if caption is not None and len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return caption or None, entities, parse_mode
