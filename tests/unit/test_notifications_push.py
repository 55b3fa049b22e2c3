"""The signed events endpoint: only fresh, correctly signed pushes get in, each event once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from backend_client.models import Relation, Scope
from bot.app import App
from bot.events_endpoint import add_events_route
from bot.services.notifications.kinds import Kind
from bot.services.notifications.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.settings import load_settings
from tests.unit.notify_support import World, world

__all__ = ["world"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

SECRET = "e" * 40


@pytest.fixture
async def client(
    world: World, clean_env: None, tmp_path: Path
) -> AsyncIterator[TestClient[Any, Any]]:
    settings = load_settings(notifications={"events_secret": SECRET})
    app = cast(
        App,
        SimpleNamespace(
            settings=settings, sessionmaker=world.sessionmaker, keys=world.keys, clock=world.clock
        ),
    )
    web_app = web.Application()
    add_events_route(web_app, app)
    async with TestClient(TestServer(web_app)) as test_client:
        yield test_client


async def result_event_body(world: World) -> bytes:
    await world.link(7101, "mother", "Я")
    await world.link(7102, "mother", "Мама", Relation.RELATIVE, Scope.APPOINTMENTS)
    await world.backend.publish_result(policy=await world.policy("mother"))
    batch = await world.backend.read_events(after=None, limit=1000)
    events = [e for e in batch.events if e.kind.value == "result_ready"]
    return json.dumps({"events": [e.model_dump(mode="json") for e in events]}).encode()


def headers(body: bytes, timestamp: float, secret: str = SECRET) -> dict[str, str]:
    """Signed as the backend would sign it at `timestamp` (the test's clock, in seconds)."""
    timestamp = int(timestamp)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret.encode(), timestamp, body),
        "Content-Type": "application/json",
    }


async def test_a_signed_push_is_taken_once_even_when_replayed(
    client: TestClient[Any, Any], world: World
) -> None:
    body = await result_event_body(world)
    signed = headers(body, world.now().timestamp())

    first = await client.post("/backend/events", data=body, headers=signed)
    replay = await client.post("/backend/events", data=body, headers=signed)

    assert first.status == 200 and await first.json() == {"events": 1, "messages": 1}
    assert replay.status == 200 and await replay.json() == {"events": 1, "messages": 0}
    (row,) = await world.outbox()
    assert row.kind == Kind.RESULT_READY  # the owner only
    assert row.created_at == row.not_before == world.now()  # queued at the app's clock


@pytest.mark.parametrize(
    "tamper",
    ["no_headers", "wrong_secret", "changed_body", "stale", "future"],
)
async def test_bad_or_stale_signatures_are_refused(
    client: TestClient[Any, Any], world: World, tamper: str
) -> None:
    body = await result_event_body(world)
    now = world.now().timestamp()
    sent_headers = {
        "no_headers": {"Content-Type": "application/json"},
        "wrong_secret": headers(body, now, secret="x" * 40),
        "changed_body": headers(body + b" ", now),
        "stale": headers(body, now - 301),
        "future": headers(body, now + 301),
    }[tamper]

    response = await client.post("/backend/events", data=body, headers=sent_headers)

    assert response.status == 401
    assert await world.outbox() == []


async def test_a_malformed_signed_body_is_a_400(client: TestClient[Any, Any], world: World) -> None:
    body = b'{"events": [{"kind": "nonsense"}]}'
    signed = headers(body, world.now().timestamp())
    response = await client.post("/backend/events", data=body, headers=signed)
    assert response.status == 400
