from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiogram import Bot, Dispatcher

from backend_client.errors import BackendUnavailable
from backend_client.protocol import RecordsBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker, create_engine, create_sessionmaker
from bot.db.migrate import upgrade
from bot.factory import create_dispatcher
from bot.keys import AppKeys
from bot.logs import configure_pseudonyms
from bot.settings import Settings, load_settings
from tests.recording_bot import RecordingSession, recording_bot
from tests.sandbox_fixtures import SandboxTemplates, frozen_clock

TEST_KEY = b"k" * 64

# Settings come from the environment; tests must not pick up a developer's .env or shell.
_SETTINGS_ENV = (
    "BOT_TOKEN",
    "TELEGRAM_API_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "BACKEND",
    "BACKEND_URL",
    "BACKEND_TOKEN",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "LOG_LEVEL",
    "SECRET_KEY",
    "REDIS_PREFIX",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file here


def sqlite_settings(tmp_path: Path, **sections: Any) -> Settings:
    """Settings with the bot's database in a SQLite file in ``tmp_path``."""
    return load_settings(
        database={"database_url": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"},
        app={"var_dir": tmp_path / "var", "secret_key": "s" * 40},
        telegram={"bot_token": "42:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz"},
        **sections,
    )


def unthrottled(settings: Settings) -> Settings:
    """``settings`` without the per-user throttle: a test types faster than a person
    (throttling has tests of its own)."""
    app = settings.app.model_copy(update={"throttle_per_second": 1000.0})
    return settings.model_copy(update={"app": app})


@pytest.fixture
def settings(clean_env: None, tmp_path: Path) -> Settings:
    return sqlite_settings(tmp_path)


@pytest.fixture(scope="session")
def sandbox_templates(tmp_path_factory: pytest.TempPathFactory) -> SandboxTemplates:
    """Seeded sandbox templates, one per (seed, now) and session (see tests/sandbox_fixtures)."""
    return SandboxTemplates(tmp_path_factory)


@pytest.fixture
def clock() -> FrozenClock:
    """The one clock of a test: frozen at ``TEST_NOW`` until the test moves it."""
    return frozen_clock()


@pytest.fixture
def keys() -> AppKeys:
    configure_pseudonyms(AppKeys(TEST_KEY).pseudonym)
    return AppKeys(TEST_KEY)


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[SessionMaker]:
    import asyncio

    # Alembic's env runs its own event loop; keep it off this test's loop.
    await asyncio.to_thread(upgrade, settings.database.database_url)
    engine = create_engine(settings.database.database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


class DownBackend:
    """A backend that is always unavailable: enough for flows that must not need it."""

    def __getattr__(self, name: str) -> Any:
        async def _down(*args: Any, **kwargs: Any) -> Any:
            raise BackendUnavailable("down in tests")

        return _down


@pytest.fixture
def backend() -> RecordsBackend:
    return cast(RecordsBackend, DownBackend())


@pytest.fixture
def bot_and_session() -> tuple[Bot, RecordingSession]:
    return recording_bot()


@pytest.fixture
def dispatcher(
    settings: Settings,
    backend: RecordsBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
) -> Dispatcher:
    return create_dispatcher(settings, backend, sessionmaker, keys, clock=clock)


def integration_env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"{name} is not set: integration tests need a real server (see .ci/run)")
    return value
