"""The webhook server: only Telegram (holding the secret) gets in; a 200 means "handled";
a redelivery never runs an update twice; a draining replica refuses at once; health and
readiness answer whatever hangs.

One process here (the in-memory update ledger); the same across replicas on a real Redis:
tests/integration/test_webhook_replicas_redis.py.
"""

from __future__ import annotations

import asyncio
import io
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import aiohttp
import pytest
from aiogram import Bot, Router
from aiogram.exceptions import TelegramServerError
from aiogram.filters import Command
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Message, TelegramObject, Update
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backend_client.errors import BackendUnavailable
from backend_client.protocol import RecordsBackend
from bot.app import App, open_app
from bot.clock import FrozenClock
from bot.db.migrate import upgrade
from bot.settings import Settings, load_settings
from bot.update_ledger import Claim, LedgerUnavailable, UpdateLedger
from bot.webhook import WEBHOOK_HANDLER, create_webhook_app, drain_webhook
from tests.recording_bot import RecordingSession
from tests.unit.chat import put_first

SECRET = "webhook-secret_0123456789abcdef"
PATH = "/telegram/webhook"
NOW = datetime(2026, 12, 2, 6, 50, tzinfo=UTC)
READYZ_BOUND_SECONDS = 3.0  # what an orchestrator's probe waits, at most


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


class HangingEngine:
    """A database that accepts the connection and then never answers."""

    def connect(self) -> HangingEngine:
        return self

    async def __aenter__(self) -> None:
        await asyncio.Event().wait()

    async def __aexit__(self, *_: object) -> None:
        return None


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


def _update(update_id: int, text: str = "/ping") -> dict[str, Any]:
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


def _headers(secret: str | None) -> dict[str, str]:
    return {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}


async def _post(client: TestClient[Any, Any], update_id: int, text: str = "/ping") -> int:
    response = await client.post(PATH, json=_update(update_id, text), headers=_headers(SECRET))
    return response.status


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
    assert await _post(client, 11) == 200
    assert probe.seen == [11] and probe.handled == ["ping"]


async def test_telegram_is_answered_only_after_the_update_was_handled(
    client: TestClient[Any, Any], probe: Probe
) -> None:
    # A 200 makes Telegram forget the update: it must not come before the work is done,
    # or a replica killed in between loses the update.
    assert await _post(client, 12, "/slow") == 200
    assert probe.handled == ["slow finished"]


async def test_a_redelivered_update_is_not_handled_again(
    client: TestClient[Any, Any], probe: Probe, session: FlakySession
) -> None:
    # Our 200 was lost on the way back: Telegram sends the same update again, and again.
    statuses = [await _post(client, 13, "/reply") for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert probe.seen == [13]
    assert session.texts() == ["pong"]  # the user got one answer, not three


async def test_a_redelivery_while_the_update_is_being_handled_is_refused(
    client: TestClient[Any, Any], probe: Probe
) -> None:
    first = asyncio.create_task(_post(client, 14, "/hold"))
    await asyncio.wait_for(probe.held.wait(), timeout=5)

    # Telegram gave up waiting and sent it again: not run beside the first, but refused so
    # Telegram retries later ...
    assert await _post(client, 14, "/hold") == 503
    probe.release.set()
    assert await first == 200
    # ... when the retry finds it done.
    assert await _post(client, 14, "/hold") == 200
    assert probe.seen == [14] and probe.handled == ["hold finished"]


class LedgerAway(UpdateLedger):
    """Redis not answering: every claim fails as the Redis ledger's does then."""

    async def _claim(self, key: str, token: str) -> Claim:
        raise LedgerUnavailable("ConnectionError")

    async def _renew(self, key: str, token: str) -> bool:
        raise LedgerUnavailable("ConnectionError")

    async def _finish(self, key: str, token: str) -> None:
        raise LedgerUnavailable("ConnectionError")

    async def _release(self, key: str, token: str) -> None:
        raise LedgerUnavailable("ConnectionError")


async def test_without_the_ledger_the_update_is_kept_and_the_chat_told_once_in_a_while(
    client: TestClient[Any, Any],
    web_app: web.Application,
    app: App,
    probe: Probe,
    session: FlakySession,
) -> None:
    handler = web_app[WEBHOOK_HANDLER]
    real_ledger = handler.ledger
    handler.ledger = LedgerAway()
    # Not handled (it could run twice without the ledger): 503, so Telegram keeps it ...
    assert await _post(client, 21, "/reply") == 503
    assert await _post(client, 21, "/reply") == 503
    assert await _post(client, 22, "/reply") == 503
    assert probe.seen == []
    # ... and the user hears that it is kept, once, not once per redelivery.
    notices = session.texts()
    assert len(notices) == 1 and notices[0].startswith("⚠️ Технические неполадки")
    assert "повторять не нужно" in notices[0]
    cast(FrozenClock, app.clock).advance(seconds=31)
    assert await _post(client, 22, "/reply") == 503
    assert len(session.texts()) == 2  # a long outage: told again now and then

    # Redis is back: Telegram's redelivery is handled, and the answer comes after all.
    handler.ledger = real_ledger
    assert await _post(client, 21, "/reply") == 200
    assert await _post(client, 22, "/reply") == 200
    assert session.texts()[2:] == ["pong", "pong"]

    # A new outage soon after is news to a chat that was served meanwhile: told at once.
    handler.ledger = LedgerAway()
    assert await _post(client, 24, "/reply") == 503
    assert len(session.texts()) == 5 and session.texts()[4].startswith("⚠️")


async def test_a_notice_that_cannot_be_sent_does_not_change_the_answer(
    client: TestClient[Any, Any], web_app: web.Application, session: FlakySession
) -> None:
    web_app[WEBHOOK_HANDLER].ledger = LedgerAway()
    session.down = True  # Telegram 500s the notice too
    assert await _post(client, 23, "/reply") == 503
    session.down = False
    assert await _post(client, 23, "/reply") == 503
    assert len(session.texts()) == 1  # the failed notice did not count as told


async def test_an_update_whose_handling_failed_is_redelivered_and_then_handled(
    client: TestClient[Any, Any], app: App, probe: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The error handlers catch what handlers raise; what gets past them (a bug in one, say)
    # means the update was not handled: 500, so Telegram sends it again, and it runs then.
    real_feed = app.dispatcher.feed_update
    failures = iter([RuntimeError("an error handler failed")])

    async def feed_failing_once(bot: Bot, update: Update, **kwargs: Any) -> Any:
        if (error := next(failures, None)) is not None:
            raise error
        return await real_feed(bot, update, **kwargs)

    monkeypatch.setattr(app.dispatcher, "feed_update", feed_failing_once)
    assert await _post(client, 15, "/reply") == 500
    assert probe.handled == []

    assert await _post(client, 15, "/reply") == 200  # given back at once, not after a lease
    assert probe.handled == ["pong sent"]
    assert await _post(client, 15, "/reply") == 200  # and now it is done
    assert probe.handled == ["pong sent"]


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


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"update_id": 1, "message": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001,
    ],
    ids=["deep-list", "deep-inside-an-update"],
)
async def test_a_body_nested_too_deep_is_malformed_not_a_crash(
    client: TestClient[Any, Any], probe: Probe, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await client.post(
        PATH, data=body, headers={**_headers(SECRET), "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert await response.json() == {"error": "malformed update"}
    assert "RecursionError" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert probe.seen == []
    assert await _post(client, 16) == 200  # and the server goes on serving


async def test_a_body_too_large_for_an_update_is_413(
    client: TestClient[Any, Any], probe: Probe
) -> None:
    body = io.BytesIO(b'{"update_id": 17, "x": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    response = await client.post(
        PATH, data=body, headers={**_headers(SECRET), "Content-Type": "application/json"}
    )
    assert response.status == 413
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


async def test_readyz_answers_in_time_while_the_database_hangs(
    client: TestClient[Any, Any], app: App
) -> None:
    working = app.engine
    app.engine = cast(AsyncEngine, HangingEngine())
    try:
        async with asyncio.timeout(READYZ_BOUND_SECONDS):
            response = await client.get("/readyz")
    finally:
        app.engine = working
    assert response.status == 503
    assert (await response.json())["checks"] == {"database": "timeout", "backend": "ok"}


async def test_readyz_answers_in_time_while_everything_hangs(
    client: TestClient[Any, Any], app: App, backend: FakeBackend
) -> None:
    # Checks run side by side, each with its own timeout; one that even ignores being
    # cancelled (the backend here) does not hold the answer.
    working = app.engine
    app.engine = cast(AsyncEngine, HangingEngine())
    backend.hang = True
    try:
        async with asyncio.timeout(READYZ_BOUND_SECONDS):
            response = await client.get("/readyz")
    finally:
        app.engine = working
        backend.hang = False
    assert (await response.json())["checks"] == {"database": "timeout", "backend": "timeout"}
    assert (await client.get("/readyz")).status == 200  # and it recovers with them


async def test_the_webhook_only_takes_post(
    client: TestClient[Any, Any],
) -> None:
    assert (await client.get(PATH)).status == 405


async def test_a_draining_replica_refuses_at_once_and_finishes_what_it_has(
    client: TestClient[Any, Any], web_app: web.Application, probe: Probe
) -> None:
    # An idle keep-alive connection, as Telegram keeps one open to the replica.
    assert (await client.get("/healthz")).status == 200
    async with aiohttp.ClientSession() as other_connection:
        in_flight = asyncio.create_task(
            other_connection.post(
                client.make_url(PATH), json=_update(18, "/hold"), headers=_headers(SECRET)
            )
        )
        await asyncio.wait_for(probe.held.wait(), timeout=5)
        drain = asyncio.create_task(drain_webhook(web_app))
        await asyncio.sleep(0)  # the drain's first step: from here on, refuse
        assert web_app[WEBHOOK_HANDLER].draining

        # The in-flight update is still held: an answer now means no waiting for the drain.
        async with asyncio.timeout(2):
            refused = await client.post(PATH, json=_update(19), headers=_headers(SECRET))
            ready = await client.get("/readyz")
        assert refused.status == 503  # Telegram redelivers it to another replica
        assert ready.status == 503 and (await ready.json())["status"] == "draining"
        assert (await client.get("/healthz")).status == 200  # alive, just not taking work
        assert not drain.done()

        probe.release.set()
        assert (await in_flight).status == 200
        assert await drain == 0  # nothing was cut short
    assert probe.seen == [18] and probe.handled == ["hold finished"]


async def test_stopping_the_server_waits_for_an_in_flight_update(app: App, probe: Probe) -> None:
    client = TestClient(TestServer(create_webhook_app(app)))
    await client.start_server()
    async with aiohttp.ClientSession() as telegram:
        in_flight = asyncio.create_task(
            telegram.post(
                client.make_url(PATH), json=_update(20, "/hold"), headers=_headers(SECRET)
            )
        )
        await asyncio.wait_for(probe.held.wait(), timeout=5)
        closing = asyncio.create_task(client.close())
        await asyncio.sleep(0.2)
        assert not closing.done()  # the server waits for the handler ...
        probe.release.set()
        await closing
        assert (await in_flight).status == 200  # ... which finishes and is answered
    assert probe.handled == ["hold finished"]
