"""Checking a NewMessageBody's `attachments` and turning them into what a message shows.

Rules MAX enforces that a renderer meets: buttons only as an `inline_keyboard` attachment
(text 1-128, callback payload up to 1024 characters, link URLs http(s) up to 2048); one
`file` per message and nothing beside it but the keyboard; media by upload token.
Keyboard size limits (30 rows, 7 per row, 210 buttons) come from MAX's prose docs, not the
OpenAPI schema; see KeyboardLimits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.max_emulator.errors import bad_request
from bot.max_emulator.files import FileStore
from bot.max_emulator.models import MEDIA_KINDS, Json

BUTTON_TYPES = frozenset(
    {
        "callback",
        "link",
        "request_contact",
        "request_geo_location",
        "open_app",
        "message",
        "clipboard",
        "chat",
    }
)


@dataclass(frozen=True)
class KeyboardLimits:
    rows: int = 30
    per_row: int = 7
    total: int = 210
    text: int = 128
    callback_payload: int = 1024
    url: int = 2048


def build_attachments(
    raw: Any, files: FileStore, *, keyboard_id: str, limits: KeyboardLimits
) -> list[Json]:
    if not isinstance(raw, list):
        raise bad_request("Field 'attachments' must be an array")
    built: list[Json] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request("Attachment must be an object with 'type'")
        kind, payload = item["type"], item.get("payload")
        if kind == "inline_keyboard":
            built.append(_keyboard(payload, keyboard_id, limits))
        elif kind in MEDIA_KINDS:
            built.append(_media(kind, payload, files))
        elif kind == "location":
            built.append(_location(item))
        elif kind in ("contact", "share", "sticker"):
            if not isinstance(payload, dict):
                raise bad_request(f"Field 'payload' of {kind} attachment cannot be null")
            built.append({"type": kind, "payload": _without_nulls(payload)})
        else:
            # reply_keyboard is in the OpenAPI schema but not in its attachment types.
            raise bad_request(f"Unknown attachment type: {kind}")
    kinds = [a["type"] for a in built]
    if "file" in kinds and (
        kinds.count("file") > 1 or len(kinds) - kinds.count("inline_keyboard") > 1
    ):
        raise bad_request("Must be only one file attachment in message")
    if kinds.count("inline_keyboard") > 1:
        raise bad_request("Must be only one inline keyboard in message")
    return built


def _without_nulls(value: dict[str, Any]) -> Json:
    return {k: v for k, v in value.items() if v is not None}


def _media(kind: str, payload: Any, files: FileStore) -> Json:
    if not isinstance(payload, dict):
        raise bad_request(f"Field 'payload' of {kind} attachment cannot be null")
    token = payload.get("token")
    photos = payload.get("photos")
    if token is None and kind == "image" and isinstance(photos, dict) and photos:
        first = next(iter(photos.values()))
        token = first.get("token") if isinstance(first, dict) else None
    if token is None and kind == "image" and isinstance(payload.get("url"), str):
        # An image by external URL: MAX fetches it itself; the emulator cannot.
        return {"type": "image", "payload": {"photo_id": 0, "token": "", "url": payload["url"]}}
    if not isinstance(token, str) or not token:
        raise bad_request(f"Field 'token' of {kind} attachment cannot be null")
    return files.attachment(files.resolve(kind, token))


def _location(item: Json) -> Json:
    latitude, longitude = item.get("latitude"), item.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        raise bad_request("Location needs 'latitude' and 'longitude'")
    return {"type": "location", "latitude": latitude, "longitude": longitude}


def _keyboard(payload: Any, keyboard_id: str, limits: KeyboardLimits) -> Json:
    rows = payload.get("buttons") if isinstance(payload, dict) else None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, list) for r in rows):
        raise bad_request("Field 'buttons' must be a non-empty array of button rows")
    if len(rows) > limits.rows:
        raise bad_request(f"Keyboard can have at most {limits.rows} rows")
    if sum(len(row) for row in rows) > limits.total:
        raise bad_request(f"Keyboard can have at most {limits.total} buttons")
    built_rows: list[list[Json]] = []
    for row in rows:
        if not row or len(row) > limits.per_row:
            raise bad_request(f"A keyboard row must have 1 to {limits.per_row} buttons")
        built_rows.append([_button(button, limits) for button in row])
    return {
        "type": "inline_keyboard",
        "callback_id": keyboard_id,
        "payload": {"buttons": built_rows},
    }


def _button(button: Any, limits: KeyboardLimits) -> Json:
    if not isinstance(button, dict) or button.get("type") not in BUTTON_TYPES:
        kind = button.get("type") if isinstance(button, dict) else button
        raise bad_request(f"Unknown button type: {kind!r}")
    built = _without_nulls(button)
    text = built.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= limits.text:
        raise bad_request(f"Button text must be 1 to {limits.text} characters")
    kind = built["type"]
    if kind == "callback":
        payload = built.get("payload")
        if not isinstance(payload, str):
            raise bad_request("Field 'payload' of callback button cannot be null")
        if len(payload) > limits.callback_payload:
            raise bad_request(
                f"Callback button payload is too long: {len(payload)} > {limits.callback_payload}"
            )
        built.setdefault("intent", "default")
    elif kind == "link":
        url = built.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise bad_request("Link button needs an http(s) 'url'")
        if len(url) > limits.url:
            raise bad_request(f"Link button url is too long: {len(url)} > {limits.url}")
    elif kind == "open_app" and not built.get("web_app"):
        raise bad_request("Field 'webApp' cannot be null")
    elif kind == "clipboard" and not isinstance(built.get("payload"), str):
        raise bad_request("Field 'payload' of clipboard button cannot be null")
    return built
