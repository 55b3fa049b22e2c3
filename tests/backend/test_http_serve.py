"""``serve_sandbox``: the sandbox as its own HTTP service, running until cancelled."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from backend_client.errors import BackendUnavailable, NotFound
from backend_client.http import HttpRecordsBackend
from backend_client.records_api.serve import serve_sandbox
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.testing import FIXED_NOW, copy_template
from bot.clock import FrozenClock

TOKEN = "serve-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_until_up(client: HttpRecordsBackend) -> None:
    for _ in range(100):
        try:
            await client.health()
            return
        except BackendUnavailable:
            await asyncio.sleep(0.05)
    pytest.fail("the served sandbox did not come up")


async def test_serve_sandbox_answers_until_cancelled(
    sandbox_template: Path, tmp_path: Path
) -> None:
    path = copy_template(sandbox_template, tmp_path / "served.sqlite3")
    side = await SandboxBackend.open(path, clock=FrozenClock(FIXED_NOW))
    try:
        persona = (await side.personas())[0]
    finally:
        await side.aclose()
    port = free_port()
    server = asyncio.create_task(
        serve_sandbox(
            "127.0.0.1",
            port,
            sandbox_path=path,
            seed=42,
            service_token=TOKEN,
            clock=FrozenClock(FIXED_NOW),
        )
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with HttpRecordsBackend(url, TOKEN, timeout=1.0, retries=0) as client:
            await wait_until_up(client)
            patient = await client.find_patient(persona.policy, persona.birth_date)
            assert patient.birth_date == persona.birth_date
            with pytest.raises(NotFound):
                await client.find_patient(persona.policy, persona.birth_date.replace(year=1900))
    finally:
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server
    async with HttpRecordsBackend(url, TOKEN, timeout=1.0, retries=0) as client:
        with pytest.raises(BackendUnavailable):
            await client.health()
