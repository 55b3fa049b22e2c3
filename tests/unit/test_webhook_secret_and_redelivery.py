"""The webhook server takes updates only from Telegram (holding the secret), answers 200 only once
an update was handled, never runs a redelivered update twice (nor beside itself while it is being
handled), and takes back an update whose handling failed so its redelivery runs.

One process here (the in-memory update ledger); the same across replicas on a real Redis:
tests/integration/test_webhook_replicas_redis.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update
from aiohttp.test_utils import TestClient

from bot.app import App
from tests.unit.webhook_support import (
    PATH,
    SECRET,
    FlakySession,
    Probe,
    app,
    backend,
    client,
    post_update,
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


@pytest.mark.parametrize(
    "secret", [None, "", "wrong-secret_0123456789abcdef", SECRET[:-1], SECRET + "x"]
)
async def test_without_the_secret_nothing_is_processed(
    client: TestClient[Any, Any], probe: Probe, secret: str | None
) -> None:
    response = await client.post(PATH, json=update_json(10), headers=secret_headers(secret))
    assert response.status == 401
    await asyncio.sleep(0.05)  # a background task, had one been started, would have run
    assert probe.seen == [] and probe.handled == []


async def test_with_the_secret_the_update_is_processed(
    client: TestClient[Any, Any], probe: Probe, app: App
) -> None:
    assert await post_update(client, 11) == 200
    assert probe.seen == [11] and probe.handled == ["ping"]


async def test_telegram_is_answered_only_after_the_update_was_handled(
    client: TestClient[Any, Any], probe: Probe
) -> None:
    # A 200 makes Telegram forget the update: it must not come before the work is done,
    # or a replica killed in between loses the update.
    assert await post_update(client, 12, "/slow") == 200
    assert probe.handled == ["slow finished"]


async def test_a_redelivered_update_is_not_handled_again(
    client: TestClient[Any, Any], probe: Probe, session: FlakySession
) -> None:
    # Our 200 was lost on the way back: Telegram sends the same update again, and again.
    statuses = [await post_update(client, 13, "/reply") for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert probe.seen == [13]
    assert session.texts() == ["pong"]  # the user got one answer, not three


async def test_a_redelivery_while_the_update_is_being_handled_is_refused(
    client: TestClient[Any, Any], probe: Probe
) -> None:
    first = asyncio.create_task(post_update(client, 14, "/hold"))
    await asyncio.wait_for(probe.held.wait(), timeout=5)

    # Telegram gave up waiting and sent it again: not run beside the first, but refused so
    # Telegram retries later ...
    assert await post_update(client, 14, "/hold") == 503
    probe.release.set()
    assert await first == 200
    # ... when the retry finds it done.
    assert await post_update(client, 14, "/hold") == 200
    assert probe.seen == [14] and probe.handled == ["hold finished"]


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
    assert await post_update(client, 15, "/reply") == 500
    assert probe.handled == []

    assert await post_update(client, 15, "/reply") == 200  # given back at once, not after a lease
    assert probe.handled == ["pong sent"]
    assert await post_update(client, 15, "/reply") == 200  # and now it is done
    assert probe.handled == ["pong sent"]
