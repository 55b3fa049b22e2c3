"""The outbox and the send loop: claims, leases, priorities, and what Telegram answers.

Every step reads the test's frozen clock (`clock`): a retry "later", a lease that "ran out" or
a 429 pause are moments on it, never real waits."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.db.notifications_models import OutboxMessage
from bot.services import users as users_service
from bot.services.notifications import recorder
from bot.services.notifications.decisions import Decision, Send
from bot.services.notifications.delivery import (
    GIVE_UP_AFTER,
    MAX_ATTEMPTS,
    DeliveryLoop,
)
from bot.services.notifications.kinds import Kind, Priority
from bot.services.notifications.outbox import (
    ClaimedMessage,
    NewMessage,
    Status,
    claim,
    enqueue,
    finish,
)
from bot.services.notifications.pacing import MemoryGate
from bot.services.notifications.recorder import GroupCommitter
from bot.services.notifications.render import NotificationView
from bot.services.notifications.sending import Outcome, SendResult


async def users(sessionmaker: SessionMaker, clock: FrozenClock, count: int) -> list[int]:
    async with sessionmaker() as db:
        rows = [await users_service.get_or_create_user(db, 9000 + n, clock()) for n in range(count)]
        await db.commit()
        return [r.id for r in rows]


def news(user_id: int, n: int, priority: Priority = Priority.NORMAL) -> NewMessage:
    return NewMessage(
        user_id=user_id, kind=Kind.RESULT_READY, dedup_key=f"t:{user_id}:{n}", priority=priority
    )


async def put(sessionmaker: SessionMaker, clock: FrozenClock, messages: list[NewMessage]) -> int:
    async with sessionmaker() as db:
        created = await enqueue(db, messages, clock())
        await db.commit()
        return created


async def rows(sessionmaker: SessionMaker) -> list[OutboxMessage]:
    async with sessionmaker() as db:
        return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def lease_ends(sessionmaker: SessionMaker, clock: FrozenClock) -> None:
    """Every lease runs out now, as if its worker had died long enough ago (no sleeping: a
    busy machine must not decide whether a lease is still held)."""
    async with sessionmaker() as db:
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == Status.CLAIMED)
            .values(lease_until=clock() - timedelta(seconds=1))
        )
        await db.commit()


async def due_now(sessionmaker: SessionMaker, clock: FrozenClock) -> None:
    """Every pending row is due now (its retry's backoff has passed)."""
    async with sessionmaker() as db:
        for row in await db.scalars(select(OutboxMessage)):
            row.not_before = clock()
        await db.commit()


class FakeTelegram:
    """Answers like Telegram would, one scripted outcome per call (then SENT)."""

    def __init__(self, *script: SendResult) -> None:
        self.script = list(script)
        self.delivered: list[int] = []

    async def __call__(self, chat_id: int, view: NotificationView) -> SendResult:
        result = self.script.pop(0) if self.script else SendResult(Outcome.SENT)
        if result.outcome is Outcome.SENT:
            self.delivered.append(chat_id)
        return result


async def to_user_chat(session: AsyncSession, message: ClaimedMessage) -> Decision:
    user = await session.get(User, message.user_id)
    assert user is not None
    return Send(user.telegram_id, NotificationView(f"#{message.id}"))


def loop(
    sessionmaker: SessionMaker, clock: FrozenClock, telegram: FakeTelegram, **kw: Any
) -> DeliveryLoop:
    gate = MemoryGate(1000, clock=clock)
    return DeliveryLoop(sessionmaker, to_user_chat, telegram, gate, clock=clock, **kw)


async def test_duplicates_are_impossible(sessionmaker: SessionMaker, clock: FrozenClock) -> None:
    (user,) = await users(sessionmaker, clock, 1)
    assert await put(sessionmaker, clock, [news(user, 1), news(user, 1), news(user, 2)]) == 2
    assert await put(sessionmaker, clock, [news(user, 1)]) == 0
    assert len(await rows(sessionmaker)) == 2
    assert {(r.created_at, r.not_before) for r in await rows(sessionmaker)} == {(clock(), clock())}


async def test_sent_once_and_marked_only_after_telegram_accepted(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    ids = await users(sessionmaker, clock, 3)
    await put(sessionmaker, clock, [news(u, 1) for u in ids])
    telegram = FakeTelegram(SendResult(Outcome.NETWORK, reason="network"))
    worker = loop(sessionmaker, clock, telegram)

    assert await worker.run_once() == 3
    states = {r.user_id: r for r in await rows(sessionmaker)}
    sent = [r for r in states.values() if r.status == Status.SENT]
    retrying = [r for r in states.values() if r.status == Status.PENDING]
    assert len(sent) == 2 and len(retrying) == 1
    assert retrying[0].attempts == 1 and retrying[0].not_before > clock()
    assert {r.finished_at for r in sent} == {clock()}
    assert sorted(telegram.delivered) == sorted(9000 + ids.index(r.user_id) for r in sent)
    assert await worker.run_once() == 0  # nothing due: the retry waits for its backoff


async def test_a_message_telegram_keeps_failing_gives_up_after_retries_and_a_day(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    failing = FakeTelegram(*[SendResult(Outcome.NETWORK, reason="network")] * (MAX_ATTEMPTS + 1))
    for _ in range(MAX_ATTEMPTS):  # tries enough, but within a day: it keeps waiting
        await due_now(sessionmaker, clock)
        await loop(sessionmaker, clock, failing).run_once()  # a fresh gate: no per-chat wait
    (row,) = await rows(sessionmaker)
    assert (row.status, row.attempts) == (Status.PENDING, MAX_ATTEMPTS)

    clock.advance(seconds=GIVE_UP_AFTER.total_seconds())
    await due_now(sessionmaker, clock)
    await loop(sessionmaker, clock, failing).run_once()
    (row,) = await rows(sessionmaker)
    assert (row.status, row.outcome) == (Status.FAILED, "network")
    assert failing.delivered == []


async def test_a_long_telegram_outage_loses_nothing(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    """Telegram away for twelve hours (a try every few minutes): the message waits it out and
    goes when Telegram is back, never waiting more than a minute once it is."""
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    tries = 0
    telegram = FakeTelegram(*[SendResult(Outcome.NETWORK, reason="server_error")] * 200)
    while telegram.script:
        (row,) = await rows(sessionmaker)
        clock.set(max(clock(), row.not_before))
        tries += await loop(sessionmaker, clock, telegram).run_once()
        (row,) = await rows(sessionmaker)
        assert row.status == Status.PENDING
        assert row.not_before - clock() <= timedelta(seconds=60)
        clock.advance(minutes=3.6)
    (row,) = await rows(sessionmaker)
    clock.set(max(clock(), row.not_before))
    await loop(sessionmaker, clock, telegram).run_once()
    (row,) = await rows(sessionmaker)
    assert row.status == Status.SENT and telegram.delivered == [9000] and tries == 200


async def test_429_pauses_every_sender_and_keeps_the_message(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    telegram = FakeTelegram(SendResult(Outcome.RETRY_AFTER, retry_after=7))
    worker = loop(sessionmaker, clock, telegram)

    await worker.run_once()

    (row,) = await rows(sessionmaker)
    assert row.status == Status.PENDING
    assert row.not_before == clock() + timedelta(seconds=7)
    assert 6 < await worker.gate.paused_for() <= 7
    assert (await worker.gate.acquire(12345)).pause > 6  # any chat, any sender using the gate


async def test_403_marks_the_user_blocked(sessionmaker: SessionMaker, clock: FrozenClock) -> None:
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    worker = loop(sessionmaker, clock, FakeTelegram(SendResult(Outcome.BLOCKED)))

    await worker.run_once()

    (row,) = await rows(sessionmaker)
    assert (row.status, row.outcome) == (Status.SKIPPED, "blocked")
    async with sessionmaker() as db:
        blocked = await db.get(User, user)
        assert blocked is not None and blocked.blocked_at == clock()


async def test_urgent_overtakes_bulk(sessionmaker: SessionMaker, clock: FrozenClock) -> None:
    ids = await users(sessionmaker, clock, 5)
    await put(sessionmaker, clock, [news(u, 1) for u in ids[:4]])
    await put(sessionmaker, clock, [news(ids[4], 1, Priority.URGENT)])
    async with sessionmaker() as db:
        first = await claim(db, "w1", now=clock(), limit=1, lease_seconds=30)
    assert [m.user_id for m in first] == [ids[4]]


async def test_two_workers_claim_disjoint_rows(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    ids = await users(sessionmaker, clock, 10)
    await put(sessionmaker, clock, [news(u, n) for u in ids for n in range(3)])

    async def take(worker: str) -> list[int]:
        taken: list[int] = []
        while True:
            async with sessionmaker() as db:
                batch = await claim(db, worker, now=clock(), limit=4, lease_seconds=30)
            if not batch:
                return taken
            taken += [m.id for m in batch]
            await asyncio.sleep(0)

    first, second = await asyncio.gather(take("w1"), take("w2"))
    assert not set(first) & set(second)
    assert len(first) + len(second) == 30


async def test_a_dead_workers_lease_expires_and_another_sends(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    async with sessionmaker() as db:
        (dead,) = await claim(db, "dead-worker", now=clock(), limit=5, lease_seconds=30)
    telegram = FakeTelegram()
    survivor = loop(sessionmaker, clock, telegram, worker_id="survivor")
    assert await survivor.run_once() == 0  # still leased
    clock.advance(seconds=29)
    assert await survivor.run_once() == 0  # a second before its end

    clock.advance(seconds=2)
    assert await survivor.run_once() == 1
    (row,) = await rows(sessionmaker)
    assert (row.status, row.claimed_by) == (Status.SENT, "survivor")
    assert telegram.delivered == [9000]
    async with sessionmaker() as db:  # the dead worker coming back cannot overwrite it
        assert not await finish(db, dead.id, "dead-worker", Status.FAILED, "late", clock())


class NotedJournal:
    """The sent journal as a dict (RedisJournal is checked against Redis in integration)."""

    def __init__(self) -> None:
        self.noted: set[int] = set()

    async def note_sent(self, message_id: int) -> None:
        self.noted.add(message_id)

    async def sent_among(self, message_ids: Sequence[int]) -> set[int]:
        return self.noted & set(message_ids)


class BrokenJournal:
    async def note_sent(self, message_id: int) -> None:
        raise ConnectionError("redis is down")

    async def sent_among(self, message_ids: Sequence[int]) -> set[int]:
        raise ConnectionError("redis is down")


async def test_a_row_telegram_accepted_before_its_worker_died_is_not_sent_again(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1), news(user, 2)])
    async with sessionmaker() as db:
        accepted, unsent = await claim(db, "dead-worker", now=clock(), limit=5, lease_seconds=30)
    journal = NotedJournal()
    await journal.note_sent(accepted.id)  # the dead worker got this far, not to its DB mark
    telegram = FakeTelegram()
    survivor = loop(sessionmaker, clock, telegram, worker_id="survivor", journal=journal)

    await lease_ends(sessionmaker, clock)
    assert await survivor.run_once() == 1  # only the unsent row was delivered
    states = {r.id: r for r in await rows(sessionmaker)}
    assert states[accepted.id].status == Status.SENT
    assert states[unsent.id].status == Status.SENT
    assert telegram.delivered == [9000]
    assert survivor.stats.recovered_sent == 1 and journal.noted == {accepted.id, unsent.id}


async def test_a_broken_journal_costs_nothing_but_the_narrower_window(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    telegram = FakeTelegram()
    worker = loop(sessionmaker, clock, telegram, journal=BrokenJournal())
    assert await worker.run_once() == 1
    (row,) = await rows(sessionmaker)
    assert row.status == Status.SENT and telegram.delivered == [9000]


async def test_one_message_a_second_per_chat(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    gate = MemoryGate(1000, clock=clock)
    assert (await gate.acquire(1)).chat_wait == 0
    assert (await gate.acquire(2)).chat_wait == 0
    assert 0.9 < (await gate.acquire(1)).chat_wait <= 1.0
    clock.advance(seconds=1)
    assert (await gate.acquire(1)).chat_wait == 0  # a second later on the clock

    ids = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(ids[0], n) for n in range(3)])
    telegram = FakeTelegram()
    worker = loop(sessionmaker, clock, telegram)
    await worker.run_once()
    assert len(telegram.delivered) == 1  # the other two went back for a second later
    pending = [r for r in await rows(sessionmaker) if r.status == Status.PENDING]
    assert len(pending) == 2 and all(r.not_before > clock() for r in pending)


async def test_the_global_bucket_holds_the_rate(clock: FrozenClock) -> None:
    gate = MemoryGate(rate=50, burst=1, clock=clock)
    waits = [(await gate.acquire(chat)).send_after for chat in range(26)]
    assert waits[0] == 0
    assert 0.45 < waits[-1] <= 0.5  # 25 more at 50/s: the last one half a second later


async def test_group_commit_never_leaves_a_writer_waiting(
    sessionmaker: SessionMaker, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write arriving while the previous group closes its connection is still committed."""
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1), news(user, 2)])
    async with sessionmaker() as db:
        first, second = await claim(db, "w1", now=clock(), limit=2, lease_seconds=60)
    closing = asyncio.Event()
    real_close = recorder._close

    async def slow_close(connection: Any) -> None:
        closing.set()
        await asyncio.sleep(0.05)
        await real_close(connection)

    monkeypatch.setattr(recorder, "_close", slow_close)
    committer = GroupCommitter(sessionmaker, "w1", clock)
    earlier = asyncio.create_task(committer.mark_sent(first.id))
    await closing.wait()
    await asyncio.wait_for(committer.mark_sent(second.id), timeout=5)
    await earlier
    await committer.idle()
    assert {r.status for r in await rows(sessionmaker)} == {Status.SENT}
