"""A running emulator and a real aiogram Bot talking to it over HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.emulator import EmulatorServer, EmulatorWorld
from bot.emulator.harness import emulator_bot, polling

__all__ = ["emulator_bot", "polling"]


@pytest.fixture
def world() -> EmulatorWorld:
    return EmulatorWorld(quiet_period=0.05)


@pytest.fixture
async def server(world: EmulatorWorld) -> AsyncIterator[EmulatorServer]:
    async with EmulatorServer(world) as running:
        yield running


@pytest.fixture
async def bot(server: EmulatorServer) -> AsyncIterator[Bot]:
    bot = emulator_bot(server)
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
def tiny_png() -> bytes:
    """A valid 1×1 PNG."""
    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
