"""End-to-end fixtures: the real bot, polling the Telegram emulator over HTTP, on a sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backend_client.sandbox import ManualClock, SandboxBackend
from bot.offline import OfflineStack, offline_stack
from bot.settings import Settings
from tests.conftest import unthrottled
from tests.sandbox_fixtures import SESSION_NOW, SandboxTemplates, open_sandbox


@pytest.fixture(scope="session")
def sandbox_template(sandbox_templates: SandboxTemplates) -> Path:
    # Seeded at the real "now": the bot reads the real clock, so the sandbox's 14-day slot window
    # and its history must line up with it.
    return sandbox_templates(seed=42, now=SESSION_NOW)


@pytest.fixture
def sandbox_clock() -> ManualClock:
    return ManualClock(SESSION_NOW)


@pytest.fixture
async def sandbox(
    sandbox_template: Path, tmp_path: Path, sandbox_clock: ManualClock
) -> AsyncIterator[SandboxBackend]:
    async with open_sandbox(sandbox_template, tmp_path, sandbox_clock) as backend:
        yield backend


@pytest.fixture
def e2e_settings(settings: Settings) -> Settings:
    return unthrottled(settings)


@pytest.fixture
async def stack(e2e_settings: Settings, sandbox: SandboxBackend) -> AsyncIterator[OfflineStack]:
    async with offline_stack(e2e_settings, backend=sandbox) as running:
        yield running
