"""Replies that get through: Telegram's 429 / 5xx on a reply are waited out within the budget,
then the user is told honestly; the notification worker's sends are never retried here.

Most tests run the real Dispatcher against a session that answers like Telegram, failures
included: a scripted failure is a real Bot API error body turned into aiogram's exception by
aiogram itself (`check_response`). Pauses advance a frozen clock instead of sleeping, so the
budget is measured exactly and the tests take no time. The last tests go over HTTP to the
emulator, whose flood limit gives real 429s.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientConnectorError
from aiohttp.client_reqrep import ConnectionKey

from backend_client.protocol import RecordsBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.emulator import EmulatorServer, EmulatorWorld, RateLimits
from bot.factory import create_bot, create_dispatcher
from bot.keys import AppKeys
from bot.logs import setup_logging
from bot.notify_telegram import TelegramSender
from bot.services.notifications.render import NotificationView
from bot.services.notifications.sending import Outcome
from bot.settings import Settings
from bot.telegram_retry import TelegramRetryMiddleware, interactive_calls
from tests.recording_bot import RecordingSession
from tests.unit.policies_support import consenting_user
from tests.updates import callback_update, text_update

HELP_START = "<b>Что умеет бот</b>"  # the Russian /help answer begins so
UNDELIVERED = "Telegram сейчас не доставляет"

Failure = tuple[int, str] | str
"""(status, description) of a Bot API error answer, or "timeout" / "connect"."""


def too_many(retry_after: int) -> tuple[int, str]:
    return (429, f"Too Many Requests: retry after {retry_after}")


SERVER_ERROR = (500, "Internal Server Error")


class FlakyTelegram(RecordingSession):
    """Answers like Telegram except for scripted failures, per method, in order.

    `requests` (the parent's) holds what was delivered; `attempts` every call that was made."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[str] = []
        self._script: dict[str, list[Failure]] = {}
        self._always: dict[str, Failure] = {}

    def fail(self, api_method: str, *failures: Failure) -> None:
        self._script.setdefault(api_method, []).extend(failures)

    def fail_always(self, api_method: str, failure: Failure) -> None:
        self._always[api_method] = failure

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        name = method.__api_method__
        self.attempts.append(name)
        script = self._script.get(name)
        failure = script.pop(0) if script else self._always.get(name)
        if failure is None:
            return await super().make_request(bot, method, timeout)
        if failure == "timeout":
            # What AiohttpSession raises when the answer does not come back in time.
            raise TelegramNetworkError(method, "Request timeout error") from TimeoutError()
        if failure == "connect":
            key = ConnectionKey("api.telegram.org", 443, True, True, None, None, None)
            cause = ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
            raise TelegramNetworkError(method, f"ClientConnectorError: {cause}") from cause
        assert isinstance(failure, tuple)
        status, description = failure
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if status == 429:
            body["parameters"] = {"retry_after": int(description.rsplit(" ", 1)[-1])}
        self.check_response(bot, method, status, json.dumps(body))  # raises aiogram's error
        raise AssertionError("check_response accepted an error answer")

    def delivered(self, api_method: str = "sendMessage") -> list[str]:
        return [str(getattr(r, "text", "")) for r in self.sent(api_method)]


class Time:
    """The test's frozen clock, and a sleep that moves it instead of waiting."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)


@pytest.fixture
def time_(clock: FrozenClock) -> Time:
    return Time(clock)


@pytest.fixture
def telegram() -> FlakyTelegram:
    return FlakyTelegram()


@pytest.fixture
def bot(telegram: FlakyTelegram, time_: Time) -> Bot:
    from aiogram.client.default import DefaultBotProperties
    from aiogram.enums import ParseMode

    bot = Bot(
        "42:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz",
        session=telegram,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    # What create_bot registers, with the test's clock and sleep.
    telegram.middleware(TelegramRetryMiddleware(time_.clock, sleep=time_.sleep))
    return bot


@pytest.fixture
def dispatcher(
    settings: Settings,
    backend: RecordsBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    time_: Time,
) -> Dispatcher:
    return create_dispatcher(settings, backend, sessionmaker, keys, clock=time_.clock)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    setup_logging("DEBUG", stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def warnings_in(stream: io.StringIO) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [r for r in records if r["level"] in {"warning", "error", "critical"}]


async def ask_for_help(dp: Dispatcher, bot: Bot, sessionmaker: SessionMaker) -> None:
    user = await consenting_user(sessionmaker, 7001, "Мария")
    await dp.feed_update(bot, text_update("/help", user))


# --- through the dispatcher ------------------------------------------------------------------


async def test_two_429s_are_waited_out_and_the_reply_arrives_once(
    dispatcher: Dispatcher,
    bot: Bot,
    telegram: FlakyTelegram,
    time_: Time,
    sessionmaker: SessionMaker,
    log_lines: io.StringIO,
) -> None:
    telegram.fail("sendMessage", too_many(1), too_many(1))
    await ask_for_help(dispatcher, bot, sessionmaker)

    replies = telegram.delivered()
    assert len(replies) == 1 and replies[0].startswith(HELP_START)
    assert telegram.attempts.count("sendMessage") == 3
    # Telegram's retry_after honoured each time, with a little jitter on top.
    assert len(time_.slept) == 2 and all(1.0 <= s <= 1.25 for s in time_.slept)
    assert warnings_in(log_lines) == []


async def test_two_500s_then_the_reply_arrives(
    dispatcher: Dispatcher,
    bot: Bot,
    telegram: FlakyTelegram,
    time_: Time,
    sessionmaker: SessionMaker,
    log_lines: io.StringIO,
) -> None:
    telegram.fail("sendMessage", SERVER_ERROR, SERVER_ERROR)
    await ask_for_help(dispatcher, bot, sessionmaker)

    replies = telegram.delivered()
    assert len(replies) == 1 and replies[0].startswith(HELP_START)
    assert telegram.attempts.count("sendMessage") == 3
    assert sum(time_.slept) < 1.5  # short growing pauses, not seconds
    assert warnings_in(log_lines) == []


async def test_a_429_longer_than_the_budget_gives_up_at_once_and_logs_one_line(
    dispatcher: Dispatcher,
    bot: Bot,
    telegram: FlakyTelegram,
    time_: Time,
    sessionmaker: SessionMaker,
    log_lines: io.StringIO,
) -> None:
    telegram.fail_always("sendMessage", too_many(10))
    started = time_.clock.monotonic()
    await ask_for_help(dispatcher, bot, sessionmaker)

    assert telegram.delivered() == []
    # The reply and the apology were each tried once: waiting 10 s would break the 5 s budget.
    assert telegram.attempts.count("sendMessage") == 2
    assert time_.slept == [] and time_.clock.monotonic() - started < 5
    [line] = warnings_in(log_lines)
    assert line["event"] == "reply.undelivered"
    assert line["error"] == "TelegramRetryAfter" and line["method"] == "sendMessage"
    assert line["told"] == "no"
    text = log_lines.getvalue()
    assert "Мария" not in text and "/help" not in text and HELP_START not in text


async def test_after_the_budget_the_user_is_told_telegram_is_not_delivering(
    dispatcher: Dispatcher,
    bot: Bot,
    telegram: FlakyTelegram,
    time_: Time,
    sessionmaker: SessionMaker,
    log_lines: io.StringIO,
) -> None:
    """The issue's case: three 429s with retry_after=2 (a fourth wait would end at ~6 s)."""
    telegram.fail("sendMessage", too_many(2), too_many(2), too_many(2))
    started = time_.clock.monotonic()
    await ask_for_help(dispatcher, bot, sessionmaker)

    [said] = telegram.delivered()
    assert said.startswith(UNDELIVERED) and "минуту" in said
    assert time_.clock.monotonic() - started < 5
    [line] = warnings_in(log_lines)
    assert line["event"] == "reply.undelivered" and line["told"] == "yes"


async def test_a_pressed_button_is_answered_through_two_500s(
    dispatcher: Dispatcher,
    bot: Bot,
    telegram: FlakyTelegram,
    sessionmaker: SessionMaker,
    log_lines: io.StringIO,
) -> None:
    user = await consenting_user(sessionmaker, 7002, "Пётр")
    telegram.fail("answerCallbackQuery", SERVER_ERROR, SERVER_ERROR)
    await dispatcher.feed_update(bot, callback_update("stale:1", user))  # an old button
    [answer] = telegram.sent("answerCallbackQuery")
    assert "кнопка устарела" in str(getattr(answer, "text", ""))
    assert warnings_in(log_lines) == []


# --- what is and is not repeated -------------------------------------------------------------


async def test_a_send_whose_answer_was_lost_is_not_repeated(
    bot: Bot, telegram: FlakyTelegram
) -> None:
    """It most likely arrived: repeating it would show the user the same message twice."""
    telegram.fail("sendMessage", "timeout")
    with interactive_calls(), pytest.raises(TelegramNetworkError):
        await bot.send_message(1, "hello")
    assert telegram.attempts == ["sendMessage"]


async def test_a_send_that_never_connected_and_a_lost_edit_are_repeated(
    bot: Bot, telegram: FlakyTelegram
) -> None:
    telegram.fail("sendMessage", "connect")
    telegram.fail("editMessageText", "timeout")
    with interactive_calls():
        await bot.send_message(1, "hello")
        await bot.edit_message_text("hello again", chat_id=1, message_id=1000)
    assert telegram.attempts == ["sendMessage"] * 2 + ["editMessageText"] * 2
    assert telegram.delivered() == ["hello"]


async def test_5xx_for_ever_gives_up_within_the_budget(
    bot: Bot, telegram: FlakyTelegram, time_: Time
) -> None:
    telegram.fail_always("sendMessage", SERVER_ERROR)
    started = time_.clock.monotonic()
    with interactive_calls(), pytest.raises(TelegramServerError):
        await bot.send_message(1, "hello")
    assert 3 <= len(telegram.attempts) <= 10
    assert time_.clock.monotonic() - started <= 5.0


async def test_outside_an_update_nothing_is_retried(bot: Bot, telegram: FlakyTelegram) -> None:
    """The notification worker: its delivery loop paces and retries sends itself."""
    telegram.fail("sendMessage", too_many(1))
    result = await TelegramSender(bot)(1, NotificationView(text="hi", buttons=()))
    assert result.outcome is Outcome.RETRY_AFTER and result.retry_after == 1
    assert telegram.attempts == ["sendMessage"]


# --- over HTTP, against the emulator's real flood limit --------------------------------------


async def test_create_bot_waits_out_the_emulators_429(
    settings: Settings, clock: FrozenClock
) -> None:
    world = EmulatorWorld(quiet_period=0.05)
    async with EmulatorServer(world) as server:
        local = settings.model_copy(
            update={
                "telegram": settings.telegram.model_copy(
                    update={"telegram_api_url": server.base_url}
                )
            }
        )
        bot = create_bot(local, token=server.token, clock=clock)
        try:
            user = world.user(telegram_id=7003)
            await user.send_text("hi", settle=False)
            world.set_rate_limits(RateLimits(enabled=True, per_chat_per_second=1, per_chat_burst=1))
            with interactive_calls():
                await bot.send_message(user.id, "first")
                await bot.send_message(user.id, "second")  # a 429, retry_after=1, then sent
            assert world.stats.too_many_requests == 1
            assert world.stats.sends_per_chat[user.id] == 2

            # The worker's sender gets the 429 back at once (its loop paces the rest).
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(user.id, "third")
            assert world.stats.too_many_requests == 2
        finally:
            await bot.session.close()
