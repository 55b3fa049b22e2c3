"""A PostgreSQL that is slow to answer ends as a database outage within the bot's timeout
(asyncpg's command timeout), and the pool is usable again afterwards."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from bot.db.engine import create_engine, create_sessionmaker
from bot.outages import DATABASE, outage_kind


async def test_a_statement_past_the_timeout_is_a_database_outage_not_a_hang(pg_url: str) -> None:
    engine = create_engine(pg_url, timeout_seconds=0.3)
    sessions = create_sessionmaker(engine)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:
            async with sessions() as session:
                await session.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 2.0
        assert outage_kind(caught.value) == DATABASE
        async with sessions() as session:  # the next update is served as usual
            assert (await session.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
