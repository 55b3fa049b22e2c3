"""Validation and normalisation of `reply_markup`, with Telegram's error texts."""

from __future__ import annotations

import json
from typing import Any

from bot.emulator.errors import bad_request

Markup = dict[str, Any]

_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)
_MAX_CALLBACK_DATA_BYTES = 64
_CANT_PARSE = "can't parse reply keyboard markup JSON object"


def parse_reply_markup(raw: Any) -> Markup | None:
    """Accept a JSON string (form field) or an object (JSON body); return a clean dict."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise bad_request(_CANT_PARSE) from None
    if not isinstance(raw, dict):
        raise bad_request(_CANT_PARSE)
    if "inline_keyboard" in raw:
        return {"inline_keyboard": _inline_rows(raw["inline_keyboard"])}
    if "keyboard" in raw:
        return {**raw, "keyboard": _reply_rows(raw["keyboard"])}
    if raw.get("remove_keyboard") is True or raw.get("force_reply") is True:
        return dict(raw)
    raise bad_request(_CANT_PARSE)


def _rows(value: Any, field: str) -> list[list[Any]]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise bad_request(f'field "{field}" must be of type Array')
    return value


def _inline_rows(value: Any) -> list[list[dict[str, Any]]]:
    rows = _rows(value, "inline_keyboard")
    for row in rows:
        for button in row:
            _check_inline_button(button)
    return [[dict(button) for button in row] for row in rows]


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    if not button["text"]:
        raise bad_request("BUTTON_TEXT_INVALID")
    if not any(key in button for key in _INLINE_ACTIONS):
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "callback_data" must be of type String'
            )
        if not 1 <= len(data.encode("utf-8")) <= _MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _reply_rows(value: Any) -> list[list[dict[str, Any]]]:
    rows = _rows(value, "keyboard")
    clean: list[list[dict[str, Any]]] = []
    for row in rows:
        clean_row: list[dict[str, Any]] = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse keyboard button: Text must be a String")
            if not button["text"]:
                raise bad_request("BUTTON_TEXT_INVALID")
            clean_row.append(dict(button))
        clean.append(clean_row)
    return clean


def inline_buttons(markup: Markup | None) -> list[dict[str, Any]]:
    """All inline buttons, row by row."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]


def keyboard_buttons(markup: Markup | None) -> list[dict[str, Any]]:
    """All reply-keyboard buttons, row by row."""
    if not markup or "keyboard" not in markup:
        return []
    return [button for row in markup["keyboard"] for button in row]
