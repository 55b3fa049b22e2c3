"""The events endpoint's edges: a push too big is 413 whatever it carries (read with a hard
cap, chunked or not), one nested too deep is 400, and "fresh" is judged on the app's clock."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.events_endpoint import MAX_BODY_BYTES, add_events_route
from bot.keys import AppKeys
from bot.services.notifications.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.settings import load_settings

SECRET = "e" * 40
PATH = "/backend/events"
# Far from any real "now": a push signed at this instant is fresh only on this clock.
NOW = datetime(2031, 3, 1, 4, 59, tzinfo=UTC)


@pytest.fixture
async def client(
    clean_env: None, tmp_path: Path, sessionmaker: SessionMaker, keys: AppKeys
) -> AsyncIterator[TestClient[Any, Any]]:
    settings = load_settings(notifications={"events_secret": SECRET})
    app = cast(
        App,
        SimpleNamespace(
            settings=settings, sessionmaker=sessionmaker, keys=keys, clock=FrozenClock(NOW)
        ),
    )
    web_app = web.Application()
    add_events_route(web_app, app)
    async with TestClient(TestServer(web_app)) as test_client:
        yield test_client


def signed(body: bytes, at: datetime = NOW) -> dict[str, str]:
    timestamp = int(at.timestamp())
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(SECRET.encode(), timestamp, body),
        "Content-Type": "application/json",
    }


def _padded(size: int) -> bytes:
    """A valid, empty push of exactly `size` bytes (JSON allows trailing whitespace)."""
    body = b'{"events": []}'
    return body + b" " * (size - len(body))


async def test_a_signed_push_over_the_limit_is_413_not_401(
    client: TestClient[Any, Any],
) -> None:
    body = _padded(300 * 1024)
    response = await client.post(PATH, data=io.BytesIO(body), headers=signed(body))
    assert response.status == 413
    assert await response.json() == {"error": "too large"}


async def test_a_chunked_push_over_the_limit_is_413(client: TestClient[Any, Any]) -> None:
    # No Content-Length to refuse it by: the body itself is read only up to the cap.
    body = _padded(300 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    response = await client.post(PATH, data=chunks(), headers=signed(body))
    assert response.status == 413


async def test_a_push_of_exactly_the_limit_is_taken(client: TestClient[Any, Any]) -> None:
    body = _padded(MAX_BODY_BYTES)
    response = await client.post(PATH, data=io.BytesIO(body), headers=signed(body))
    assert response.status == 200
    assert await response.json() == {"events": 0, "messages": 0}


async def test_a_signed_push_nested_too_deep_is_400(client: TestClient[Any, Any]) -> None:
    body = b'{"events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = await client.post(PATH, data=body, headers=signed(body))
    assert response.status == 400


async def test_freshness_is_judged_on_the_apps_clock(client: TestClient[Any, Any]) -> None:
    body = _padded(64)
    assert (await client.post(PATH, data=body, headers=signed(body))).status == 200
    stale = NOW.replace(minute=53)  # six minutes before the app's "now"
    assert (await client.post(PATH, data=body, headers=signed(body, stale))).status == 401
