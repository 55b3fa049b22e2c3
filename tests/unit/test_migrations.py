"""Migrations on SQLite (the embedded default): reversible, and equal to the models."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from bot.db.engine import create_engine
from tests.migration_checks import check_round_trip, schema_diff, upgrade_to


async def test_upgrade_downgrade_upgrade_matches_the_models(tmp_path: Path) -> None:
    await check_round_trip(f"sqlite+aiosqlite:///{tmp_path}/migrations.sqlite3")


async def test_the_model_check_notices_drift(tmp_path: Path) -> None:
    # Guards the guard: a schema that differs from the models must show up as a difference.
    url = f"sqlite+aiosqlite:///{tmp_path}/drift.sqlite3"
    await upgrade_to(url)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(sa.text("ALTER TABLE users ADD COLUMN nickname VARCHAR(32)"))
    await engine.dispose()
    diff = await schema_diff(url)
    assert [(entry[0], entry[3].name) for entry in diff] == [("remove_column", "nickname")]


async def test_upgrade_twice_is_a_no_op(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/twice.sqlite3"
    await upgrade_to(url)
    await upgrade_to(url)
    assert await schema_diff(url) == []
