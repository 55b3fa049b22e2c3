"""Workers that stay up: which errors are outages, how long to wait, and one line per outage.

A worker's loops depend on PostgreSQL, Redis, the records backend and Telegram. When one of
them stops answering, a loop must neither die (nothing would send until someone restarts
it) nor write a traceback every retry (the log of a 30 s outage would be thousands of lines).
So each loop:

* tells an outage (the dependency, not our code) from a bug: `outage_kind(error)`;
* waits a capped, jittered, growing time before the next try: `Backoff` (many workers coming
  back at once do not hit a recovering server in step);
* writes ``worker.outage`` once when a dependency stops answering it and ``worker.recovered``
  with the duration once it answers again: `OutageLog`;
* bounds every step with a timeout, so a dependency that accepts a connection and then says
  nothing (a stall) counts as an outage instead of freezing the loop: `keep_running`,
  `Circuit`.

Nothing here imports aiogram or a database driver: errors are recognised by their class, or
by the library their traceback runs through (an ``OSError`` from inside asyncpg is a database
outage, from inside redis-py a Redis one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_errors

from backend_client.errors import BackendUnavailable, RateLimited
from bot.clock import Clock
from bot.logs import log_event

logger = logging.getLogger("bot.worker")

T = TypeVar("T")

DATABASE, REDIS, BACKEND, TELEGRAM, NETWORK = "database", "redis", "backend", "telegram", "network"

_NOT_OUTAGES: tuple[type[BaseException], ...] = (
    # A constraint, a bad value or bad SQL is our bug or our data, never a server going away.
    sa_errors.IntegrityError,
    sa_errors.DataError,
    sa_errors.ProgrammingError,
)
_DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    sa_errors.DBAPIError,  # OperationalError, InterfaceError, a dropped connection ...
    sa_errors.TimeoutError,  # no connection free in the pool in time
    sa_errors.DisconnectionError,
    sa_errors.PendingRollbackError,  # a transaction cut by an outage
)
_REDIS_ERRORS: tuple[type[BaseException], ...] = (
    redis_errors.ConnectionError,  # BusyLoadingError too
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,  # a replica during failover
)
_ASYNCPG_OUTAGES = frozenset(
    {
        "PostgresConnectionError",  # class 08: connection refused, lost, does not exist
        "OperatorInterventionError",  # class 57: admin shutdown, cannot connect now
        "InsufficientResourcesError",  # class 53: too many connections
        "InterfaceError",  # the connection is closed / in a bad state
    }
)
_TELEGRAM_OUTAGES = frozenset({"TelegramNetworkError", "TelegramServerError", "RestartingTelegram"})
_ORIGINS = (
    ("asyncpg", DATABASE),
    ("aiosqlite", DATABASE),
    ("sqlalchemy", DATABASE),
    ("redis", REDIS),
    ("backend_client", BACKEND),
    ("aiogram", TELEGRAM),
)


def outage_kind(error: BaseException) -> str | None:
    """Which dependency `error` says is away (`database`, `redis`, `backend`, `telegram`,
    `network` when it cannot tell), or None when it is not an outage (a bug, bad data)."""
    if isinstance(error, _NOT_OUTAGES):
        return None
    if isinstance(error, _DATABASE_ERRORS):
        return DATABASE
    if isinstance(error, _REDIS_ERRORS):
        return REDIS
    if isinstance(error, BackendUnavailable | RateLimited):
        return BACKEND
    module = type(error).__module__
    names = {cls.__name__ for cls in type(error).__mro__}
    if module.startswith("asyncpg") and names & _ASYNCPG_OUTAGES:
        return DATABASE
    if module.startswith("aiogram") and names & _TELEGRAM_OUTAGES:
        return TELEGRAM
    if isinstance(error, OSError | TimeoutError):  # ConnectionError, socket errors, timeouts
        return _origin(error) or NETWORK
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what it was raised from or during (a timeout's cancelled inner call)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]


def _origin(error: BaseException) -> str | None:
    """The dependency whose library code the error (or its cause) was raised in, innermost
    first; a timeout's cause holds the frames of the call that hung."""
    for current in _chain(error):
        frames = []
        tb = current.__traceback__
        while tb is not None:
            frames.append(str(tb.tb_frame.f_globals.get("__name__", "")))
            tb = tb.tb_next
        for module in reversed(frames):
            for prefix, kind in _ORIGINS:
                if module == prefix or module.startswith(prefix + "."):
                    return kind
    return None


@dataclass
class Backoff:
    """Waits that double from `first` up to `cap`, each jittered to between half and all of
    it ("equal jitter"): workers that failed together do not retry together."""

    first: float = 0.5
    cap: float = 10.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next(self) -> float:
        ceiling = min(self.cap, self.first * 2.0 ** min(self.failures, 30))
        self.failures += 1
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class _Outage:
    started: float
    error: str
    failures: int = 1


class OutageLog:
    """One ``worker.outage`` line when a dependency stops answering a job, one
    ``worker.recovered`` line (with how long it lasted) when it answers again; the failures
    in between are only counted."""

    def __init__(self, job: str, clock: Clock) -> None:
        self.job = job
        self.clock = clock
        self._open: dict[str, _Outage] = {}

    def failed(self, kind: str, error: BaseException | str) -> None:
        """`error`: the exception, or the name of what went wrong (an outcome, not a text)."""
        outage = self._open.get(kind)
        if outage is not None:
            outage.failures += 1
            return
        name = error if isinstance(error, str) else type(error).__name__
        self._open[kind] = _Outage(self.clock.monotonic(), name)
        log_event(logger, "worker.outage", logging.WARNING, job=self.job, kind=kind, error=name)

    def recovered(self, kind: str | None = None) -> None:
        """`kind` answers again (None: everything this job depends on, a whole round ran)."""
        kinds = list(self._open) if kind is None else [kind]
        for name in kinds:
            outage = self._open.pop(name, None)
            if outage is None:
                continue
            log_event(
                logger,
                "worker.recovered",
                job=self.job,
                kind=name,
                seconds=round(self.clock.monotonic() - outage.started, 1),
                failures=outage.failures,
            )

    def is_down(self, kind: str) -> bool:
        return kind in self._open

    @property
    def down(self) -> frozenset[str]:
        return frozenset(self._open)


def note_failure(
    outages: OutageLog, error: BaseException, *, default: str | None = None
) -> str | None:
    """Count `error` as an outage of its dependency (`default` when only the caller knows
    which); otherwise, a bug, log its type once per occurrence. Returns the outage kind."""
    kind = outage_kind(error)
    if kind == NETWORK and default is not None:
        kind = default
    if kind is None:
        log_event(
            logger,
            "worker.job_failed",
            logging.WARNING,
            job=outages.job,
            error=type(error).__name__,
        )
        return None
    outages.failed(kind, error)
    return kind


async def rest(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if the worker is asked to stop meanwhile."""
    if seconds <= 0 or stop.is_set():
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


Round = Callable[[], Awaitable[object]]


async def keep_running(
    job: str,
    round_: Round,
    stop: asyncio.Event,
    *,
    every: float,
    clock: Clock,
    round_timeout: float,
    backoff: Backoff | None = None,
    outages: OutageLog | None = None,
) -> None:
    """Run `round_` every `every` seconds until `stop`, whatever fails: an outage waits a
    backoff (one line when it starts, one when it ends), a round that hangs longer than
    `round_timeout` counts as a failure of what it hung on. A round returning a true value has more
    to do (a backlog) and runs again at once."""
    backoff = backoff or Backoff()
    outages = outages or OutageLog(job, clock)
    while not stop.is_set():
        try:
            more = await asyncio.wait_for(round_(), round_timeout)
        except Exception as error:  # noqa: BLE001 - the loop outlives any one round
            note_failure(outages, error)
            await rest(stop, backoff.next())
            continue
        outages.recovered()
        backoff.reset()
        if not more:
            await rest(stop, every)


class Unavailable(ConnectionError):
    """A circuit is open: the dependency failed just now, so this call was not even tried."""


class Circuit:
    """Calls to one dependency with a timeout each; after a failure, calls fail at once (no
    waiting on a dead server per message) until a backoff has passed, then one call probes.

    Shared by everything one job sends to that dependency (the pacing gate and the sent
    journal both use Redis): one outage, one line."""

    def __init__(
        self,
        kind: str,
        outages: OutageLog,
        *,
        timeout: float = 2.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.kind = kind
        self.outages = outages
        self.timeout = timeout
        self.backoff = backoff or Backoff(first=1.0, cap=15.0)
        self._closed_at = 0.0  # monotonic time before which calls are not tried

    def is_open(self) -> bool:
        return self.outages.clock.monotonic() < self._closed_at

    async def call(self, step: Callable[[], Awaitable[T]]) -> T:
        if self.is_open():
            raise Unavailable(self.kind)
        try:
            result = await asyncio.wait_for(step(), self.timeout)
        except Exception as error:
            kind = outage_kind(error)
            if kind is None:
                raise  # a bug, not the dependency: the caller decides
            self.outages.failed(self.kind, error)
            self._closed_at = self.outages.clock.monotonic() + self.backoff.next()
            raise Unavailable(self.kind) from error
        if self.outages.is_down(self.kind):
            self.outages.recovered(self.kind)
        self.backoff.reset()
        return result
