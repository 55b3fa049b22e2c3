"""Group commit: outcomes of concurrent sends are written together, as soon as possible.

"Sent" marks are the hot path and the at-least-once window: a message Telegram accepted is
sent again if the worker dies before the mark is durable. So they go out as one UPDATE per
group on a connection in autocommit mode (one round trip, no BEGIN/COMMIT/checkout), and
whatever arrives while it runs goes in the next one. Other outcomes (release for later,
give up, blocked) are rarer and use an ordinary transaction.

Every group has a time limit (`write_timeout`): a database that stops answering fails the
group's writers (their rows come back after the lease) instead of holding every later write
behind a call that never returns.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from bot.clock import Clock
from bot.db.engine import SessionMaker
from bot.services.notifications.outbox import Status, finish_many

Write = Callable[[AsyncSession], Awaitable[object]]


class GroupCommitter:
    def __init__(
        self,
        sessionmaker: SessionMaker,
        worker_id: str,
        clock: Clock,
        *,
        write_timeout: float = 10.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.worker_id = worker_id
        self.clock = clock
        self.write_timeout = write_timeout
        bind: Any = sessionmaker.kw.get("bind")
        self._engine: AsyncEngine | None = bind if isinstance(bind, AsyncEngine) else None
        self._queue: list[tuple[Write | int, asyncio.Future[None]]] = []
        self._draining = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def write(self, write: Write) -> None:
        await self._submit(write)

    async def mark_sent(self, message_id: int) -> None:
        await self._submit(message_id)

    async def idle(self) -> None:
        """Wait until every write is committed and the connection is back in the pool."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _submit(self, item: Write | int) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if not self._draining:
            self._draining = True
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)  # a reference, so the task is not collected mid-way
            task.add_done_callback(self._tasks.discard)
        await future

    async def _drain(self) -> None:
        # Runs while there is work and then ends: no task or connection outlives the last write.
        connection: AsyncConnection | None = None
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    connection = await asyncio.wait_for(
                        self._write_batch(batch, connection), self.write_timeout
                    )
                except Exception as error:  # noqa: BLE001 - handed to every waiting caller
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    await _close(connection)
                    connection = None
                    continue
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
        finally:
            # Cleared before the last await: a write arriving while the connection closes
            # starts a new drain instead of waiting for this one forever.
            self._draining = False
            await _close(connection)

    async def _write_batch(
        self,
        batch: list[tuple[Write | int, asyncio.Future[None]]],
        connection: AsyncConnection | None,
    ) -> AsyncConnection | None:
        sent = [item for item, _ in batch if isinstance(item, int)]
        writes = [item for item, _ in batch if not isinstance(item, int)]
        if sent and self._engine is not None:
            if connection is None:
                connection = await self._engine.connect()
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            await finish_many(connection, sent, self.worker_id, Status.SENT, self.clock())
            sent = []
        if sent or writes:
            async with self.sessionmaker() as session:
                if sent:
                    await finish_many(session, sent, self.worker_id, Status.SENT, self.clock())
                for write in writes:
                    await write(session)
                await session.commit()
        return connection


CLOSE_TIMEOUT = 2.0


async def _close(connection: AsyncConnection | None) -> None:
    """Give the connection back; one broken by an outage may fail or hang on the way, and
    that must not keep the writers waiting (the pool replaces it)."""
    if connection is None:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(connection.close(), CLOSE_TIMEOUT)
