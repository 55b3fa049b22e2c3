"""The fan-out benchmark's outbox: a fresh PostgreSQL database (and Redis key prefix) or a
SQLite file, filled with the notifications to send, and how many rows are still open."""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import User
from bot.db.notifications_models import OutboxMessage
from bot.services.notifications.outbox import Status
from fanoutkit.shared import CLOCK, FIRST_CHAT


@dataclass
class Store:
    """Where the run keeps its outbox: a fresh PostgreSQL database or a SQLite file."""

    url: str
    redis: str | None
    prefix: str
    cleanup: list[Any]


async def open_store(tmp: Path) -> Store:
    from bot.db.migrate import upgrade
    from bot.settings import DatabaseSettings

    prefix = f"emk_bench_{secrets.token_hex(4)}"
    server = os.environ.get("DATABASE_URL")
    cleanup: list[Any] = []
    if server and DatabaseSettings(database_url=server).database_url.startswith("postgresql"):
        import asyncpg  # type: ignore[import-untyped]

        url = make_url(DatabaseSettings(database_url=server).database_url)
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(plain)
        await connection.execute(f'CREATE DATABASE "{prefix}"')
        await connection.close()

        async def drop() -> None:
            connection = await asyncpg.connect(plain)
            await connection.execute(f'DROP DATABASE IF EXISTS "{prefix}" WITH (FORCE)')
            await connection.close()

        cleanup.append(drop)
        database = url.set(database=prefix).render_as_string(hide_password=False)
    else:
        database = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
    await asyncio.to_thread(upgrade, database)
    redis_url = os.environ.get("REDIS_URL") or None
    if redis_url:
        from redis.asyncio import Redis

        async def forget_keys() -> None:
            client = Redis.from_url(redis_url)
            keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()

        cleanup.append(forget_keys)
    return Store(database, redis_url, prefix, cleanup)


async def fill_outbox(url: str, messages: int, chats: int) -> None:
    """`chats` users; messages go round-robin over them, so each chat gets a few, spread out."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    now = CLOCK()
    async with sessionmaker() as db:
        await db.execute(
            insert(User),
            [
                {"telegram_id": FIRST_CHAT + n, "created_at": now, "last_seen_at": now}
                for n in range(chats)
            ],
        )
        ids = list(await db.scalars(select(User.id).order_by(User.id)))
        rows = [
            {
                "user_id": ids[n % chats],
                "dedup_key": f"bench:{n}",
                "kind": "result_ready",
                "payload": "{}",
                "priority": 1,
                "status": Status.PENDING,
                "not_before": now,
                "attempts": 0,
                "created_at": now,
            }
            for n in range(messages)
        ]
        for start in range(0, len(rows), 2000):
            await db.execute(insert(OutboxMessage), rows[start : start + 2000])
        await db.commit()
    await engine.dispose()


async def open_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as db:
            count = await db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_((Status.PENDING, Status.CLAIMED)))
            )
            return int(count or 0)
    finally:
        await engine.dispose()
