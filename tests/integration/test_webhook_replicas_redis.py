"""Two webhook replicas on one real Redis, as in production: Telegram may deliver an update
to either and deliver it again; it is handled exactly once, a replica that dies mid-update
leaves it to the other within seconds, and a draining replica sends Telegram elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.types import Message
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from backend_client.protocol import RecordsBackend
from bot.app import App, open_app
from bot.clock import FrozenClock
from bot.db.migrate import upgrade
from bot.isolation import LEASE_SECONDS as LOCK_LEASE_SECONDS
from bot.settings import Settings, load_settings
from bot.update_ledger import LEASE_SECONDS as UPDATE_LEASE_SECONDS
from bot.webhook import WEBHOOK_HANDLER, create_webhook_app, drain_webhook
from tests.conftest import unthrottled
from tests.recording_bot import RecordingSession
from tests.unit.chat import put_first

SECRET = "webhook-secret_0123456789abcdef"
PATH = "/telegram/webhook"
TOKEN = "42:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz"
NOW = datetime(2026, 12, 2, 6, 50, tzinfo=UTC)
USER_ID = 777002


class UpBackend:
    async def health(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


@dataclass
class Handled:
    """What every replica's handlers did, in one list: "handled twice" shows up here."""

    runs: list[tuple[str, int]] = field(default_factory=list)
    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Replica:
    name: str
    app: App
    web_app: web.Application
    client: TestClient[Any, Any]

    async def deliver(self, update_id: int, text: str = "/ping", user_id: int = USER_ID) -> int:
        response = await self.client.post(
            PATH,
            json=_update(update_id, text, user_id),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        return response.status


def _update(update_id: int, text: str, user_id: int = USER_ID) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(NOW.timestamp()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Тест", "language_code": "ru"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return f"{redis_prefix}:{secrets.token_hex(4)}"


@pytest.fixture
def replica_settings(clean_env: None, tmp_path: Path, redis_url: str, prefix: str) -> Settings:
    return unthrottled(
        load_settings(
            database={"database_url": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"},
            redis={"redis_url": redis_url, "redis_prefix": prefix},
            app={"var_dir": tmp_path / "var", "secret_key": "s" * 40},
            telegram={"bot_token": TOKEN, "telegram_api_url": "http://127.0.0.1:9"},
            webhook={"webhook_url": "https://bot.example", "webhook_secret": SECRET},
        )
    )


def _probe_router(replica: str, handled: Handled) -> Router:
    router = Router(name=f"replica-probe-{replica}")

    @router.message(Command("ping"))
    async def ping(message: Message) -> None:
        handled.runs.append((replica, message.message_id))

    @router.message(Command("hold"))
    async def hold(message: Message) -> None:
        handled.runs.append((replica, message.message_id))
        handled.held.set()
        await handled.release.wait()

    return router


@pytest.fixture
def handled() -> Handled:
    return Handled()


@pytest.fixture
async def replicas(replica_settings: Settings, handled: Handled) -> AsyncIterator[list[Replica]]:
    await asyncio.to_thread(upgrade, replica_settings.database.database_url)
    clock = FrozenClock(NOW)
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(handled.release.set)  # nothing stays held past the test
        running: list[Replica] = []
        for name in ("a", "b"):
            app = await stack.enter_async_context(
                open_app(replica_settings, backend=cast(RecordsBackend, UpBackend()), clock=clock)
            )
            app.bot.session = RecordingSession()
            put_first(app.dispatcher, _probe_router(name, handled))
            web_app = create_webhook_app(app)
            client = TestClient(TestServer(web_app))
            await client.start_server()
            stack.push_async_callback(client.close)
            running.append(Replica(name, app, web_app, client))
        yield running


async def test_an_update_redelivered_to_the_other_replica_is_not_handled_again(
    replicas: list[Replica], handled: Handled
) -> None:
    a, b = replicas
    assert await a.deliver(1) == 200
    # A's 200 was lost on the way: Telegram delivers it again, this time to B.
    assert await b.deliver(1) == 200
    assert await a.deliver(1) == 200
    assert handled.runs == [("a", 1)]


async def test_an_update_in_progress_on_one_replica_is_refused_by_the_other(
    replicas: list[Replica], handled: Handled
) -> None:
    a, b = replicas
    first = asyncio.create_task(a.deliver(2, "/hold"))
    await asyncio.wait_for(handled.held.wait(), timeout=5)

    assert await b.deliver(2, "/hold") == 503  # Telegram retries later
    handled.release.set()
    assert await first == 200
    assert await b.deliver(2, "/hold") == 200  # the retry finds it done
    assert handled.runs == [("a", 2)]


async def test_a_dead_replicas_update_is_handled_by_the_other_within_seconds(
    replicas: list[Replica], handled: Handled, redis: Redis, prefix: str
) -> None:
    _, b = replicas
    # Replica A was SIGKILLed while handling update 3: it left its claim on the update and
    # its lock on the user, both renewed just before it died, and never answered Telegram.
    await redis.set(f"{prefix}:upd:42:3:lease", "replica-a", px=int(UPDATE_LEASE_SECONDS * 1000))
    user_lock = DefaultKeyBuilder(prefix=f"{prefix}:fsm", with_bot_id=True).build(
        StorageKey(bot_id=42, chat_id=USER_ID, user_id=USER_ID), "lock"
    )
    await redis.set(user_lock, "replica-a", px=int(LOCK_LEASE_SECONDS * 1000))

    # Telegram redelivers (to B) until it gets a 2xx.
    statuses: list[int] = []
    async with asyncio.timeout(max(UPDATE_LEASE_SECONDS, LOCK_LEASE_SECONDS) + 3):
        while not statuses or statuses[-1] != 200:
            statuses.append(await b.deliver(3))
            await asyncio.sleep(0.2)
    assert statuses[0] == 503  # A's claim was still alive at first
    assert handled.runs == [("b", 3)]  # handled once, by the survivor
    assert not await redis.exists(user_lock)  # and B let the user go


async def test_a_draining_replica_refuses_at_once_and_the_other_takes_the_update(
    replicas: list[Replica], handled: Handled
) -> None:
    a, b = replicas
    async with aiohttp.ClientSession() as telegram:
        in_flight = asyncio.create_task(
            telegram.post(
                a.client.make_url(PATH),
                json=_update(4, "/hold"),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
        )
        await asyncio.wait_for(handled.held.wait(), timeout=5)
        web_app = a.web_app
        drain = asyncio.create_task(drain_webhook(web_app))
        await asyncio.sleep(0)  # the drain's first step: from here on, refuse
        assert web_app[WEBHOOK_HANDLER].draining

        # Another user's update (the same user's would wait for the one in flight: one
        # update of a user at a time, across replicas).
        async with asyncio.timeout(2):  # no waiting for the update A still holds
            assert await a.deliver(5, user_id=USER_ID + 1) == 503
        assert await b.deliver(5, user_id=USER_ID + 1) == 200  # Telegram's retry, elsewhere

        handled.release.set()
        assert (await in_flight).status == 200
        assert await drain == 0
    assert sorted(handled.runs) == [("a", 4), ("b", 5)]
