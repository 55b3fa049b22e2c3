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

The loop outlives its dependencies' bad days (see `bot/outages.py`): a database that does not
answer stops the claims for a backoff, Telegram or the backend being away sends the rows
back for a short while without using them up (a row gives up on such failures only after a
day), and Redis being away makes pacing local and the journal silent. Each outage is one
``worker.outage`` line and one ``worker.recovered`` line, whatever the number of retries.
Every step has a time limit, so a dependency that hangs is an outage too, not a frozen loop.
What a sender answers is in `sending.py`; the hold on claims during outages in `delivery_holds.py`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.logs import log_event
from bot.outages import (
    BACKEND,
    DATABASE,
    REDIS,
    TELEGRAM,
    Backoff,
    OutageLog,
    note_failure,
    outage_kind,
    rest,
)
from bot.services.notifications.decisions import Decision, Defer, Send, Skip
from bot.services.notifications.delivery_holds import ClaimHold
from bot.services.notifications.journal import NoJournal, SentJournal
from bot.services.notifications.outbox import ClaimedMessage, Status, claim, finish, release
from bot.services.notifications.pacing import Gate
from bot.services.notifications.recorder import GroupCommitter
from bot.services.notifications.sending import Outcome, SendFn, SendResult

logger = logging.getLogger(__name__)

JOB = "deliver"
MAX_ATTEMPTS = 6
GIVE_UP_AFTER = timedelta(hours=24)
"""A row failing because Telegram or the backend is away (not because of the row itself)
gives up only when it is this old as well as tried `MAX_ATTEMPTS` times: an outage of any
length loses nothing, a message Telegram fails on for a whole day does not stay for ever."""
OUTAGE_RETRY_CAP = timedelta(seconds=60)
"""Such a row is tried again within this, so it goes soon after the dependency is back."""
LEASE_MARGIN = timedelta(seconds=2)
"""Never start a send this close to the lease's end: another worker may take the row then."""
CLAIM_TIMEOUT = 15.0
"""Seconds a claim may take; a database that holds it longer is treated as away."""
SEND_TIMEOUT = 30.0
"""Seconds one sendMessage may take (at most what is left of the lease)."""


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
    outage_waits: int = 0  # rows sent back because Telegram or the backend was away
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
        clock: Clock,
        worker_id: str | None = None,
        concurrency: int = 8,
        lease_seconds: float = 60.0,
        idle_seconds: float = 0.5,
        journal: SentJournal | None = None,
        outages: OutageLog | None = None,
        claim_timeout: float = CLAIM_TIMEOUT,
        backoff: Callable[[], Backoff] = Backoff,
        other_channels: Mapping[str, SendFn] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.prepare = prepare
        self.send = send  # Telegram's
        # Senders of the other messengers by `User.channel` (MAX); the pacing gate is shared.
        self.other_channels = dict(other_channels or {})
        self.gate = gate
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.concurrency = concurrency
        self.batch_size = concurrency * 2
        self.lease_seconds = lease_seconds
        self.idle_seconds = idle_seconds
        self.stats = DeliveryStats()
        self.committer = GroupCommitter(sessionmaker, self.worker_id, clock)
        self.journal = journal or NoJournal()
        self.outages = outages or OutageLog(JOB, clock)
        self.claim_timeout = claim_timeout
        self.holds = ClaimHold(self.outages, clock, backoff)
        self._unprepared: list[ClaimedMessage] = []
        """Rows still leased to this worker whose send-time check met an outage (nothing was
        sent): they go again as soon as the database answers, not only after their lease."""

    # --- claiming ----------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[ClaimedMessage]:
        async with self.sessionmaker() as session:
            batch = await claim(
                session,
                self.worker_id,
                now=self.clock(),
                limit=limit,
                lease_seconds=self.lease_seconds,
            )
        return await self._skip_already_sent(batch)

    async def _skip_already_sent(self, batch: list[ClaimedMessage]) -> list[ClaimedMessage]:
        """Finish rows Telegram already accepted (their worker died before the database mark)."""
        if not batch:
            return batch
        try:
            done = await self.journal.sent_among([m.id for m in batch])
        except Exception as error:  # noqa: BLE001 - without the journal: at-least-once
            note_failure(self.outages, error, default=REDIS)
            return batch
        self.holds.answered(REDIS)
        if not done:
            return batch
        await asyncio.gather(*(self.committer.mark_sent(message_id) for message_id in done))
        self.stats.recovered_sent += len(done)
        log_event(logger, "notify.recovered_sent", logging.INFO, rows=len(done))
        return [m for m in batch if m.id not in done]

    async def _claim_if_free(self, limit: int) -> list[ClaimedMessage]:
        """A batch, or nothing while claims are held (an outage, a 429 pause) or when the
        claim failed (which holds the next ones for a backoff)."""
        if self.holds.left() > 0:
            return []
        try:
            paused = await self.gate.paused_for()
        except Exception as error:  # noqa: BLE001 - a gate without a fallback
            self.holds.failed(error, default=REDIS)
            return []
        if paused > 0:
            self.holds.hold(paused)
            return []
        try:
            fresh = max(1, limit - len(self._unprepared))
            batch = await asyncio.wait_for(self._claim(fresh), self.claim_timeout)
        except Exception as error:  # noqa: BLE001 - the loop outlives the database's outage
            self.holds.failed(error, default=DATABASE)
            return []
        self.holds.answered(DATABASE)
        claimed = {m.id for m in batch}
        return [m for m in self._take_unprepared() if m.id not in claimed] + batch

    def _take_unprepared(self) -> list[ClaimedMessage]:
        """The rows to try again now, those whose lease still holds long enough (a row past
        it may be another worker's by now, or come back in a claim of our own)."""
        now = self.clock()
        again = [m for m in self._unprepared if m.lease_until - LEASE_MARGIN > now]
        self._unprepared = []
        return again

    # --- the loops ---------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch and handle every row of it; returns how many rows were claimed.
        (For tests and tools: errors are raised, not waited out.)"""
        paused = await self.gate.paused_for()
        if paused > 0:
            await asyncio.sleep(paused)
        batch = await self._claim(self.batch_size)
        await asyncio.gather(*(self.deliver(m) for m in batch))
        await self.committer.idle()
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        """Keep up to `batch_size` rows in hand, claiming more as soon as some are done, so
        the limiter always has work queued (a batch boundary would leave the bucket idle).
        Runs until `stop`, whatever its dependencies do."""
        in_flight: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            room = self.batch_size - len(in_flight)
            claimed = 0
            if room >= max(1, self.batch_size // 2):
                batch = await self._claim_if_free(room)
                in_flight.update(asyncio.create_task(self._deliver_in_time(m)) for m in batch)
                claimed = len(batch)
            if not in_flight:
                await rest(stop, max(self.idle_seconds, self.holds.left()))
                continue
            if claimed == 0 or len(in_flight) >= self.batch_size:
                await asyncio.wait(
                    in_flight, timeout=self.idle_seconds, return_when=asyncio.FIRST_COMPLETED
                )
            in_flight = self._collect(in_flight)
        await asyncio.gather(*in_flight, return_exceptions=True)
        self._collect(in_flight)
        await self.committer.idle()

    def _collect(self, tasks: set[asyncio.Task[None]]) -> set[asyncio.Task[None]]:
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                # The row stays claimed and comes back when its lease ends. A bare socket
                # error here came from the row's database work (the send's own errors are
                # outcomes, the gate's name Redis), as it does for a failed claim.
                error = task.exception()
                assert error is not None
                self.holds.failed(error, default=DATABASE)
        return {task for task in tasks if not task.done()}

    async def _deliver_in_time(self, message: ClaimedMessage) -> None:
        # Past its lease another worker may hold the row: a step that hangs that long is over.
        await asyncio.wait_for(self.deliver(message), self.lease_seconds)

    # --- one row -----------------------------------------------------------------------------

    async def deliver(self, message: ClaimedMessage) -> None:
        try:
            async with self.sessionmaker() as session:
                decision = await self.prepare(session, message)
                await session.rollback()  # read-only: nothing is held while sending
        except Exception as error:
            if outage_kind(error) is not None:
                self._unprepared.append(message)  # nothing sent: again once the database answers
            raise
        if isinstance(decision, Skip):
            await self._finish(message, Status.SKIPPED, decision.reason)
            self.stats.skipped += 1
        elif isinstance(decision, Defer):
            await self._defer(message, decision)
        else:
            self.holds.answered(BACKEND)  # the send-time check asked the backend for the grant
            await self._send(message, decision)

    async def _release(self, message: ClaimedMessage, until: datetime, **kw: Any) -> None:
        await self.committer.write(
            lambda session: release(session, message.id, self.worker_id, until, **kw)
        )

    async def _finish(self, message: ClaimedMessage, status: str, outcome: str) -> None:
        now = self.clock()
        await self.committer.write(
            lambda session: finish(session, message.id, self.worker_id, status, outcome, now)
        )

    async def _defer(self, message: ClaimedMessage, decision: Defer) -> None:
        if decision.outage:
            self.holds.failed("BackendUnavailable", BACKEND)
        if decision.failed:
            await self._failed_attempt(message, decision.reason, outage=decision.outage)
            return
        await self._release(message, decision.until or self.clock(), outcome=decision.reason)
        self.stats.deferred += 1

    def _worn_out(self, message: ClaimedMessage, *, outage: bool) -> bool:
        if message.attempts + 1 < MAX_ATTEMPTS:
            return False
        if not outage or message.created_at is None:
            return True
        return self.clock() - message.created_at >= GIVE_UP_AFTER

    async def _failed_attempt(
        self, message: ClaimedMessage, reason: str, *, outage: bool = False
    ) -> None:
        if self._worn_out(message, outage=outage):
            await self._finish(message, Status.FAILED, reason)
            self.stats.failed += 1
            log_event(logger, "notify.gave_up", logging.WARNING, id=message.id, reason=reason)
            return
        wait = backoff(message.attempts)
        if outage:
            wait = min(wait, OUTAGE_RETRY_CAP)
            self.stats.outage_waits += 1
        await self._release(message, self.clock() + wait, failed_attempt=True, outcome=reason)
        self.stats.deferred += 1

    async def _wait_for_turn(self, message: ClaimedMessage, chat_id: int) -> bool:
        """Wait for a send slot; False if the row went back for later (the chat is busy)."""
        while True:
            permit = await self.gate.acquire(chat_id)
            if permit.pause > 0:
                pause = timedelta(seconds=permit.pause)
                if self.clock() + pause > message.lease_until - LEASE_MARGIN:
                    await self._release(message, self.clock() + pause)
                    return False
                await asyncio.sleep(permit.pause)
                continue
            if permit.chat_wait > 0:
                await self._release(message, self.clock() + timedelta(seconds=permit.chat_wait))
                return False
            if permit.send_after > 0:
                await asyncio.sleep(permit.send_after)
            return True

    async def _send(self, message: ClaimedMessage, decision: Send) -> None:
        if not await self._wait_for_turn(message, decision.chat_id):
            self.stats.deferred += 1
            return
        left = (message.lease_until - LEASE_MARGIN - self.clock()).total_seconds()
        if left < 0:
            self.stats.lease_ran_out += 1
            return  # too late to be sure no one else has it; it will be claimed again
        send = (
            self.send
            if decision.channel == "telegram"
            else self.other_channels.get(decision.channel)
        )
        if send is None:
            # This worker cannot reach that messenger (its token is not set): the row waits
            # for a worker that can, as it would for a wrong Telegram token.
            await self._record(message, SendResult(Outcome.NETWORK, reason="channel_off"))
            return
        try:
            result = await asyncio.wait_for(
                send(decision.chat_id, decision.view), max(1.0, min(SEND_TIMEOUT, left))
            )
        except TimeoutError:
            # It may have gone: at-least-once, like any answer that did not come back.
            result = SendResult(Outcome.NETWORK, reason="timeout")
        await self._record(message, result)

    async def _record(self, message: ClaimedMessage, result: SendResult) -> None:
        if result.outcome is Outcome.NETWORK:
            self.holds.failed(result.reason or "network", TELEGRAM)
            await self._failed_attempt(message, result.reason or "network", outage=True)
            return
        self.holds.answered(TELEGRAM)
        if result.outcome is Outcome.SENT:
            try:
                await self.journal.note_sent(message.id)
            except Exception as error:  # noqa: BLE001 - the database mark below still counts
                note_failure(self.outages, error, default=REDIS)
            else:
                self.holds.answered(REDIS)
            await self.committer.mark_sent(message.id)
            self.stats.sent += 1
        elif result.outcome is Outcome.RETRY_AFTER:
            self.stats.retry_after += 1
            await self.gate.pause(result.retry_after)
            until = self.clock() + timedelta(seconds=result.retry_after)
            await self._release(message, until)
            log_event(logger, "notify.retry_after", logging.WARNING, seconds=result.retry_after)
        elif result.outcome is Outcome.BLOCKED:
            self.stats.blocked += 1
            now = self.clock()

            async def mark_blocked(session: AsyncSession) -> None:
                await session.execute(
                    update(User).where(User.id == message.user_id).values(blocked_at=now)
                )
                await finish(session, message.id, self.worker_id, Status.SKIPPED, "blocked", now)

            await self.committer.write(mark_blocked)
        else:
            await self._finish(message, Status.FAILED, result.reason or "rejected")
            self.stats.failed += 1
