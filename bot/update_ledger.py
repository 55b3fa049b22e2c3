"""Which Telegram updates are being handled, and which are done: no update lost, none twice.

Telegram redelivers an update until the webhook answers 2xx, so the webhook answers only
after the update was handled (`bot.webhook`). What is left is a redelivery: of an update a
replica already finished (its 200 got lost on the way back), or of one another replica is
handling right now (Telegram gave up waiting for it). The ledger tells them apart:

* `Claim.MINE` — nobody has it: handle it now. The claim is a short lease (a Redis key set
  with NX and a TTL of `LEASE_SECONDS`) renewed every `RENEW_EVERY_SECONDS` while the
  handler runs. A replica that dies (SIGKILL, OOM, a pulled cable) stops renewing, so its
  lease expires within `LEASE_SECONDS` and Telegram's next redelivery is handled elsewhere.
* `Claim.BUSY` — another replica holds the lease: answer non-2xx, Telegram retries later
  (by then that replica has finished, and the retry is `DONE`, or has died, and it is `MINE`).
* `Claim.DONE` — handled before (the "done" marker lives `DONE_TTL_SECONDS`, longer than
  Telegram keeps an undelivered update): answer 200 and run nothing.

A handler that raised gives its lease back at once (not "done"): the webhook answers 500 and
the redelivery runs it again. One that finished marks the update done and drops its lease in
one atomic step. Without Redis (one process) the same rules hold in memory.

What this cannot do: a replica killed after its backend call but before "done" leaves the
update to be handled again by another replica; the steps at the backend boundary are
idempotent for that reason. If Redis does not answer, claiming raises `LedgerUnavailable`
(the webhook answers 503, Telegram retries): handling without the ledger could run an update
twice. One log line per Redis outage, not one per update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.clock import Clock
from bot.logs import log_event

logger = logging.getLogger(__name__)

# As the per-user lock (bot/isolation.py): a dead replica's update is free within 3 s, and one
# renewal lost to a Redis blip (1 s timeout) does not lose a live one's claim.
LEASE_SECONDS = 3.0
RENEW_EVERY_SECONDS = 0.75
DONE_TTL_SECONDS = 25 * 3600  # Telegram keeps an undelivered update for 24 hours
REDIS_TIMEOUT_SECONDS = 1.0  # a stalled Redis must not hold Telegram's request for long

T = TypeVar("T")


class Claim(StrEnum):
    MINE = "mine"
    BUSY = "busy"
    DONE = "done"


class LedgerUnavailable(Exception):
    """The ledger could not be asked (Redis down or stalled): do not handle, let it retry."""


class UpdateLedger(ABC):
    """Claims, renews and finishes updates; `hold` is the one way the webhook uses it."""

    lease_seconds: float = LEASE_SECONDS
    renew_every: float = RENEW_EVERY_SECONDS

    @asynccontextmanager
    async def hold(self, bot_id: int, update_id: int) -> AsyncIterator[Claim]:
        """Claim the update for the body; handle it only when the claim is `Claim.MINE`.

        A body that returns marks the update done; one that raises (or is cancelled) gives
        the lease back, so a redelivery runs it again. Raises `LedgerUnavailable` on entry."""
        key = f"{bot_id}:{update_id}"
        token = secrets.token_hex(8)
        claim = await self._claim(key, token)
        if claim is not Claim.MINE:
            yield claim
            return
        renewer = asyncio.create_task(self._keep(key, token, update_id))
        try:
            yield claim
        except BaseException:
            await _stop(renewer)
            with contextlib.suppress(LedgerUnavailable):
                await self._release(key, token)  # else it expires within the lease
            raise
        await _stop(renewer)
        try:
            await self._finish(key, token)
        except LedgerUnavailable:
            # Handled all the same: the 200 stops Telegram's redelivery; the lease expires.
            log_event(logger, "update.unrecorded", logging.WARNING, update_id=update_id)

    async def _keep(self, key: str, token: str, update_id: int) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                kept = await self._renew(key, token)
            except LedgerUnavailable:
                continue  # the lease may still be alive; try again next round
            if not kept:
                # Expired (this process stalled longer than the lease): another replica
                # may take the redelivery. Logged, since this is where "twice" could start.
                log_event(logger, "update.lease_lost", logging.WARNING, update_id=update_id)
                return

    @abstractmethod
    async def _claim(self, key: str, token: str) -> Claim: ...

    @abstractmethod
    async def _renew(self, key: str, token: str) -> bool: ...

    @abstractmethod
    async def _finish(self, key: str, token: str) -> None: ...

    @abstractmethod
    async def _release(self, key: str, token: str) -> None: ...


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class MemoryUpdateLedger(UpdateLedger):
    """One process, no Redis: the same rules, in dictionaries, on the injected clock."""

    def __init__(self, clock: Clock, *, done_ttl_seconds: float = DONE_TTL_SECONDS) -> None:
        self._clock = clock
        self._done_ttl = done_ttl_seconds
        self._leases: dict[str, tuple[str, float]] = {}  # key -> (token, expires at)
        self._done: OrderedDict[str, float] = OrderedDict()  # in the order they expire

    def _forget_expired(self, now: float) -> None:
        while self._done and next(iter(self._done.values())) <= now:
            self._done.popitem(last=False)

    async def _claim(self, key: str, token: str) -> Claim:
        now = self._clock.monotonic()
        self._forget_expired(now)
        if key in self._done:
            return Claim.DONE
        holder = self._leases.get(key)
        if holder is not None and holder[1] > now:
            return Claim.BUSY
        self._leases[key] = (token, now + self.lease_seconds)
        return Claim.MINE

    async def _renew(self, key: str, token: str) -> bool:
        now = self._clock.monotonic()
        holder = self._leases.get(key)
        if holder is None or holder[0] != token or holder[1] <= now:
            return False
        self._leases[key] = (token, now + self.lease_seconds)
        return True

    async def _finish(self, key: str, token: str) -> None:
        self._done[key] = self._clock.monotonic() + self._done_ttl
        await self._release(key, token)

    async def _release(self, key: str, token: str) -> None:
        holder = self._leases.get(key)
        if holder is not None and holder[0] == token:
            del self._leases[key]


# KEYS[1] = done marker, KEYS[2] = lease; ARGV[1] = our token, ARGV[2] = lease in ms.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'done' end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'mine' end
return 'busy'
"""
# KEYS[1] = lease; ARGV[1] = our token, ARGV[2] = lease in ms. Only our own lease is renewed.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# KEYS[1] = done marker, KEYS[2] = lease; ARGV[1] = our token, ARGV[2] = done TTL in seconds.
_FINISH = """
redis.call('SET', KEYS[1], '1', 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""
# KEYS[1] = lease; ARGV[1] = our token. Never drops another replica's lease.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisUpdateLedger(UpdateLedger):
    """Shared by every replica: `<prefix>:upd:<bot id>:<update id>:lease` and `...:done`."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        lease_seconds: float = LEASE_SECONDS,
        renew_every: float = RENEW_EVERY_SECONDS,
        done_ttl_seconds: int = DONE_TTL_SECONDS,
    ) -> None:
        self.redis = redis
        self.lease_seconds = lease_seconds
        self.renew_every = renew_every
        self._prefix = f"{prefix}:upd:"
        self._lease_ms = str(max(1, int(lease_seconds * 1000)))
        self._done_ttl = str(done_ttl_seconds)
        self._scripts = {
            name: redis.register_script(source)
            for name, source in (
                ("claim", _CLAIM),
                ("renew", _RENEW),
                ("finish", _FINISH),
                ("release", _RELEASE),
            )
        }
        self._down = False  # one log line per outage

    def _keys(self, key: str) -> tuple[str, str]:
        return f"{self._prefix}{key}:done", f"{self._prefix}{key}:lease"

    async def _ask(self, call: Awaitable[T]) -> T:
        try:
            result = await asyncio.wait_for(call, timeout=REDIS_TIMEOUT_SECONDS)
        except (RedisError, OSError, TimeoutError) as exc:
            if not self._down:
                self._down = True
                log_event(
                    logger, "update_ledger.unavailable", logging.WARNING, error=type(exc).__name__
                )
            raise LedgerUnavailable(type(exc).__name__) from exc
        if self._down:
            self._down = False
            log_event(logger, "update_ledger.recovered")
        return result

    async def _claim(self, key: str, token: str) -> Claim:
        done, lease = self._keys(key)
        answer = await self._ask(
            self._scripts["claim"](keys=[done, lease], args=[token, self._lease_ms])
        )
        return Claim(answer.decode() if isinstance(answer, bytes) else str(answer))

    async def _renew(self, key: str, token: str) -> bool:
        _, lease = self._keys(key)
        answer = await self._ask(self._scripts["renew"](keys=[lease], args=[token, self._lease_ms]))
        return bool(answer)

    async def _finish(self, key: str, token: str) -> None:
        done, lease = self._keys(key)
        await self._ask(self._scripts["finish"](keys=[done, lease], args=[token, self._done_ttl]))

    async def _release(self, key: str, token: str) -> None:
        _, lease = self._keys(key)
        await self._ask(self._scripts["release"](keys=[lease], args=[token]))


def create_update_ledger(redis: Redis | None, prefix: str, clock: Clock) -> UpdateLedger:
    """Redis when the replicas share one (production), memory for a single process."""
    if redis is None:
        return MemoryUpdateLedger(clock)
    return RedisUpdateLedger(redis, prefix)
