"""A birth date typed while the flood limit drops messages does not stay in the chat, on
Telegram (`bot.middlewares.throttling`) and on MAX (`max_channel.turn._within_limit`); other
chatter that is dropped stays (issue 14, 11a)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from aiogram import Bot, Dispatcher
from aiogram.methods import DeleteMessage

from bot.flows.inputs import Text
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.services.rate_limit import MemoryRateLimiter
from bot.settings import Settings
from max_channel.render import MaxAnswer
from max_channel.turn import MaxParts, Sender, _within_limit
from tests.recording_bot import RecordingSession
from tests.unit.chat import Chat
from tests.updates import tg_user


class _Stopped:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_birth_date_dropped_on_telegram_is_deleted(
    dispatcher: Dispatcher, bot_and_session: tuple[Bot, RecordingSession], settings: Settings
) -> None:
    [middleware] = [
        m for m in dispatcher.update.outer_middleware if isinstance(m, ThrottlingMiddleware)
    ]
    assert isinstance(middleware._limiter, MemoryRateLimiter)
    middleware._limiter._clock = middleware._notices._clock = _Stopped()  # no refill
    bot, session = bot_and_session
    chat = Chat(dispatcher, bot, session, tg_user(7801, language_code="en"))
    for _ in range(int(settings.app.throttle_per_second * 2)):
        await chat.send("/help")

    for typed in ("01.02.1980", "1980-02-01"):
        assert any(isinstance(r, DeleteMessage) for r in await chat.send(typed)), typed
    assert not any(isinstance(r, DeleteMessage) for r in await chat.send("tomorrow at 10?"))


class _Refusing:
    async def hit(self, key: str) -> bool:
        return False


class _I18n:
    available_locales = ("en", "ru")
    default_locale = "ru"

    def gettext(self, msgid: str, locale: str | None = None) -> str:
        return msgid


class _Answer:
    def __init__(self) -> None:
        self.deleted = 0
        self.shown: list[str] = []

    async def delete_input(self) -> None:
        self.deleted += 1

    async def show(self, screens: Any) -> bool:
        self.shown += [s.text for s in screens]
        return True


async def test_a_birth_date_dropped_on_max_is_deleted() -> None:
    # Only what the limit reads before any database work: the limiter, the notices, the texts.
    parts = cast(MaxParts, SimpleNamespace(limiter=_Refusing(), notices=None, i18n=_I18n()))
    sender = Sender(user_id=1, chat_id=1, locale="en")
    for typed, deleted in (("01.02.1980", 1), ("1.2.1980", 1), ("hello", 0)):
        answer = _Answer()
        assert not await _within_limit(parts, sender, Text(typed), cast(MaxAnswer, answer))
        assert answer.deleted == deleted, typed
        assert answer.shown and "Too fast" in answer.shown[0]
