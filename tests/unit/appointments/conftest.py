"""Fixtures of the appointments tests: a seeded sandbox per test on a ManualClock that the bot
reads too (`clock` in the workflow data), and users who already gave consent."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from backend_client.sandbox import ManualClock, SandboxBackend
from bot.db.engine import SessionMaker
from bot.factory import create_dispatcher
from bot.keys import AppKeys
from bot.settings import Settings, load_settings
from tests.recording_bot import RecordingSession
from tests.unit.policies_support import Chat, consenting_user

SEED = 7


@pytest.fixture(scope="session")
def appt_sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("appt-sandbox") / "template.sqlite3"

    async def build() -> None:
        backend = await SandboxBackend.open(path, seed=SEED)
        await backend.aclose()

    asyncio.run(build())
    return path


@pytest.fixture
def settings(clean_env: None, tmp_path: Path) -> Settings:
    return load_settings(
        database={"database_url": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"},
        app={"var_dir": tmp_path / "var", "secret_key": "s" * 40, "throttle_per_second": 1000},
        telegram={"bot_token": "42:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz"},
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


@pytest.fixture
async def backend(
    appt_sandbox_template: Path,
    tmp_path: Path,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[SandboxBackend]:
    path = tmp_path / "sandbox.sqlite3"
    shutil.copy(appt_sandbox_template, path)
    sandbox = await SandboxBackend.open(path, seed=SEED, clock=clock)
    for module in ("bot.services.people", "bot.services.linking", "handlers.policies"):
        monkeypatch.setattr(f"{module}.utcnow", clock)
    yield sandbox
    await sandbox.aclose()


@pytest.fixture
def dispatcher(
    settings: Settings,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: ManualClock,
) -> Dispatcher:
    return create_dispatcher(settings, backend, sessionmaker, keys, clock=clock)


@pytest.fixture
def chat_for(
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
    sessionmaker: SessionMaker,
    clock: ManualClock,
):
    bot, rec = bot_and_session

    async def make(telegram_id: int, first_name: str = "Иван") -> Chat:
        user = await consenting_user(sessionmaker, telegram_id, first_name)
        return Chat(dispatcher, bot, rec, user, clock)

    return make
