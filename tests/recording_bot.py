"""A Bot whose session records every API call and answers like Telegram, without a network.

Unit tests feed updates through the real Dispatcher (`dp.feed_update`) and assert the exact
requests the bot made; end-to-end tests use the HTTP emulator instead.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, Message, User

from tests.sandbox_fixtures import TEST_NOW

BOT_USER = User(id=42, is_bot=True, first_name="EMK", username="emk_test_bot")


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(1000)

    async def close(self) -> None:
        pass

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(method)
        returning = method.__returning__
        if returning is Message or "Message" in str(returning):
            chat_id = int(getattr(method, "chat_id", 0) or 0)
            message = Message(
                message_id=next(self._ids),
                date=TEST_NOW,
                chat=Chat(id=chat_id, type="private"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
            )
            return message  # type: ignore[return-value]
        if returning is User:
            return BOT_USER  # type: ignore[return-value]
        return True  # type: ignore[return-value]

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # pragma: no cover - not used
        yield b""

    def sent(self, api_method: str) -> list[TelegramMethod[Any]]:
        return [r for r in self.requests if r.__api_method__ == api_method]

    def texts(self) -> list[str]:
        return [str(getattr(r, "text", "")) for r in self.requests if getattr(r, "text", None)]


def recording_bot() -> tuple[Bot, RecordingSession]:
    session = RecordingSession()
    bot = Bot(
        "42:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz",
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    return bot, session
