"""The periodic jobs (feed, reminders, watches) and the worker's start outlive database and backend
outages: they back off, say so once when an outage starts and once when it ends, cut rounds
that hang, log a bug each round instead of exiting, and catch up once the dependency is back."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import text

from backend_client.errors import BackendUnavailable
from bot.app import App
from bot.clock import FrozenClock
from bot.db.engine import create_engine
from bot.notify_worker import Job, run_notification_jobs
from bot.outages import BACKEND, DATABASE, keep_running
from bot.runtime import _backend_answers
from bot.services.notifications.kinds import Kind
from bot.settings import NotificationSettings
from tests.unit.notifications_outage_support import (
    DATABASE_ERRORS,
    QUICK,
    FlakyDatabase,
    lines,
    quick_backoff,
    silent_port,
    until,
)
from tests.unit.notify_support import World, world
from tests.unit.test_notifications_intake import family, mothers_visit

__all__ = ["world"]


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
