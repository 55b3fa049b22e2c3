"""Shared pieces of the worker-outage tests (tests/unit/test_notifications_outages_*.py):
fake PostgreSQL and Redis outages that raise what the real drivers raise (the driver errors by
name), a send loop that retries quickly, a silent port (a stalled server), and helpers that wait
for the loop and read the `worker.outage` / `worker.recovered` log lines."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_errors

from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.outages import Backoff
from bot.services.notifications.delivery import DeliveryLoop
from bot.services.notifications.outbox import Status
from bot.services.notifications.pacing import MemoryGate, Permit
from tests.unit.test_notifications_delivery import FakeTelegram, NotedJournal, rows, to_user_chat

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
