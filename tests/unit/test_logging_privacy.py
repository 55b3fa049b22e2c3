"""Logs never carry what a patient typed or who they are: only pseudonyms, kinds and counts."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message

from backend_client.errors import BackendUnavailable
from bot.keys import AppKeys
from bot.logs import pseudonym, setup_logging
from bot.settings import Settings
from keyboards.start import ConsentAction, ConsentCb, LanguageCb
from tests.recording_bot import RecordingSession
from tests.unit.chat import Chat, put_first
from tests.updates import contact_update, tg_user

TELEGRAM_ID = 987654321
POLICY = "7712345678901234"
PHONE = "+7 916 123-45-67"
PHONE_DIGITS = "+79161234567"
BIRTH_DATE = "14.03.1985"
CODE = "482915"
SURNAME = "Каширина"
FIRST = "Мария"
NAME = f"{SURNAME} {FIRST} Петровна"
DIAGNOSIS = "аденокарцинома сигмовидной кишки"
# The conftest's bot token; a test bot with the same one serves the updates.
TOKEN = "42:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz"
SECRETS = (POLICY, PHONE, PHONE_DIGITS, "9161234567", BIRTH_DATE, CODE, SURNAME, DIAGNOSIS)
EVERYTHING = f"{NAME}, {DIAGNOSIS}, полис {POLICY}, тел. {PHONE} / {PHONE_DIGITS}, д.р. {BIRTH_DATE}, код {CODE}, {TOKEN}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.app.throttle_per_second = 1000.0
    return settings


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def crashing(dispatcher: Dispatcher) -> None:
    """Handlers that fail with the user's data in the exception, as real bugs do."""
    router = Router(name="crashing")

    @router.message(Command("crash"))
    async def crash(message: Message) -> None:
        raise RuntimeError(f"could not parse {message.text!r}: {EVERYTHING}")

    @router.message(Command("backend"))
    async def backend_down(message: Message) -> None:
        raise BackendUnavailable(f"timeout fetching {POLICY} for {NAME}")

    @router.callback_query(F.data.startswith("crash"))
    async def crash_button(query: CallbackQuery) -> None:
        raise ValueError(f"bad button {query.data}: {EVERYTHING}")

    put_first(dispatcher, router)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    raw = stream.getvalue().splitlines()
    assert raw, "nothing was logged"
    parsed = []
    for line in raw:
        record = json.loads(line)  # every line is one JSON object
        assert isinstance(record, dict)
        assert {"ts", "level", "logger", "event"} <= set(record), record
        parsed.append(record)
    return parsed


def _assert_clean(output: str) -> None:
    leaked = [value for value in (*SECRETS, TOKEN, "TEST_TOKEN") if value in output]
    assert not leaked, f"leaked into the log: {leaked}"
    assert str(TELEGRAM_ID) not in output, "raw Telegram id in the log"


@pytest.mark.usefixtures("crashing")
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_a_conversation_full_of_personal_data_leaves_none_in_the_log(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    keys: AppKeys,
    log_stream: io.StringIO,
    level: str,
) -> None:
    setup_logging(level, log_stream)
    bot, session = bot_and_session
    user = tg_user(TELEGRAM_ID, language_code="ru").model_copy(
        update={"first_name": NAME.split()[1], "last_name": SURNAME, "username": "kashirina_m"}
    )
    chat = Chat(dispatcher, bot, session, user)

    await chat.send("/start")
    await chat.press(LanguageCb(code="ru").pack())
    for text in (POLICY, PHONE, BIRTH_DATE, CODE, NAME, DIAGNOSIS, TOKEN, EVERYTHING):
        await chat.send(text)
    await dispatcher.feed_update(bot, contact_update(PHONE_DIGITS, user, TELEGRAM_ID))
    await chat.press(ConsentCb(action=ConsentAction.ACCEPT).pack())
    await chat.send(EVERYTHING)
    await chat.send(f"/crash {EVERYTHING}")
    await chat.send(f"/backend {POLICY}")
    await chat.press(f"crash:{POLICY}:{CODE}")
    await chat.press(f"garbage:{POLICY}")

    # The crashes were answered politely, without echoing anything back.
    assert "Что-то пошло не так" in " ".join(session.texts())
    assert "временно недоступен" in " ".join(session.texts())

    output = log_stream.getvalue()
    _assert_clean(output)
    records = _lines(log_stream)
    events = [r["event"] for r in records]
    assert {"update", "handler.crashed", "backend.error"} <= set(events)
    updates = [r for r in records if r["event"] == "update"]
    assert len(updates) == 17
    assert {r["user"] for r in updates} == {pseudonym(TELEGRAM_ID)}
    assert {r["kind"] for r in updates} == {"message", "callback_query"}
    crashed = [r for r in records if r["event"] == "handler.crashed"]
    assert {r["error"] for r in crashed} == {"RuntimeError", "ValueError"}


def test_pseudonyms_are_stable_keyed_and_not_the_id(keys: AppKeys) -> None:
    alias = pseudonym(TELEGRAM_ID)
    assert alias == pseudonym(TELEGRAM_ID) and alias != pseudonym(TELEGRAM_ID + 1)
    assert str(TELEGRAM_ID) not in alias and len(alias) == 13
    from bot.logs import configure_pseudonyms

    configure_pseudonyms(AppKeys(b"another-key" * 4).pseudonym)
    try:
        assert pseudonym(TELEGRAM_ID) != alias  # without the key nobody can recompute it
    finally:
        configure_pseudonyms(keys.pseudonym)


def test_library_messages_are_scrubbed(log_stream: io.StringIO) -> None:
    setup_logging("DEBUG", log_stream)
    library = logging.getLogger("aiohttp.client")
    library.warning("POST https://api.telegram.org/bot%s/sendMessage failed", TOKEN)
    library.info("payload chat_id=%d phone=%s policy=%s code=%s", TELEGRAM_ID, PHONE, POLICY, CODE)
    library.info("contact %s", PHONE_DIGITS)
    output = log_stream.getvalue()
    _assert_clean(output)
    records = _lines(log_stream)
    assert [r["event"] for r in records] == ["library"] * 3
    assert "sendMessage failed" in str(records[0]["message"])


class _BadBatchSession(RecordingSession):
    """Telegram answers getUpdates with one update the bot cannot decode (no `date`), whose
    text and sender are a patient's: aiogram's own loop logs the failure."""

    def __init__(self) -> None:
        super().__init__()
        self.raw = json.dumps(
            {
                "ok": True,
                "result": [
                    {
                        "update_id": 900001,
                        "message": {
                            "message_id": 7,
                            "chat": {"id": TELEGRAM_ID, "type": "private", "first_name": FIRST},
                            "from": {
                                "id": TELEGRAM_ID,
                                "is_bot": False,
                                "first_name": FIRST,
                                "last_name": SURNAME,
                                "username": "kashirina_m",
                            },
                            "text": EVERYTHING,
                        },
                    }
                ],
            },
            ensure_ascii=False,
        )

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        if isinstance(method, GetUpdates):
            # What AiohttpSession does with the body: decode, then validate as the method's type.
            return self.check_response(bot, method, 200, self.raw).result  # type: ignore[return-value]
        return await super().make_request(bot, method, timeout)


async def test_aiogram_failing_to_decode_an_update_logs_no_text_or_name(
    log_stream: io.StringIO, keys: AppKeys
) -> None:
    setup_logging("DEBUG", log_stream)
    session = _BadBatchSession()
    bot = Bot(TOKEN, session=session)
    updates = Dispatcher._listen_updates(bot, polling_timeout=0)
    polling = asyncio.create_task(anext(updates))
    try:
        for _ in range(500):  # aiogram logs the failure, then backs off for a second
            if "Failed to fetch updates" in log_stream.getvalue():
                break
            await asyncio.sleep(0.01)
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await updates.aclose()

    output = log_stream.getvalue()
    _assert_clean(output)
    assert FIRST not in output and "kashirina_m" not in output
    assert "input_value" not in output  # nothing of pydantic's quoting of the input
    failed = [r for r in _lines(log_stream) if "Failed to fetch updates" in str(r["message"])]
    assert failed, output
    # The operator still sees what happened and of which kind.
    assert failed[0]["logger"] == "aiogram.dispatcher"
    assert failed[0]["level"] == "error"
    assert failed[0]["error"] == "ClientDecodeError"


def test_library_exception_arguments_become_their_type(log_stream: io.StringIO) -> None:
    setup_logging("DEBUG", log_stream)
    error = ValueError(f"invalid input syntax: {EVERYTHING}")
    logging.getLogger("asyncpg.protocol").warning("query failed: %s", error)
    logging.getLogger("aiogram.event").error("Failed to make answer: %s: %s", "ValueError", error)
    logging.getLogger("aiogram.dispatcher").info("Update id=%s is %s. Duration %d ms", 17, "ok", 3)
    output = log_stream.getvalue()
    _assert_clean(output)
    first, second, third = _lines(log_stream)
    assert first["message"] == "query failed: <ValueError>" and first["error"] == "ValueError"
    assert str(second["message"]).startswith("Failed to make answer: ")
    assert second["error"] == "ValueError"
    # Numbers (ids, durations) stay: an operator can still follow an update.
    assert third["message"] == "Update id=17 is <str>. Duration 3 ms"


def test_exceptions_are_logged_by_type_and_place_only(log_stream: io.StringIO) -> None:
    setup_logging("INFO", log_stream)
    logger = logging.getLogger("bot.test")
    try:
        raise KeyError(EVERYTHING)
    except KeyError:
        logger.exception("lookup failed")
    output = log_stream.getvalue()
    _assert_clean(output)
    [record] = _lines(log_stream)
    assert record["error"] == "KeyError"
    assert str(record["where"]).startswith(__file__ + ":")


def test_the_leak_check_itself_catches_a_leak() -> None:
    with pytest.raises(AssertionError):
        _assert_clean(f'{{"event": "x", "text": "{DIAGNOSIS}"}}')
    with pytest.raises(AssertionError):
        _assert_clean(f'{{"event": "update", "user": {TELEGRAM_ID}}}')
