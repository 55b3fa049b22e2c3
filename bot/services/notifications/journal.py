"""A fast note of "Telegram accepted row N", written before the outbox row is marked sent.

The at-least-once window is the time between Telegram accepting a message and the worker's
"sent" mark becoming durable; a worker killed inside it leaves a claimed row that another
worker takes when the lease ends. The database mark is a write of its own (and waits behind
the one in progress), so the window would be several milliseconds, tens under load. One
Redis SET narrows it to the time the answer spends on its way back: every claimed row is
looked up here first, and a row found is finished as sent instead of being sent again.

The note only has to live until a recovered row is claimed again, so it expires (a few
leases). Without Redis there is no journal: one process has nobody to recover for it but
its own restart, and then at-least-once is what it gets. The same holds while Redis is away
(`GuardedJournal`): a note that cannot be written costs only the narrower window, and a row
whose database mark cannot be written either is sent again after its lease.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis

from bot.outages import Circuit


class SentJournal(Protocol):
    async def note_sent(self, message_id: int) -> None: ...

    async def sent_among(self, message_ids: Sequence[int]) -> set[int]: ...


class NoJournal:
    async def note_sent(self, message_id: int) -> None:
        return None

    async def sent_among(self, message_ids: Sequence[int]) -> set[int]:
        return set()


class RedisJournal:
    def __init__(self, redis: Redis, prefix: str, keep_seconds: float) -> None:
        self.redis = redis
        self._key = f"{prefix}:notify:sent:"
        self._keep_ms = max(1000, int(keep_seconds * 1000))

    async def note_sent(self, message_id: int) -> None:
        await self.redis.set(f"{self._key}{message_id}", b"1", px=self._keep_ms)

    async def sent_among(self, message_ids: Sequence[int]) -> set[int]:
        if not message_ids:
            return set()
        found = await self.redis.mget([f"{self._key}{m}" for m in message_ids])
        return {m for m, value in zip(message_ids, found, strict=True) if value is not None}


class GuardedJournal:
    """A journal whose calls go through a circuit (a timeout each; while Redis is away they
    fail at once instead of each waiting for it). Failures raise `bot.outages.Unavailable`."""

    def __init__(self, journal: SentJournal, circuit: Circuit) -> None:
        self.journal = journal
        self.circuit = circuit

    async def note_sent(self, message_id: int) -> None:
        await self.circuit.call(lambda: self.journal.note_sent(message_id))

    async def sent_among(self, message_ids: Sequence[int]) -> set[int]:
        if not message_ids:
            return set()
        return await self.circuit.call(lambda: self.journal.sent_among(message_ids))
