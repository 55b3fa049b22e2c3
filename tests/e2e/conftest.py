"""End-to-end fixtures: the real bot, polling the Telegram emulator over HTTP, on a sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.offline import OfflineStack, offline_stack
from bot.settings import Settings
from tests.conftest import unthrottled
from tests.e2e.channels import CHANNELS, Channel, channel_stack
from tests.sandbox_fixtures import TEST_NOW, SandboxTemplates, open_sandbox


@pytest.fixture(scope="session")
def sandbox_template(sandbox_templates: SandboxTemplates) -> Path:
    # Seeded at the tests' frozen "now", where the clock of the bot, worker and sandbox starts.
    return sandbox_templates(seed=42, now=TEST_NOW)


@pytest.fixture
def sandbox_clock(clock: FrozenClock) -> FrozenClock:
    """The one clock (the bot, the worker, the emulator and the sandbox read it)."""
    return clock


@pytest.fixture
async def sandbox(
    sandbox_template: Path, tmp_path: Path, sandbox_clock: FrozenClock
) -> AsyncIterator[SandboxBackend]:
    async with open_sandbox(sandbox_template, tmp_path, sandbox_clock) as backend:
        yield backend


@pytest.fixture
def e2e_settings(settings: Settings) -> Settings:
    return unthrottled(settings)


@pytest.fixture
async def stack(
    e2e_settings: Settings, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> AsyncIterator[OfflineStack]:
    async with offline_stack(e2e_settings, backend=sandbox, clock=sandbox_clock) as running:
        yield running


@pytest.fixture(params=CHANNELS)
async def channel(
    request: pytest.FixtureRequest,
    e2e_settings: Settings,
    sandbox: SandboxBackend,
    sandbox_clock: FrozenClock,
) -> AsyncIterator[Channel]:
    """The bot on each messenger's emulator in turn (`tests/e2e/channels.py`): a test that
    takes it runs once on Telegram and once on MAX."""
    async with channel_stack(request.param, e2e_settings, sandbox, sandbox_clock) as running:
        yield running
