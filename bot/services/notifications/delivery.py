"""The send loop: claim due rows, check and render each at send time, pace, send, record.

A row is marked sent only after Telegram accepted it: first a note in the sent journal (one
Redis SET, see `journal.py`), then the database mark (group commit with the other sends
finishing at that moment, see `recorder.py`). Every claimed row is looked up in the journal
before it is sent, so a row whose worker died after noting it is finished, not sent again.
The window that remains: a worker killed after Telegram accepted a message and before the
answer reached it (the answer's way back, about a millisecond here, tens of milliseconds to
the real Telegram). Telegram has no idempotency key for sendMessage, so that window can be
measured (`bench/fanout.py` prints it) but not closed: delivery is at-least-once, on purpose:
a reminder or a clinic's cancellation told twice is better than one not told at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.base import utcnow
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.logs import log_event
from bot.services.notifications.decisions import Decision, Defer, Send, Skip
from bot.services.notifications.journal import NoJournal, SentJournal
from bot.services.notifications.outbox import ClaimedMessage, Status, claim, finish, release
from bot.services.notifications.pacing import Gate
from bot.services.notifications.recorder import GroupCommitter
from bot.services.notifications.render import NotificationView

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
LEASE_MARGIN = timedelta(seconds=2)
"""Never start a send this close to the lease's end: another worker may take the row then."""


class Outcome(StrEnum):
    SENT = "sent"
    RETRY_AFTER = "retry_after"  # 429
    BLOCKED = "blocked"  # 403: blocked the bot, deactivated
    NETWORK = "network"  # timeouts, 5xx: try again later
    REJECTED = "rejected"  # 400: this message will never go


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    retry_after: float = 0.0
    reason: str = ""


SendFn = Callable[[int, NotificationView], Awaitable[SendResult]]
PrepareFn = Callable[[AsyncSession, ClaimedMessage], Awaitable[Decision]]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2**attempts))


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass
class DeliveryStats:
    sent: int = 0
    skipped: int = 0
    deferred: int = 0
    retry_after: int = 0
    blocked: int = 0
    failed: int = 0
    lease_ran_out: int = 0
    recovered_sent: int = 0  # claimed again after a worker died, found in the sent journal


class DeliveryLoop:
    def __init__(
        self,
        sessionmaker: SessionMaker,
        prepare: PrepareFn,
        send: SendFn,
        gate: Gate,
        *,
        worker_id: str | None = None,
        concurrency: int = 8,
        lease_seconds: float = 60.0,
        idle_seconds: float = 0.5,
        journal: SentJournal | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.prepare = prepare
        self.send = send
        self.gate = gate
        self.worker_id = worker_id or default_worker_id()
        self.concurrency = concurrency
        self.batch_size = concurrency * 2
        self.lease_seconds = lease_seconds
        self.idle_seconds = idle_seconds
        self.stats = DeliveryStats()
        self.committer = GroupCommitter(sessionmaker, self.worker_id)
        self.journal = journal or NoJournal()

    async def _claim(self, limit: int) -> list[ClaimedMessage]:
        paused = await self.gate.paused_for()
        if paused > 0:
            await asyncio.sleep(paused)
        async with self.sessionmaker() as session:
            batch = await claim(
                session, self.worker_id, limit=limit, lease_seconds=self.lease_seconds
            )
        return await self._skip_already_sent(batch)

    async def _skip_already_sent(self, batch: list[ClaimedMessage]) -> list[ClaimedMessage]:
        """Finish rows Telegram already accepted (their worker died before the database mark)."""
        try:
            done = await self.journal.sent_among([m.id for m in batch])
        except Exception as error:  # noqa: BLE001 - without the journal: at-least-once
            log_event(logger, "notify.journal_failed", logging.WARNING, error=type(error).__name__)
            return batch
        if not done:
            return batch
        await asyncio.gather(*(self.committer.mark_sent(message_id) for message_id in done))
        self.stats.recovered_sent += len(done)
        log_event(logger, "notify.recovered_sent", logging.INFO, rows=len(done))
        return [m for m in batch if m.id not in done]

    async def run_once(self) -> int:
        """Claim one batch and handle every row of it; returns how many rows were claimed."""
        batch = await self._claim(self.batch_size)
        await asyncio.gather(*(self.deliver(m) for m in batch))
        await self.committer.idle()
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        """Keep up to `batch_size` rows in hand, claiming more as soon as some are done, so
        the limiter always has work queued (a batch boundary would leave the bucket idle)."""
        in_flight: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            room = self.batch_size - len(in_flight)
            claimed = 0
            if room >= max(1, self.batch_size // 2):
                batch = await self._claim(room)
                in_flight.update(asyncio.create_task(self.deliver(m)) for m in batch)
                claimed = len(batch)
            if not in_flight:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle_seconds)
                continue
            if claimed == 0 or len(in_flight) >= self.batch_size:
                await asyncio.wait(
                    in_flight, timeout=self.idle_seconds, return_when=asyncio.FIRST_COMPLETED
                )
            in_flight = self._collect(in_flight)
        await asyncio.gather(*in_flight, return_exceptions=True)
        await self.committer.idle()

    def _collect(self, tasks: set[asyncio.Task[None]]) -> set[asyncio.Task[None]]:
        for task in tasks:
            if task.done() and task.exception() is not None:
                # The row stays claimed and comes back when its lease ends.
                error = type(task.exception()).__name__
                log_event(logger, "notify.deliver_failed", logging.WARNING, error=error)
        return {task for task in tasks if not task.done()}

    async def deliver(self, message: ClaimedMessage) -> None:
        async with self.sessionmaker() as session:
            decision = await self.prepare(session, message)
            await session.rollback()  # read-only: nothing is held while sending
        if isinstance(decision, Skip):
            await self._finish(message, Status.SKIPPED, decision.reason)
            self.stats.skipped += 1
        elif isinstance(decision, Defer):
            await self._defer(message, decision)
        else:
            await self._send(message, decision)

    async def _release(self, message: ClaimedMessage, until: datetime, **kw: Any) -> None:
        await self.committer.write(
            lambda session: release(session, message.id, self.worker_id, until, **kw)
        )

    async def _finish(self, message: ClaimedMessage, status: str, outcome: str) -> None:
        await self.committer.write(
            lambda session: finish(session, message.id, self.worker_id, status, outcome)
        )

    async def _defer(self, message: ClaimedMessage, decision: Defer) -> None:
        if decision.failed:
            await self._failed_attempt(message, decision.reason)
            return
        await self._release(message, decision.until or utcnow(), outcome=decision.reason)
        self.stats.deferred += 1

    async def _failed_attempt(self, message: ClaimedMessage, reason: str) -> None:
        if message.attempts + 1 >= MAX_ATTEMPTS:
            await self._finish(message, Status.FAILED, reason)
            self.stats.failed += 1
            log_event(logger, "notify.gave_up", logging.WARNING, id=message.id, reason=reason)
            return
        until = utcnow() + backoff(message.attempts)
        await self._release(message, until, failed_attempt=True, outcome=reason)
        self.stats.deferred += 1

    async def _wait_for_turn(self, message: ClaimedMessage, chat_id: int) -> bool:
        """Wait for a send slot; False if the row went back for later (the chat is busy)."""
        while True:
            permit = await self.gate.acquire(chat_id)
            if permit.pause > 0:
                if utcnow() + timedelta(seconds=permit.pause) > message.lease_until - LEASE_MARGIN:
                    await self._release(message, utcnow() + timedelta(seconds=permit.pause))
                    return False
                await asyncio.sleep(permit.pause)
                continue
            if permit.chat_wait > 0:
                await self._release(message, utcnow() + timedelta(seconds=permit.chat_wait))
                return False
            if permit.send_after > 0:
                await asyncio.sleep(permit.send_after)
            return True

    async def _send(self, message: ClaimedMessage, decision: Send) -> None:
        if not await self._wait_for_turn(message, decision.chat_id):
            self.stats.deferred += 1
            return
        if utcnow() > message.lease_until - LEASE_MARGIN:
            self.stats.lease_ran_out += 1
            return  # too late to be sure no one else has it; it will be claimed again
        result = await self.send(decision.chat_id, decision.view)
        await self._record(message, result)

    async def _record(self, message: ClaimedMessage, result: SendResult) -> None:
        if result.outcome is Outcome.SENT:
            try:
                await self.journal.note_sent(message.id)
            except Exception as error:  # noqa: BLE001 - the database mark below still counts
                log_event(
                    logger, "notify.journal_failed", logging.WARNING, error=type(error).__name__
                )
            await self.committer.mark_sent(message.id)
            self.stats.sent += 1
        elif result.outcome is Outcome.RETRY_AFTER:
            self.stats.retry_after += 1
            await self.gate.pause(result.retry_after)
            await self._release(message, utcnow() + timedelta(seconds=result.retry_after))
            log_event(logger, "notify.retry_after", logging.WARNING, seconds=result.retry_after)
        elif result.outcome is Outcome.BLOCKED:
            self.stats.blocked += 1

            async def mark_blocked(session: AsyncSession) -> None:
                await session.execute(
                    update(User).where(User.id == message.user_id).values(blocked_at=utcnow())
                )
                await finish(session, message.id, self.worker_id, Status.SKIPPED, "blocked")

            await self.committer.write(mark_blocked)
        elif result.outcome is Outcome.NETWORK:
            await self._failed_attempt(message, result.reason or "network")
        else:
            await self._finish(message, Status.FAILED, result.reason or "rejected")
            self.stats.failed += 1
