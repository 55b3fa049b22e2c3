"""Helpers for the medical-record tests: what a person sees of the bot's answers."""

from __future__ import annotations

import io
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from tests.recording_bot import RecordingSession


def buttons(request: Any) -> list[tuple[str, str]]:
    """(text, callback data) of the inline keyboard on a sent or edited message."""
    markup = getattr(request, "reply_markup", None)
    if not isinstance(markup, InlineKeyboardMarkup):
        return []
    return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]


def button(request: Any, starts: str) -> str:
    """The callback data of the first button whose text starts with `starts`."""
    for text, data in buttons(request):
        if text.startswith(starts):
            return data
    raise AssertionError(f"no button {starts!r} in {[t for t, _ in buttons(request)]}")


def last_with_buttons(rec: RecordingSession, chat_id: int) -> Any:
    for request in reversed(rec.requests):
        if getattr(request, "chat_id", None) == chat_id and buttons(request):
            return request
    raise AssertionError("no message with buttons")


def medical_to(rec: RecordingSession, chat_id: int, since: int = 0) -> list[Any]:
    """Everything sent to the chat as protected (medical) content since request `since`."""
    return [
        r
        for r in rec.requests[since:]
        if getattr(r, "chat_id", None) == chat_id and getattr(r, "protect_content", None) is True
    ]


def file_bytes(request: Any) -> bytes:
    """The bytes of a sent photo/document (`BufferedInputFile`)."""
    media = getattr(request, "photo", None) or getattr(request, "document", None)
    data = getattr(media, "data", None)
    assert isinstance(data, bytes), "no file bytes in this request"
    return data


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
