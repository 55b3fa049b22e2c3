"""End-to-end fixtures: the real bot, polling the Telegram emulator over HTTP, on a sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backend_client.sandbox import ManualClock, SandboxBackend
from backend_client.sandbox.testing import copy_template, seed_template_sync
from bot.offline import OfflineStack, offline_stack
from bot.settings import Settings

# Seeded at the real "now": the bot reads the real clock, so the sandbox's 14-day slot window
# and its history must line up with it.
SESSION_NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox") / "template.sqlite3"
    return seed_template_sync(path, now=SESSION_NOW)


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock(SESSION_NOW)


@pytest.fixture
async def sandbox(
    sandbox_template: Path, tmp_path: Path, sandbox_clock: ManualClock
) -> AsyncIterator[SandboxBackend]:
    path = copy_template(sandbox_template, tmp_path / "sandbox.sqlite3")
    backend = await SandboxBackend.open(path, clock=sandbox_clock)
    yield backend
    await backend.aclose()


@pytest.fixture
def e2e_settings(settings: Settings) -> Settings:
    # A script types faster than a person; throttling has its own unit tests.
    app = settings.app.model_copy(update={"throttle_per_second": 1000.0})
    return settings.model_copy(update={"app": app})


@pytest.fixture
async def stack(e2e_settings: Settings, sandbox: SandboxBackend) -> AsyncIterator[OfflineStack]:
    async with offline_stack(e2e_settings, backend=sandbox) as running:
        yield running
