"""Group commit: outcomes of concurrent sends are written together, as soon as possible.

Each caller waits until its write is committed. While one commit is in flight, the outcomes
that arrive queue up and go in the next one: the same short delay a per-row commit would have
under load, at a fraction of the round trips (which keeps the "accepted by Telegram but not
yet marked sent" window small at high rates).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import SessionMaker

Write = Callable[[AsyncSession], Awaitable[object]]


class GroupCommitter:
    def __init__(self, sessionmaker: SessionMaker) -> None:
        self.sessionmaker = sessionmaker
        self._queue: list[tuple[Write, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def write(self, write: Write) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((write, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        await future

    async def _drain(self) -> None:
        # Runs while there is work and then ends: no task outlives the last write.
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                async with self.sessionmaker() as session:
                    for write, _ in batch:
                        await write(session)
                    await session.commit()
            except Exception as error:  # noqa: BLE001 - handed to every waiting caller
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
