"""Alembic checks shared by the SQLite unit test and the PostgreSQL integration test."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

import bot.db.tables  # noqa: F401 - registers every table on Base.metadata
from bot.db.base import Base
from bot.db.engine import create_engine
from bot.db.migrate import alembic_config, downgrade, upgrade


def revisions(database_url: str) -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def _run(database_url: str, check: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(check)
    finally:
        await engine.dispose()


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def schema_diff(database_url: str) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty = same)."""
    return list(await _run(database_url, _diff))


async def tables(database_url: str) -> set[str]:
    return set(await _run(database_url, _tables))


async def current_revision(database_url: str) -> str | None:
    result = await _run(database_url, _current)
    return None if result is None else str(result)


async def upgrade_to(database_url: str, revision: str = "head") -> None:
    # Alembic's env.py runs its own event loop: keep it off the test's loop.
    await asyncio.to_thread(upgrade, database_url, revision)


async def downgrade_to(database_url: str, revision: str = "base") -> None:
    await asyncio.to_thread(downgrade, database_url, revision)


async def check_round_trip(database_url: str) -> None:
    """upgrade -> downgrade -> upgrade, one revision at a time, ending equal to the models."""
    model_tables = set(Base.metadata.tables)
    steps = revisions(database_url)
    assert steps, "no migrations found"

    await upgrade_to(database_url)
    assert await current_revision(database_url) == steps[-1]
    assert await schema_diff(database_url) == []
    assert model_tables <= await tables(database_url)

    # Down one step at a time: every downgrade works from where the next one left off.
    for revision in reversed(steps[:-1]):
        await downgrade_to(database_url, revision)
        assert await current_revision(database_url) == revision
    await downgrade_to(database_url, "base")
    assert await current_revision(database_url) is None
    assert (await tables(database_url)) & model_tables == set()

    # And up one step at a time, then the schema is again exactly the models.
    for revision in steps:
        await upgrade_to(database_url, revision)
        assert await current_revision(database_url) == revision
    assert await schema_diff(database_url) == []
    assert model_tables <= await tables(database_url)
