"""Fixtures of the flows through the real dispatcher against a real sandbox (policies, records,
appointments): a copy of the seed-7 template per test on the FrozenClock that the bot reads too,
settings without the per-user throttle, and users who already gave consent.

A test module imports the fixtures it uses (and lists them in ``__all__``); a module may still
override one, e.g. ``settings`` with a backend timeout of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.settings import Settings
from tests.conftest import sqlite_settings, unthrottled
from tests.recording_bot import RecordingSession
from tests.sandbox_fixtures import (
    FLOW_SEED,
    TEST_NOW,
    SandboxTemplates,
    frozen_clock,
    open_sandbox,
)
from tests.unit.policies_support import Chat, consenting_user

ChatFor = Callable[..., Awaitable[Chat]]
"""``await chat_for(telegram_id, first_name="Иван")``: a consenting user's chat."""


@pytest.fixture(scope="session")
def sandbox_template(sandbox_templates: SandboxTemplates) -> Path:
    return sandbox_templates(seed=FLOW_SEED, now=TEST_NOW)


@pytest.fixture
def settings(clean_env: None, tmp_path: Path) -> Settings:
    return unthrottled(sqlite_settings(tmp_path))


@pytest.fixture
def clock() -> FrozenClock:
    return frozen_clock()


@pytest.fixture
async def backend(
    sandbox_template: Path, tmp_path: Path, clock: FrozenClock
) -> AsyncIterator[SandboxBackend]:
    # The bot and the backend read one clock: "the grant expired" is the same minute for both.
    async with open_sandbox(sandbox_template, tmp_path, clock) as sandbox:
        yield sandbox


@pytest.fixture
def chat_for(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    sessionmaker: SessionMaker,
    clock: FrozenClock,
) -> ChatFor:
    bot, rec = bot_and_session

    async def make(telegram_id: int, first_name: str = "Иван") -> Chat:
        user = await consenting_user(sessionmaker, telegram_id, first_name)
        return Chat(dispatcher, bot, rec, user, clock)

    return make
