"""The send loop outlives PostgreSQL going away: whatever error the driver raises, it says so in one
line when the outage starts and one when it ends, uses up no attempts, and delivers what was
waiting (or claimed) once the database answers; a hung group-commit write fails its own writers
instead of freezing the rest.

The outages are fakes (tests/unit/notifications_outage_support.py) that raise the errors the
real drivers raise (checked against real ports in test_notifications_outages_kinds.py, and on
real PostgreSQL in tests/integration/test_notifications_pg.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.outages import DATABASE
from bot.services.notifications.decisions import Decision
from bot.services.notifications.outbox import ClaimedMessage, Status
from bot.services.notifications.recorder import GroupCommitter
from bot.services.notifications.render import NotificationView
from bot.services.notifications.sending import Outcome, SendResult
from tests.unit.notifications_outage_support import (
    DATABASE_ERRORS,
    FlakyDatabase,
    a_loop,
    all_sent,
    lines,
    running,
    sent_count,
    stopped,
    until,
)
from tests.unit.test_notifications_delivery import (
    FakeTelegram,
    NotedJournal,
    news,
    put,
    rows,
    to_user_chat,
    users,
)


@pytest.mark.parametrize("error", DATABASE_ERRORS)
async def test_the_send_loop_outlives_the_database_going_away(
    sessionmaker: SessionMaker,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    caplog.set_level(logging.INFO)
    ids = await users(sessionmaker, clock, 2)
    await put(sessionmaker, clock, [news(ids[0], 1)])
    database = FlakyDatabase(sessionmaker, DATABASE_ERRORS[error])
    telegram = FakeTelegram()
    stop, task = await running(a_loop(database, clock, telegram))
    await until(all_sent(sessionmaker))

    database.down = True
    await put(sessionmaker, clock, [news(ids[1], 1)])  # queued by the bot meanwhile

    async def refused_a_few() -> bool:
        return database.refused >= 5

    await until(refused_a_few)
    assert not task.done()  # still running, trying again
    database.down = False
    await until(sent_count(telegram, 2))
    await stopped(stop, task)

    assert telegram.delivered == [9000, 9001]
    assert {r.status for r in await rows(sessionmaker)} == {Status.SENT}
    outage = lines(caplog, "worker.outage")
    assert outage == [{"job": "deliver", "kind": DATABASE, "error": outage[0]["error"]}]
    (recovered,) = lines(caplog, "worker.recovered")
    assert recovered["kind"] == DATABASE and recovered["failures"] >= 5
    assert recovered["seconds"] >= 0
    assert not [r for r in caplog.records if r.exc_info]  # no traceback, however many tries


async def test_a_row_whose_check_met_the_outage_goes_when_the_database_answers(
    sessionmaker: SessionMaker, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Claimed just before the database went away, its send-time check failed: nothing was
    sent, so the row goes as soon as the database answers, not only when its lease ends (the
    clock stands still here: a lease never ends by itself)."""
    caplog.set_level(logging.INFO)
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    database = FlakyDatabase(sessionmaker, DATABASE_ERRORS["operational"])
    checks = 0

    async def database_goes_during_the_first_check(
        session: AsyncSession, message: ClaimedMessage
    ) -> Decision:
        nonlocal checks
        checks += 1
        if checks == 1:
            database.down = True
            raise DATABASE_ERRORS["operational"]()
        return await to_user_chat(session, message)

    telegram = FakeTelegram()
    worker = a_loop(database, clock, telegram, prepare=database_goes_during_the_first_check)
    stop, task = await running(worker)

    async def refused_a_few() -> bool:
        return database.refused >= 3

    await until(refused_a_few)
    (row,) = await rows(sessionmaker)
    assert row.status == Status.CLAIMED and not telegram.delivered
    database.down = False
    await until(all_sent(sessionmaker))
    await stopped(stop, task)

    (row,) = await rows(sessionmaker)
    assert checks == 2 and telegram.delivered == [9000]
    assert row.attempts == 0  # an outage uses up nothing
    assert [line["kind"] for line in lines(caplog, "worker.outage")] == [DATABASE]
    assert [line["kind"] for line in lines(caplog, "worker.recovered")] == [DATABASE]


async def test_a_row_claimed_before_the_outage_comes_back_after_its_lease(
    sessionmaker: SessionMaker, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram accepted it, then the database went away before the "sent" mark: the row
    stays claimed; when its lease ends it is claimed again, found in the sent journal and
    finished as sent, not sent twice."""
    (user,) = await users(sessionmaker, clock, 1)
    await put(sessionmaker, clock, [news(user, 1)])
    database = FlakyDatabase(sessionmaker, DATABASE_ERRORS["refused"])
    journal = NotedJournal()
    accepted: list[int] = []

    async def telegram_then_outage(chat_id: int, view: NotificationView) -> SendResult:
        accepted.append(chat_id)
        database.down = True  # right after Telegram took it
        return SendResult(Outcome.SENT)

    worker = a_loop(database, clock, telegram_then_outage, journal=journal, lease_seconds=30)
    stop, task = await running(worker)

    async def mark_failed() -> bool:
        return database.refused >= 3

    await until(mark_failed)
    (row,) = await rows(sessionmaker)
    assert row.status == Status.CLAIMED  # the mark could not be written
    database.down = False
    clock.advance(seconds=31)  # the lease runs out

    async def finished() -> bool:
        return (await rows(sessionmaker))[0].status == Status.SENT

    await until(finished)
    await stopped(stop, task)
    assert accepted == [9000] and worker.stats.recovered_sent == 1


# --- the group commit ------------------------------------------------------------------------


async def test_a_hung_database_write_fails_its_writers_instead_of_freezing_the_rest(
    sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    hang = True

    async def write(session: AsyncSession) -> None:
        if hang:
            await asyncio.Event().wait()

    committer = GroupCommitter(sessionmaker, "w1", clock, write_timeout=0.2)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(committer.write(write), 10)
    hang = False
    await asyncio.wait_for(committer.write(write), 10)  # the next write is not stuck behind it
    await committer.idle()
