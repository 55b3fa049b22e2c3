"""Notifications on real PostgreSQL and Redis: concurrent claims, the shared rate limits."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.notifications_models import OutboxMessage
from bot.services import users as users_service
from bot.services.notifications.decisions import Decision, Send
from bot.services.notifications.delivery import DeliveryLoop
from bot.services.notifications.journal import RedisJournal
from bot.services.notifications.kinds import Kind
from bot.services.notifications.outbox import (
    ClaimedMessage,
    NewMessage,
    Status,
    claim,
    enqueue,
    finish,
)
from bot.services.notifications.pacing import RedisGate
from bot.services.notifications.render import NotificationView
from bot.services.notifications.sending import Outcome, SendResult
from tests.unit.test_notifications_delivery import lease_ends


async def outbox_of(
    sessionmaker: SessionMaker, clock: FrozenClock, users: int, per_user: int
) -> None:
    async with sessionmaker() as db:
        rows = [await users_service.get_or_create_user(db, 9500 + n, clock()) for n in range(users)]
        await db.flush()
        messages = [
            NewMessage(user_id=u.id, kind=Kind.RESULT_READY, dedup_key=f"t:{u.id}:{n}")
            for u in rows
            for n in range(per_user)
        ]
        await enqueue(db, messages, clock())
        assert await enqueue(db, messages, clock()) == 0  # the unique key holds on PostgreSQL too
        await db.commit()


async def test_skip_locked_two_workers_never_take_the_same_row(
    pg_sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    await outbox_of(pg_sessionmaker, clock, users=50, per_user=4)

    async def worker(name: str) -> list[int]:
        taken: list[int] = []
        while True:
            async with pg_sessionmaker() as db:
                batch = await claim(db, name, now=clock(), limit=7, lease_seconds=30)
            if not batch:
                return taken
            taken += [m.id for m in batch]
            async with pg_sessionmaker() as db:
                for message in batch:
                    assert await finish(db, message.id, name, Status.SENT, Status.SENT, clock())
                await db.commit()

    results = await asyncio.gather(*(worker(f"w{n}") for n in range(4)))
    taken = [i for r in results for i in r]
    assert len(taken) == len(set(taken)) == 200
    async with pg_sessionmaker() as db:
        statuses = set(await db.scalars(select(OutboxMessage.status)))
    assert statuses == {Status.SENT}


async def test_expired_leases_are_reclaimed_on_postgresql(
    pg_sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    await outbox_of(pg_sessionmaker, clock, users=1, per_user=3)
    async with pg_sessionmaker() as db:
        dead = await claim(db, "dead", now=clock(), limit=10, lease_seconds=30)
    async with pg_sessionmaker() as db:
        assert await claim(db, "alive", now=clock(), limit=10, lease_seconds=30) == []
    await lease_ends(pg_sessionmaker, clock)
    async with pg_sessionmaker() as db:
        recovered = await claim(db, "alive", now=clock(), limit=10, lease_seconds=30)
    assert sorted(m.id for m in recovered) == sorted(m.id for m in dead)


@pytest.fixture
async def gates(redis: Redis, redis_prefix: str) -> tuple[RedisGate, RedisGate]:
    prefix = f"{redis_prefix}:{time.monotonic_ns()}"
    return RedisGate(redis, prefix, rate=40, burst=1), RedisGate(redis, prefix, rate=40, burst=1)


async def test_the_token_bucket_is_shared_by_all_workers(
    gates: tuple[RedisGate, RedisGate],
) -> None:
    first, second = gates
    started = time.monotonic()

    async def send(gate: RedisGate, chats: range) -> None:
        for chat in chats:
            permit = await gate.acquire(chat)
            assert permit.pause == 0 and permit.chat_wait == 0
            await asyncio.sleep(permit.send_after)

    await asyncio.gather(send(first, range(0, 20)), send(second, range(100, 120)))
    elapsed = time.monotonic() - started
    # 40 sends at 40/s together (one in the bucket at the start): about a second, not the
    # half second of a bucket per worker. The upper bound leaves room for a loaded machine's
    # scheduling delay (1.52 s seen under a CI run's load) and still fails at half the rate.
    assert 0.9 < elapsed < 1.9


async def test_a_429_pauses_every_worker_and_chats_are_paced_across_workers(
    gates: tuple[RedisGate, RedisGate],
) -> None:
    first, second = gates
    assert (await first.acquire(7)).chat_wait == 0
    assert 0.5 < (await second.acquire(7)).chat_wait <= 1.0  # one message a second per chat

    await first.pause(3)
    permit = await second.acquire(8)
    assert 2 < permit.pause <= 3
    assert 2 < await second.paused_for() <= 3
    await second.pause(1)  # a shorter pause never cuts a longer one
    assert await first.paused_for() > 2


async def test_a_dead_workers_accepted_rows_are_finished_not_resent(
    pg_sessionmaker: SessionMaker, redis: Redis, redis_prefix: str, clock: FrozenClock
) -> None:
    """The whole recovery on real services: the dead worker noted two of its three rows in
    the Redis journal (Telegram had accepted them); the survivor sends only the third."""
    await outbox_of(pg_sessionmaker, clock, users=3, per_user=1)
    prefix = f"{redis_prefix}:{time.monotonic_ns()}"
    async with pg_sessionmaker() as db:
        first, second, third = await claim(db, "dead", now=clock(), limit=10, lease_seconds=30)
    dead_journal = RedisJournal(redis, prefix, keep_seconds=60)
    await dead_journal.note_sent(first.id)
    await dead_journal.note_sent(second.id)
    assert 0 < await redis.pttl(f"{prefix}:notify:sent:{first.id}") <= 60_000  # it expires
    sent_to: list[int] = []

    async def telegram(chat_id: int, view: NotificationView) -> SendResult:
        sent_to.append(chat_id)
        return SendResult(Outcome.SENT)

    async def to_chat(session: AsyncSession, message: ClaimedMessage) -> Decision:
        return Send(message.user_id, NotificationView("news"))

    survivor = DeliveryLoop(
        pg_sessionmaker,
        to_chat,
        telegram,
        RedisGate(redis, prefix, rate=100),
        clock=clock,
        worker_id="survivor",
        journal=RedisJournal(redis, prefix, keep_seconds=60),
    )
    await lease_ends(pg_sessionmaker, clock)
    assert await survivor.run_once() == 1
    assert sent_to == [third.user_id] and survivor.stats.recovered_sent == 2
    async with pg_sessionmaker() as db:
        statuses = dict((await db.execute(select(OutboxMessage.id, OutboxMessage.status))).all())
    assert statuses == {first.id: Status.SENT, second.id: Status.SENT, third.id: Status.SENT}
