"""The webhook server's health and readiness answer in time whatever hangs, naming the failing
dependency by kind; a draining replica refuses new updates at once and finishes those in flight,
and stopping the server waits for them."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.app import App
from bot.webhook import WEBHOOK_HANDLER, create_webhook_app, drain_webhook
from tests.unit.webhook_support import (
    PATH,
    SECRET,
    FakeBackend,
    Probe,
    app,
    backend,
    client,
    probe,
    secret_headers,
    session,
    update_json,
    web_app,
    webhook_settings,
)

# The fixtures these tests use, with those they depend on.
__all__ = [
    "app",
    "backend",
    "client",
    "probe",
    "session",
    "web_app",
    "webhook_settings",
]

READYZ_BOUND_SECONDS = 3.0  # what an orchestrator's probe waits, at most


class HangingEngine:
    """A database that accepts the connection and then never answers."""

    def connect(self) -> HangingEngine:
        return self

    async def __aenter__(self) -> None:
        await asyncio.Event().wait()

    async def __aexit__(self, *_: object) -> None:
        return None


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
    before = set(threading.enumerate())
    try:
        response = await client.get("/readyz")
    finally:
        await app.engine.dispose()
        app.engine = working
        # On a loaded machine the check's 2 s may end first ("timeout"), and the failed connect
        # finishes in aiosqlite's thread later: wait for it here, while this test's loop is
        # still open, or it reports into a closed loop during the next test.
        for thread in set(threading.enumerate()) - before:
            if "_connection_worker_thread" in thread.name:
                await asyncio.to_thread(thread.join, 10)
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


async def test_a_draining_replica_refuses_at_once_and_finishes_what_it_has(
    client: TestClient[Any, Any], web_app: web.Application, probe: Probe
) -> None:
    # An idle keep-alive connection, as Telegram keeps one open to the replica.
    assert (await client.get("/healthz")).status == 200
    async with aiohttp.ClientSession() as other_connection:
        in_flight = asyncio.create_task(
            other_connection.post(
                client.make_url(PATH), json=update_json(18, "/hold"), headers=secret_headers(SECRET)
            )
        )
        await asyncio.wait_for(probe.held.wait(), timeout=5)
        drain = asyncio.create_task(drain_webhook(web_app))
        await asyncio.sleep(0)  # the drain's first step: from here on, refuse
        assert web_app[WEBHOOK_HANDLER].draining

        # The in-flight update is still held: an answer now means no waiting for the drain.
        async with asyncio.timeout(2):
            refused = await client.post(PATH, json=update_json(19), headers=secret_headers(SECRET))
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
                client.make_url(PATH), json=update_json(20, "/hold"), headers=secret_headers(SECRET)
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
