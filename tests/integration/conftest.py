"""Real PostgreSQL and Redis, each run in its own database and key prefix.

`DATABASE_URL` names a server (any database on it we may connect to); every test session
creates `emk_test_<random>` there and drops it at the end. `REDIS_URL` names a Redis; every
session works under the key prefix `emk_test_<random>` and deletes those keys at the end.
Without the variables these tests skip, saying why.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import redis as sync_redis
from aiogram import Dispatcher
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from backend_client.protocol import RecordsBackend
from bot.clock import FrozenClock
from bot.db.base import Base
from bot.db.engine import SessionMaker, create_engine, create_sessionmaker
from bot.db.migrate import upgrade
from bot.factory import create_dispatcher
from bot.keys import AppKeys
from bot.settings import DatabaseSettings, Settings, load_settings
from tests.conftest import integration_env

TOKEN = "42:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz"


def _in_thread(function: Callable[..., Any], *args: Any) -> Any:
    """Run to completion in a thread of its own: fixtures may be set up while a test's event
    loop is running, and Alembic's env and `asyncio.run` each need a thread without one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def _plain_dsn(url: str) -> str:
    """The URL asyncpg itself understands (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(_plain_dsn(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(_plain_dsn(server_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    raw = integration_env("DATABASE_URL")
    url = DatabaseSettings(database_url=raw).database_url  # postgres:// -> +asyncpg, as the app
    if not url.startswith("postgresql"):
        pytest.skip(f"DATABASE_URL is not PostgreSQL ({make_url(url).get_backend_name()})")
    return url


@pytest.fixture(scope="session")
def pg_database_factory(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """Makes fresh databases on the server (async URL); drops all of them at the end."""
    created: list[str] = []

    def make() -> str:
        name = f"emk_test_{secrets.token_hex(6)}"
        _in_thread(asyncio.run, _create_database(pg_server_url, name))
        created.append(name)
        return make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)

    yield make
    for name in created:
        _in_thread(asyncio.run, _drop_database(pg_server_url, name))


@pytest.fixture(scope="session")
def pg_url(pg_database_factory: Callable[[], str]) -> str:
    """This run's database, migrated to head once."""
    url = pg_database_factory()
    _in_thread(upgrade, url)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return integration_env("REDIS_URL")


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> Iterator[str]:
    prefix = f"emk_test_{secrets.token_hex(6)}"
    yield prefix
    client = sync_redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def _truncate(sessionmaker: SessionMaker) -> None:
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with sessionmaker() as db:
        await db.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await db.commit()


@pytest.fixture
async def pg_sessionmaker(pg_url: str) -> AsyncIterator[SessionMaker]:
    """Sessions on this run's database, emptied before each test."""
    engine = create_engine(pg_url)
    maker = create_sessionmaker(engine)
    await _truncate(maker)
    yield maker
    await engine.dispose()


@pytest.fixture
def settings(
    clean_env: None, tmp_path: Path, pg_url: str, redis_url: str, redis_prefix: str
) -> Settings:
    """Production-like: this run's PostgreSQL database and Redis prefix."""
    return load_settings(
        database={"database_url": pg_url},
        redis={"redis_url": redis_url, "redis_prefix": redis_prefix},
        app={"var_dir": tmp_path / "var", "secret_key": "s" * 40},
        telegram={"bot_token": TOKEN},
    )


@pytest.fixture
def redis_settings(clean_env: None, tmp_path: Path, redis_url: str, redis_prefix: str) -> Settings:
    """Redis only (the bot's own database stays SQLite): for FSM and rate-limit tests."""
    return load_settings(
        database={"database_url": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3"},
        redis={"redis_url": redis_url, "redis_prefix": redis_prefix},
        app={"var_dir": tmp_path / "var", "secret_key": "s" * 40},
        telegram={"bot_token": TOKEN},
    )


@pytest.fixture
def sessionmaker(pg_sessionmaker: SessionMaker) -> SessionMaker:
    return pg_sessionmaker


@pytest.fixture
def dispatcher(
    settings: Settings,
    backend: RecordsBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    redis: Redis,
    clock: FrozenClock,
) -> Dispatcher:
    return create_dispatcher(settings, backend, sessionmaker, keys, clock=clock, redis=redis)
