"""Shared by the webhook server tests (tests/unit/test_webhook_*.py): a backend whose health can
fail or hang, Telegram answering 500 while down, a probe of what reached the dispatcher, the
fixtures that open the app and serve it (import them all into a test module: they depend on
one another), and helpers that post an update with or without the secret."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from aiogram import Bot, Router
from aiogram.exceptions import TelegramServerError
from aiogram.filters import Command
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Message, TelegramObject, Update
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from backend_client.errors import BackendUnavailable
from backend_client.protocol import RecordsBackend
from bot.app import App, open_app
from bot.clock import FrozenClock
from bot.db.migrate import upgrade
from bot.settings import Settings, load_settings
from bot.webhook import create_webhook_app
from tests.recording_bot import RecordingSession
from tests.unit.chat import put_first

SECRET = "webhook-secret_0123456789abcdef"
PATH = "/telegram/webhook"
NOW = datetime(2026, 12, 2, 6, 50, tzinfo=UTC)


class FakeBackend:
    """Just enough backend for the webhook: health can be switched off, or made to hang."""

    def __init__(self) -> None:
        self.healthy = True
        self.hang = False
        self.closed = False

    async def health(self) -> None:
        if self.hang:
            await _ignoring_one_cancel()
        if not self.healthy:
            raise BackendUnavailable("records service down")

    async def aclose(self) -> None:
        self.closed = True


async def _ignoring_one_cancel() -> None:
    """A call that shrugs off the first cancellation (as a badly written driver might)."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        await asyncio.sleep(0.5)


class FlakySession(RecordingSession):
    """Telegram answering 500 to every sendMessage while `down`."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        if self.down and method.__api_method__ == "sendMessage":
            raise TelegramServerError(method=method, message="Internal Server Error")
        return await super().make_request(bot, method, timeout)


@dataclass
class Probe:
    """What reached the dispatcher, and handlers slow enough to be caught in flight."""

    seen: list[int] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    slow_started: asyncio.Event = field(default_factory=asyncio.Event)
    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def webhook_settings(settings: Settings, tmp_path: Any) -> Settings:
    return load_settings(
        database={"database_url": settings.database.database_url},
        app={"var_dir": tmp_path / "var", "secret_key": "s" * 40},
        telegram={
            "bot_token": "42:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz",
            # Nothing may reach Telegram here: a closed local port would fail loudly.
            "telegram_api_url": f"http://127.0.0.1:{_unused_port()}",
        },
        webhook={"webhook_url": "https://bot.example", "webhook_secret": SECRET},
    )


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def session() -> FlakySession:
    return FlakySession()


@pytest.fixture
async def app(
    webhook_settings: Settings, backend: FakeBackend, session: FlakySession
) -> AsyncIterator[App]:
    await asyncio.to_thread(upgrade, webhook_settings.database.database_url)
    async with open_app(
        webhook_settings, backend=cast(RecordsBackend, backend), clock=FrozenClock(NOW)
    ) as the_app:
        the_app.bot.session = session  # replies are recorded, never sent
        yield the_app


@pytest.fixture
def probe(app: App) -> Probe:
    probe = Probe()

    async def spy(
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        probe.seen.append(event.update_id)
        return await handler(event, data)

    app.dispatcher.update.outer_middleware(spy)

    router = Router(name="webhook-probe")

    @router.message(Command("ping"))
    async def ping(message: Message) -> None:
        probe.handled.append("ping")
        probe.done.set()

    @router.message(Command("reply"))
    async def reply(message: Message) -> None:
        await message.answer("pong")
        probe.handled.append("pong sent")

    @router.message(Command("slow"))
    async def slow(message: Message) -> None:
        probe.slow_started.set()
        await asyncio.sleep(0.3)
        probe.handled.append("slow finished")

    @router.message(Command("hold"))
    async def hold(message: Message) -> None:
        probe.held.set()
        await probe.release.wait()
        probe.handled.append("hold finished")

    put_first(app.dispatcher, router)
    return probe


@pytest.fixture
def web_app(app: App) -> web.Application:
    return create_webhook_app(app)


@pytest.fixture
async def client(web_app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(web_app)) as the_client:
        yield the_client


def update_json(update_id: int, text: str = "/ping") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(NOW.timestamp()),
            "chat": {"id": 777001, "type": "private"},
            "from": {"id": 777001, "is_bot": False, "first_name": "Тест", "language_code": "ru"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


def secret_headers(secret: str | None) -> dict[str, str]:
    return {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}


async def post_update(client: TestClient[Any, Any], update_id: int, text: str = "/ping") -> int:
    response = await client.post(
        PATH, json=update_json(update_id, text), headers=secret_headers(SECRET)
    )
    return response.status
