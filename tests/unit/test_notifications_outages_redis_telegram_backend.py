"""The send loop through Redis, Telegram and backend outages: Redis away or stalled means local
pacing and one line, not a stop; Telegram or the backend away at send time means waiting
without using up attempts; a bug in one row is logged and the loop goes on."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.outages import BACKEND, REDIS, TELEGRAM, Circuit, OutageLog
from bot.services.notifications.decisions import Decision, Defer
from bot.services.notifications.delivery import MAX_ATTEMPTS
from bot.services.notifications.journal import GuardedJournal
from bot.services.notifications.outbox import ClaimedMessage, Status
from bot.services.notifications.pacing import FallbackGate, MemoryGate
from bot.services.notifications.sending import Outcome, SendResult
from tests.unit.notifications_outage_support import (
    FlakyJournal,
    FlakyRedisGate,
    a_loop,
    lines,
    quick_backoff,
    running,
    sent_count,
    stopped,
    until,
)
from tests.unit.test_notifications_delivery import (
    FakeTelegram,
    news,
    put,
    rows,
    to_user_chat,
    users,
)


async def test_redis_away_means_local_pacing_and_one_line_not_a_stop(
    sessionmaker: SessionMaker, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    ids = await users(sessionmaker, clock, 5)
    shared = FlakyRedisGate()
    outages = OutageLog("deliver", clock)
    redis = Circuit(REDIS, outages, timeout=0.2, backoff=quick_backoff())
    gate = FallbackGate(shared, MemoryGate(1000, clock=clock), redis)
    journal = FlakyJournal(shared)
    telegram = FakeTelegram()
    worker = a_loop(
        sessionmaker,
        clock,
        telegram,
        gate=gate,
        journal=GuardedJournal(journal, redis),
        outages=outages,
    )
    stop, task = await running(worker)

    shared.down = True
    await put(sessionmaker, clock, [news(ids[0], 1), news(ids[1], 1)])
    await until(sent_count(telegram, 2))  # sent meanwhile, paced by the worker alone
    shared.down, shared.stalled = False, True  # now Redis accepts but never answers
    await put(sessionmaker, clock, [news(ids[2], 1)])
    await until(sent_count(telegram, 3))
    shared.stalled = False
    await put(sessionmaker, clock, [news(ids[3], 1)])

    async def back() -> bool:
        return bool(lines(caplog, "worker.recovered", kind=REDIS)) and len(telegram.delivered) == 4

    await until(back)
    await put(sessionmaker, clock, [news(ids[4], 1)])
    last = (await rows(sessionmaker))[-1].id

    async def noted_again() -> bool:
        # The sent journal is written again once Redis is back: the row queued after it is.
        return last in journal.noted

    await until(noted_again)
    await stopped(stop, task)
    assert [line["kind"] for line in lines(caplog, "worker.outage")] == [REDIS]
    assert len(lines(caplog, "worker.recovered")) == 1
    assert sorted(telegram.delivered) == [9000, 9001, 9002, 9003, 9004]
    assert shared.calls > 0


async def test_a_telegram_outage_waits_and_uses_up_nothing(
    sessionmaker: SessionMaker, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    failures = [SendResult(Outcome.NETWORK, reason="server_error")] * (MAX_ATTEMPTS * 2)
    telegram = FakeTelegram(*failures)
    stop, task = await running(a_loop(sessionmaker, clock, telegram))

    await until(sent_count(telegram, 1), tick=lambda: clock.advance(seconds=20))
    await stopped(stop, task)

    (row,) = await rows(sessionmaker)
    assert row.status == Status.SENT and row.attempts == MAX_ATTEMPTS * 2
    assert lines(caplog, "worker.outage") == [
        {"job": "deliver", "kind": TELEGRAM, "error": "server_error"}
    ]
    assert [line["kind"] for line in lines(caplog, "worker.recovered")] == [TELEGRAM]


async def test_a_backend_outage_at_send_time_waits_and_uses_up_nothing(
    sessionmaker: SessionMaker, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    away = MAX_ATTEMPTS * 2

    async def backend_away_for_a_while(session: AsyncSession, message: ClaimedMessage) -> Decision:
        nonlocal away
        if away:
            away -= 1
            return Defer(None, "backend", failed=True, outage=True)
        return await to_user_chat(session, message)

    telegram = FakeTelegram()
    worker = a_loop(sessionmaker, clock, telegram, prepare=backend_away_for_a_while)
    stop, task = await running(worker)
    await until(sent_count(telegram, 1), tick=lambda: clock.advance(seconds=20))
    await stopped(stop, task)

    (row,) = await rows(sessionmaker)
    assert row.status == Status.SENT
    assert [line["kind"] for line in lines(caplog, "worker.outage")] == [BACKEND]
    assert [line["kind"] for line in lines(caplog, "worker.recovered")] == [BACKEND]


async def test_a_bug_in_one_row_is_logged_and_the_loop_goes_on(
    sessionmaker: SessionMaker, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await users(sessionmaker, clock, 2)
    await put(sessionmaker, clock, [news(ids[0], 1), news(ids[1], 1)])

    async def one_bad_row(session: AsyncSession, message: ClaimedMessage) -> Decision:
        if message.user_id == ids[0]:
            raise KeyError("hit_id")
        return await to_user_chat(session, message)

    telegram = FakeTelegram()
    stop, task = await running(a_loop(sessionmaker, clock, telegram, prepare=one_bad_row))
    await until(sent_count(telegram, 1))
    await stopped(stop, task)
    assert telegram.delivered == [9001]
    assert lines(caplog, "worker.job_failed", job="deliver", error="KeyError")
    assert not lines(caplog, "worker.outage")
