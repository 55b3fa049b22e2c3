"""The bot's own storage away mid-conversation: a stalled PostgreSQL ends within its timeout,
and a PostgreSQL or Redis that does not answer is an honest "not done, try again in a
minute" in the user's language (not "the records service" and not silence), logged as one
line per outage rather than one per update; once it answers, the same step works."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any, cast

import pytest
from aiogram import Bot
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_errors
from sqlalchemy import text

from backend_client.protocol import RecordsBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker, create_engine, create_sessionmaker
from bot.factory import create_dispatcher
from bot.keys import AppKeys
from bot.logs import setup_logging
from bot.outages import DATABASE, outage_kind
from bot.settings import Settings
from handlers.errors import STORAGE_OUTAGE_LOG_EVERY_SECONDS
from tests.recording_bot import RecordingSession
from tests.unit.chat import Chat, alerts, joined
from tests.unit.notifications_outage_support import silent_port
from tests.updates import tg_user

NOT_DONE_RU = "Технический сбой на нашей стороне: действие не выполнено"
NOT_DONE_EN = "A technical problem on our side: this was not done"


class FlakyStorage:
    """The sessionmaker, with the database refusing connections while `down`."""

    def __init__(self, real: SessionMaker) -> None:
        self.real = real
        self.down = False
        self.kw = real.kw

    def __call__(self) -> Any:
        if self.down:
            raise sa_errors.OperationalError(
                "SELECT 1", {}, ConnectionRefusedError(111, "Connect call failed")
            )
        return self.real()


@pytest.fixture
def storage(sessionmaker: SessionMaker) -> FlakyStorage:
    return FlakyStorage(sessionmaker)


@pytest.fixture
def chat_for(
    settings: Settings,
    backend: RecordsBackend,
    storage: FlakyStorage,
    keys: AppKeys,
    clock: FrozenClock,
    bot_and_session: tuple[Bot, RecordingSession],
) -> Callable[[str], Chat]:
    """A user (Telegram reporting `language`) of a bot whose database is `storage`."""
    dispatcher = create_dispatcher(
        settings, backend, cast(SessionMaker, storage), keys, clock=clock
    )
    bot, session = bot_and_session
    return lambda language: Chat(dispatcher, bot, session, tg_user(5550101, language))


@pytest.fixture
def chat_and_log(chat_for: Callable[[str], Chat]) -> tuple[Chat, io.StringIO]:
    stream = io.StringIO()
    setup_logging("INFO", stream)
    return chat_for("ru"), stream


def _events(stream: io.StringIO, name: str) -> list[dict[str, Any]]:
    return [r for r in map(json.loads, stream.getvalue().splitlines()) if r["event"] == name]


async def test_a_database_that_does_not_answer_is_told_as_such_and_logged_once(
    chat_and_log: tuple[Chat, io.StringIO], storage: FlakyStorage, clock: FrozenClock
) -> None:
    chat, log = chat_and_log
    storage.down = True
    for _ in range(3):
        reply = joined(await chat.send("/start"))
        assert NOT_DONE_RU in reply and "через минуту" in reply
        assert "медицинских записей" not in reply  # it is not the records service
    pressed = alerts(await chat.press("lang:ru"))
    assert len(pressed) == 1 and NOT_DONE_RU in str(pressed[0].text)

    outage = _events(log, "storage.unavailable")
    assert [(r["kind"], r["updates"]) for r in outage] == [(DATABASE, 1)]
    assert _events(log, "handler.crashed") == []
    clock.advance(seconds=STORAGE_OUTAGE_LOG_EVERY_SECONDS + 1)
    await chat.send("/start")
    assert [r["updates"] for r in _events(log, "storage.unavailable")] == [1, 4]

    storage.down = False
    assert NOT_DONE_RU not in joined(await chat.send("/start"))  # the same step works again


async def test_the_notice_is_in_the_users_language(
    chat_for: Callable[[str], Chat], storage: FlakyStorage
) -> None:
    storage.down = True
    assert NOT_DONE_EN in joined(await chat_for("en").send("/start"))


@pytest.mark.parametrize(
    "error",
    [
        redis_errors.ConnectionError("Error 111 connecting to 127.0.0.1:6379."),
        redis_errors.TimeoutError("Timeout reading from socket"),
    ],
)
async def test_redis_away_mid_update_is_the_same_honest_answer(
    chat_and_log: tuple[Chat, io.StringIO], monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    chat, log = chat_and_log
    state = chat.dispatcher.fsm.storage

    async def away(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(state, "get_state", away)
    monkeypatch.setattr(state, "get_data", away)
    assert NOT_DONE_RU in joined(await chat.send("/start"))
    assert [r["kind"] for r in _events(log, "storage.unavailable")] == ["redis"]


async def test_a_stalled_postgresql_ends_within_the_timeout_as_a_database_outage() -> None:
    async with silent_port() as port:
        engine = create_engine(
            f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x", timeout_seconds=0.3
        )
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:
            async with create_sessionmaker(engine)() as session:
                await session.execute(text("SELECT 1"))
        took = time.monotonic() - started
        await engine.dispose()
    assert outage_kind(caught.value) == DATABASE
    assert took < 3.0  # without the timeout asyncpg waits 60 s for the server to speak
