"""The webhook server refuses what is not an update: malformed or too deeply nested bodies are 400
(never a crash), bodies too large are 413, and only POST is taken."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.unit.webhook_support import (
    PATH,
    SECRET,
    Probe,
    app,
    backend,
    client,
    post_update,
    probe,
    secret_headers,
    session,
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
    "body",
    [b"{not json", b"", b"\xff\xfe\x00", b"[1, 2, 3]", b'{"update_id": "x"}', b'"text"'],
    ids=["broken", "empty", "not-utf8", "a-list", "bad-update", "a-string"],
)
async def test_malformed_body_is_400(
    client: TestClient[Any, Any], probe: Probe, body: bytes
) -> None:
    response = await client.post(
        PATH, data=body, headers={**secret_headers(SECRET), "Content-Type": "application/json"}
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
        PATH, data=body, headers={**secret_headers(SECRET), "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert await response.json() == {"error": "malformed update"}
    assert "RecursionError" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert probe.seen == []
    assert await post_update(client, 16) == 200  # and the server goes on serving


async def test_a_body_too_large_for_an_update_is_413(
    client: TestClient[Any, Any], probe: Probe
) -> None:
    body = io.BytesIO(b'{"update_id": 17, "x": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    response = await client.post(
        PATH, data=body, headers={**secret_headers(SECRET), "Content-Type": "application/json"}
    )
    assert response.status == 413
    assert probe.seen == []


async def test_the_webhook_only_takes_post(
    client: TestClient[Any, Any],
) -> None:
    assert (await client.get(PATH)).status == 405
