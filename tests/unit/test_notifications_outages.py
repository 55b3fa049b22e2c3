"""Workers that stay up: the send loop and the periodic jobs outlive PostgreSQL, Redis, backend
and Telegram outages, say so in one line when one starts and one when it ends, and deliver
what was waiting once the dependency is back.

The outages here are fakes that raise the errors the real drivers raise (checked against
real closed and silent ports at the end of this file, and on real PostgreSQL and Redis in
tests/integration/test_notifications_pg.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import SimpleNamespace
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
import pytest
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from aiogram.methods import SendMessage
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from sqlalchemy import exc as sa_errors
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import BackendUnavailable, InvalidRequest
from bot.app import App
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker, create_engine
from bot.notify_worker import Job, run_notification_jobs
from bot.outages import (
    BACKEND,
    DATABASE,
    NETWORK,
    REDIS,
    TELEGRAM,
    Backoff,
    Circuit,
    OutageLog,
    keep_running,
    outage_kind,
)
from bot.runtime import _backend_answers
from bot.services.notifications.decisions import Decision, Defer
from bot.services.notifications.delivery import MAX_ATTEMPTS, DeliveryLoop, Outcome, SendResult
from bot.services.notifications.journal import GuardedJournal
from bot.services.notifications.kinds import Kind
from bot.services.notifications.outbox import ClaimedMessage, Status
from bot.services.notifications.pacing import FallbackGate, MemoryGate, Permit
from bot.services.notifications.recorder import GroupCommitter
from bot.services.notifications.render import NotificationView
from bot.settings import NotificationSettings
from tests.unit.notify_support import World, world
from tests.unit.test_notifications_delivery import (
    FakeTelegram,
    NotedJournal,
    news,
    put,
    rows,
    to_user_chat,
    users,
)
from tests.unit.test_notifications_intake import family, mothers_visit

__all__ = ["world"]

QUICK = 0.01
"""Seconds between tries in these tests (the product waits 0.5 s and more, up to a cap)."""


def quick_backoff() -> Backoff:
    return Backoff(first=QUICK, cap=QUICK * 4)


def lines(caplog: pytest.LogCaptureFixture, event: str, **fields: object) -> list[dict[str, Any]]:
    """The `event` lines logged, as their fields (only those matching `fields`)."""
    found = []
    for record in caplog.records:
        values = getattr(record, "event_fields", None)
        if (
            record.msg == event
            and values is not None
            and all(values.get(k) == v for k, v in fields.items())
        ):
            found.append(values)
    return found


async def until(
    condition: Callable[[], Awaitable[bool]],
    *,
    tick: Callable[[], object] | None = None,
    limit: float = 20.0,
) -> None:
    """Wait until `condition` holds (moving the clock on with `tick` between looks); the limit
    is generous, only there so a loop that froze fails the test instead of hanging it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError("the loop did not get there")
        if tick is not None:
            tick()
        await asyncio.sleep(QUICK)


class FlakyDatabase:
    """The sessionmaker, with the database away while `down`: opening a session raises what
    the driver raises then (sent marks go through sessions too, so they fail as well)."""

    def __init__(self, real: SessionMaker, error: Callable[[], BaseException]) -> None:
        self.real = real
        self.error = error
        self.down = False
        self.kw: dict[str, Any] = {}
        self.refused = 0

    def __call__(self) -> Any:
        if self.down:
            self.refused += 1
            raise self.error()
        return self.real()


class FlakyRedisGate:
    """The shared gate with Redis away while `down` (refused) or `stalled` (never answers)."""

    def __init__(self) -> None:
        self.down = False
        self.stalled = False
        self.calls = 0

    async def _answer(self) -> None:
        self.calls += 1
        if self.stalled:
            await asyncio.Event().wait()
        if self.down:
            raise redis_errors.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    async def acquire(self, chat_id: int) -> Permit:
        await self._answer()
        return Permit()

    async def pause(self, seconds: float) -> None:
        await self._answer()

    async def paused_for(self) -> float:
        await self._answer()
        return 0.0


class FlakyJournal(NotedJournal):
    def __init__(self, gate: FlakyRedisGate) -> None:
        super().__init__()
        self.gate = gate

    async def note_sent(self, message_id: int) -> None:
        await self.gate._answer()
        await super().note_sent(message_id)

    async def sent_among(self, message_ids: Sequence[int]) -> set[int]:
        await self.gate._answer()
        return await super().sent_among(message_ids)


def a_loop(
    sessionmaker: Any,
    clock: FrozenClock,
    telegram: Any,
    *,
    prepare: Any = to_user_chat,
    gate: Any = None,
    **kw: Any,
) -> DeliveryLoop:
    return DeliveryLoop(
        sessionmaker,
        prepare,
        telegram,
        gate or MemoryGate(1000, clock=clock),
        clock=clock,
        idle_seconds=QUICK,
        backoff=quick_backoff,
        **kw,
    )


async def running(worker: DeliveryLoop) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    return stop, asyncio.create_task(worker.run(stop))


async def stopped(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    stop.set()
    await asyncio.wait_for(task, 10)  # the loop ends when asked, outage or not


@contextlib.asynccontextmanager
async def silent_port() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word (a stalled server)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


def all_sent(sessionmaker: SessionMaker) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return {r.status for r in await rows(sessionmaker)} == {Status.SENT}

    return check


def sent_count(telegram: FakeTelegram, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(telegram.delivered) >= count

    return check


DATABASE_ERRORS: dict[str, Callable[[], BaseException]] = {
    "refused": lambda: ConnectionRefusedError(111, "Connect call failed"),
    "operational": lambda: sa_errors.OperationalError("SELECT", {}, OSError("gone")),
    "interface": lambda: sa_errors.InterfaceError("SELECT", {}, Exception("closed")),
    "dbapi": lambda: sa_errors.DBAPIError("SELECT", {}, Exception("terminated"), True),
    "pool_timeout": lambda: sa_errors.TimeoutError("QueuePool limit reached"),
    "asyncpg_lost": lambda: asyncpg.exceptions.ConnectionDoesNotExistError("lost"),
    "asyncpg_shutdown": lambda: asyncpg.exceptions.CannotConnectNowError("starting up"),
    "oserror": lambda: OSError(113, "No route to host"),
    "timeout": lambda: TimeoutError(),
}


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


# --- the periodic jobs -----------------------------------------------------------------------


async def test_a_periodic_job_backs_off_through_an_outage_and_says_so_twice(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    errors: list[BaseException] = [
        BackendUnavailable("timeout"),
        BackendUnavailable("timeout"),
        BackendUnavailable("503"),
    ]
    rounds = 0

    async def feed() -> None:
        nonlocal rounds
        rounds += 1
        if errors:
            raise errors.pop(0)
        stop.set()

    await asyncio.wait_for(
        keep_running(
            "feed", feed, stop, every=QUICK, clock=clock, round_timeout=1, backoff=quick_backoff()
        ),
        10,
    )
    assert rounds == 4
    assert lines(caplog, "worker.outage") == [
        {"job": "feed", "kind": BACKEND, "error": "BackendUnavailable"}
    ]
    (recovered,) = lines(caplog, "worker.recovered")
    assert (recovered["job"], recovered["kind"], recovered["failures"]) == ("feed", BACKEND, 3)


class FlakyBackend:
    """The records backend, away while `down` (every call refused as the client says it)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.down = False
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                self.refused += 1
                raise BackendUnavailable("connection refused")
            return await method(*args, **kwargs)

        return call


@pytest.mark.parametrize("away", [DATABASE, BACKEND])
async def test_the_feed_and_reminder_jobs_outlive_an_outage_and_catch_up(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, away: str
) -> None:
    """The worker's own feed and reminder jobs (`run_notification_jobs`), with the database or
    the backend away for a number of rounds: neither job exits, each says so once when the
    outage starts and once when it ends, and what happened meanwhile is in the outbox after."""
    caplog.set_level(logging.INFO)
    monkeypatch.setattr("bot.outages.Backoff", lambda **_: quick_backoff())
    monkeypatch.setattr("bot.notify_worker.Backoff", lambda **_: quick_backoff())
    people = await family(world)
    visit = await mothers_visit(world, people)
    database = FlakyDatabase(world.sessionmaker, DATABASE_ERRORS["operational"])
    backend = FlakyBackend(world.backend)
    app = cast(
        App,
        SimpleNamespace(
            settings=SimpleNamespace(
                notifications=NotificationSettings(
                    feed_poll_seconds=QUICK, reminder_poll_seconds=QUICK
                )
            ),
            sessionmaker=database,
            backend=backend,
            keys=world.keys,
            clock=world.clock,
        ),
    )
    dependency = database if away == DATABASE else backend
    dependency.down = True
    await world.backend.publish_result(policy=await world.policy("mother"))  # while away
    stop = asyncio.Event()
    jobs = asyncio.create_task(run_notification_jobs(app, stop, {Job.FEED, Job.REMINDERS}))

    async def both_jobs_failed_a_few_rounds() -> bool:
        outages = {line["job"] for line in lines(caplog, "worker.outage")}
        return dependency.refused >= 10 and outages == {Job.FEED, Job.REMINDERS}

    await until(both_jobs_failed_a_few_rounds)
    assert not jobs.done()  # still trying
    assert not await world.outbox()
    dependency.down = False

    async def caught_up() -> bool:
        rows = await world.outbox()
        results = [r for r in rows if r.kind == Kind.RESULT_READY]
        visit_reminders = [r for r in rows if r.subject == visit.appointment_id]
        return len(results) == 2 and len(visit_reminders) == 6  # 2 recipients; 3 x (24 h, 2 h)

    await until(caught_up)
    stop.set()
    await asyncio.wait_for(jobs, 10)  # and they stop when asked

    assert sorted((x["job"], x["kind"]) for x in lines(caplog, "worker.outage")) == [
        (Job.FEED, away),
        (Job.REMINDERS, away),
    ]
    recovered = lines(caplog, "worker.recovered")
    assert sorted((x["job"], x["kind"]) for x in recovered) == [
        (Job.FEED, away),
        (Job.REMINDERS, away),
    ]
    assert all(x["failures"] >= 2 for x in recovered)
    assert not [r for r in caplog.records if r.exc_info]  # no traceback, however many tries


async def test_a_round_that_hangs_is_cut_by_its_timeout_and_retried(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that accepts the connection and then says nothing must not freeze the job."""
    stop = asyncio.Event()
    rounds = 0

    async def reminders(engine: Any) -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        stop.set()

    async with silent_port() as port:
        engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x")
        await asyncio.wait_for(
            keep_running(
                "reminders",
                lambda: reminders(engine),
                stop,
                every=QUICK,
                clock=clock,
                round_timeout=0.3,
                backoff=quick_backoff(),
            ),
            10,
        )
        await engine.dispose()
    assert rounds == 2
    assert lines(caplog, "worker.outage") == [
        {"job": "reminders", "kind": DATABASE, "error": "TimeoutError"}
    ]


async def test_a_bug_in_a_periodic_job_is_a_line_each_time_not_an_exit(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    stop = asyncio.Event()
    rounds = 0

    async def watches() -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 3:
            stop.set()
        raise ValueError("a bug")

    await asyncio.wait_for(
        keep_running(
            "watches",
            watches,
            stop,
            every=QUICK,
            clock=clock,
            round_timeout=1,
            backoff=quick_backoff(),
        ),
        10,
    )
    assert len(lines(caplog, "worker.job_failed", job="watches", error="ValueError")) == 3
    assert not lines(caplog, "worker.outage")


async def test_the_worker_waits_for_a_backend_that_is_down_at_start(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr("bot.runtime.Backoff", lambda **_: quick_backoff())
    down = 3

    class Backend:
        async def health(self) -> None:
            nonlocal down
            if down:
                down -= 1
                raise BackendUnavailable("connection refused")

    app = cast(App, SimpleNamespace(backend=Backend(), clock=clock))
    assert await asyncio.wait_for(_backend_answers(app, asyncio.Event()), 10)
    assert [(x["job"], x["kind"]) for x in lines(caplog, "worker.outage")] == [("start", BACKEND)]
    assert len(lines(caplog, "worker.recovered")) == 1

    stop = asyncio.Event()
    down = 1_000
    waiting = asyncio.create_task(_backend_answers(app, stop))
    await asyncio.sleep(QUICK * 5)
    stop.set()  # SIGTERM while still waiting: the worker stops instead
    assert await asyncio.wait_for(waiting, 10) is False


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


# --- what counts as an outage ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (redis_errors.ConnectionError("refused"), REDIS),
        (redis_errors.TimeoutError("Timeout reading from socket"), REDIS),
        (redis_errors.BusyLoadingError("loading"), REDIS),
        (sa_errors.OperationalError("SELECT", {}, OSError()), DATABASE),
        (sa_errors.InterfaceError("SELECT", {}, Exception()), DATABASE),
        (sa_errors.DBAPIError("SELECT", {}, Exception(), True), DATABASE),
        (sa_errors.TimeoutError("pool"), DATABASE),
        (asyncpg.exceptions.ConnectionDoesNotExistError("gone"), DATABASE),
        (asyncpg.exceptions.AdminShutdownError("shutdown"), DATABASE),
        (asyncpg.exceptions.TooManyConnectionsError("full"), DATABASE),
        (asyncpg.exceptions.InterfaceError("closed"), DATABASE),
        (BackendUnavailable("timeout"), BACKEND),
        (TelegramNetworkError(method=SendMessage(chat_id=1, text="x"), message="x"), TELEGRAM),
        (TelegramServerError(method=SendMessage(chat_id=1, text="x"), message="x"), TELEGRAM),
        (ConnectionRefusedError(), NETWORK),
        (OSError(), NETWORK),
        (TimeoutError(), NETWORK),
    ],
)
def test_driver_errors_are_outages(error: BaseException, kind: str) -> None:
    assert outage_kind(error) == kind


@pytest.mark.parametrize(
    "error",
    [
        sa_errors.IntegrityError("INSERT", {}, Exception()),
        sa_errors.ProgrammingError("SELECT", {}, Exception()),
        redis_errors.ResponseError("ERR bad script"),
        InvalidRequest("slot_id"),
        ValueError(),
        KeyError("x"),
    ],
)
def test_bugs_and_bad_data_are_not_outages(error: BaseException) -> None:
    assert outage_kind(error) is None


async def test_real_drivers_at_a_closed_port_and_a_silent_one_name_their_dependency() -> None:
    """What asyncpg and redis-py really raise (port 1 refuses; the listener never answers)."""
    found: list[str | None] = []
    async with silent_port() as silent:
        for port in (1, silent):
            engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x")

            async def query(engine: Any = engine) -> None:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))

            with pytest.raises(Exception) as pg:  # noqa: PT011 - whatever the driver raises
                await asyncio.wait_for(query(), 0.5)
            await engine.dispose()
            redis = Redis.from_url(f"redis://127.0.0.1:{port}/0")
            with pytest.raises(Exception) as rd:  # noqa: PT011
                await asyncio.wait_for(redis.ping(), 0.5)
            await redis.aclose()
            found += [outage_kind(pg.value), outage_kind(rd.value)]
    assert found == [DATABASE, REDIS, DATABASE, REDIS]
