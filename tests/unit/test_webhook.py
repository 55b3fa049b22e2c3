"""The webhook server: only Telegram (holding the secret) gets in; health and readiness;
shutdown lets in-flight updates finish."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message, TelegramObject, Update
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import create_async_engine

from backend_client.errors import BackendUnavailable
from backend_client.protocol import RecordsBackend
from bot.app import App, open_app
from bot.db.migrate import upgrade
from bot.settings import Settings, load_settings
from bot.webhook import create_webhook_app
from tests.recording_bot import RecordingSession
from tests.unit.chat import put_first

SECRET = "webhook-secret_0123456789abcdef"
PATH = "/telegram/webhook"


class FakeBackend:
    """Just enough backend for the webhook: health can be switched off."""

    def __init__(self) -> None:
        self.healthy = True
        self.closed = False

    async def health(self) -> None:
        if not self.healthy:
            raise BackendUnavailable("records service down")

    async def aclose(self) -> None:
        self.closed = True


@dataclass
class Probe:
    """What reached the dispatcher, and a handler slow enough to be caught in flight."""

    seen: list[int] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    slow_started: asyncio.Event = field(default_factory=asyncio.Event)


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
async def app(webhook_settings: Settings, backend: FakeBackend) -> AsyncIterator[App]:
    await asyncio.to_thread(upgrade, webhook_settings.database.database_url)
    async with open_app(webhook_settings, backend=cast(RecordsBackend, backend)) as the_app:
        the_app.bot.session = RecordingSession()  # replies are recorded, never sent
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

    @router.message(Command("slow"))
    async def slow(message: Message) -> None:
        probe.slow_started.set()
        await asyncio.sleep(0.3)
        probe.handled.append("slow finished")

    put_first(app.dispatcher, router)
    return probe


@pytest.fixture
async def client(app: App) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_webhook_app(app))) as the_client:
        yield the_client


def _update(update_id: int, text: str = "/ping") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": 777001, "type": "private"},
            "from": {"id": 777001, "is_bot": False, "first_name": "Тест", "language_code": "ru"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


def _headers(secret: str | None) -> dict[str, str]:
    return {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}


@pytest.mark.parametrize(
    "secret", [None, "", "wrong-secret_0123456789abcdef", SECRET[:-1], SECRET + "x"]
)
async def test_without_the_secret_nothing_is_processed(
    client: TestClient[Any, Any], probe: Probe, secret: str | None
) -> None:
    response = await client.post(PATH, json=_update(10), headers=_headers(secret))
    assert response.status == 401
    await asyncio.sleep(0.05)  # a background task, had one been started, would have run
    assert probe.seen == [] and probe.handled == []


async def test_with_the_secret_the_update_is_processed(
    client: TestClient[Any, Any], probe: Probe, app: App
) -> None:
    response = await client.post(PATH, json=_update(11), headers=_headers(SECRET))
    assert response.status == 200
    await asyncio.wait_for(probe.done.wait(), timeout=5)
    assert probe.seen == [11] and probe.handled == ["ping"]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe\x00", b"[1, 2, 3]", b'{"update_id": "x"}', b'"text"'],
    ids=["broken", "empty", "not-utf8", "a-list", "bad-update", "a-string"],
)
async def test_malformed_body_is_400(
    client: TestClient[Any, Any], probe: Probe, body: bytes
) -> None:
    response = await client.post(
        PATH, data=body, headers={**_headers(SECRET), "Content-Type": "application/json"}
    )
    assert response.status == 400
    await asyncio.sleep(0.05)
    assert probe.seen == []


async def test_healthz(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_when_everything_is_up(client: TestClient[Any, Any]) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "backend": "ok"},
    }


async def test_readyz_names_the_failing_backend(
    client: TestClient[Any, Any], backend: FakeBackend
) -> None:
    backend.healthy = False
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "backend": "BackendUnavailable"}
    assert "records service down" not in await response.text()  # kinds, never messages

    backend.healthy = True
    assert (await client.get("/readyz")).status == 200


async def test_readyz_names_a_failing_database(client: TestClient[Any, Any], app: App) -> None:
    working = app.engine
    app.engine = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/none.sqlite3")
    try:
        response = await client.get("/readyz")
    finally:
        await app.engine.dispose()
        app.engine = working
    assert response.status == 503
    checks = (await response.json())["checks"]
    assert checks["backend"] == "ok" and checks["database"] != "ok"


async def test_the_webhook_only_takes_post(
    client: TestClient[Any, Any],
) -> None:
    assert (await client.get(PATH)).status == 405


async def test_shutdown_waits_for_an_in_flight_update(app: App, probe: Probe) -> None:
    client = TestClient(TestServer(create_webhook_app(app)))
    await client.start_server()
    try:
        response = await client.post(PATH, json=_update(12, "/slow"), headers=_headers(SECRET))
        assert response.status == 200  # Telegram is answered at once ...
        await asyncio.wait_for(probe.slow_started.wait(), timeout=5)
        assert probe.handled == []
    finally:
        await client.close()  # ... and shutting down waits for the handler to finish.
    assert probe.handled == ["slow finished"]
    assert probe.seen == [12]
