"""Migrations on PostgreSQL: reversible, and equal to the models."""

from __future__ import annotations

from collections.abc import Callable

from tests.migration_checks import check_round_trip, schema_diff


async def test_upgrade_downgrade_upgrade_matches_the_models(
    pg_database_factory: Callable[[], str],
) -> None:
    # A database of its own: going down to base must not disturb the other tests' one.
    await check_round_trip(pg_database_factory())


async def test_the_run_database_matches_the_models(pg_url: str) -> None:
    assert await schema_diff(pg_url) == []
