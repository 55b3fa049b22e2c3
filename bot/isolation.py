"""One user's updates one at a time across replicas, with a lock a dead replica cannot keep.

aiogram's `RedisEventIsolation` takes a Redis lock per chat/user with a 60 s TTL: a replica
killed mid-update held its user for up to a minute. Here the lock is a short lease instead:
`<prefix>:fsm:<bot>:<chat>:<user>:lock` set with NX and a TTL of `LEASE_SECONDS`, renewed every
`RENEW_EVERY_SECONDS` by a background task while the handler runs, and dropped (only if still
ours) when it returns. A live handler keeps its user as long as it needs; a dead replica's
user is free within `LEASE_SECONDS` of its last renewal.

Waiting for the lock is polling (`POLL_SECONDS`), bounded by `WAIT_LIMIT_SECONDS` (below
Telegram's webhook timeout): past it `UserBusy` is raised and the error handler tells the user
to try again, rather than the request hanging. Every Redis call has its own timeout, so a
stalled Redis gives an error, never a hang. A lease found lost while renewing (this process
stalled longer than the lease) is logged: that is the one way two updates of a user overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis

from bot.logs import log_event

logger = logging.getLogger(__name__)

# 3 s: a dead replica's user waits at most this (the budget is 5 s of silence); renewed
# four times a lease, so one renewal lost to a Redis blip (1 s timeout) does not lose the lock.
LEASE_SECONDS = 3.0
RENEW_EVERY_SECONDS = 0.75
POLL_SECONDS = 0.05
WAIT_LIMIT_SECONDS = 45.0
REDIS_TIMEOUT_SECONDS = 1.0

# KEYS[1] = lock; ARGV[1] = our token, ARGV[2] = lease in ms.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class UserBusy(RuntimeError):
    """This user's previous update is still being handled after `WAIT_LIMIT_SECONDS`."""


class LeasedRedisEventIsolation(RedisEventIsolation):
    """A per-user Redis lock held as a short lease, renewed while the handler runs.

    A `RedisEventIsolation` (same keys, same `redis` and `key_builder`) with another lock."""

    def __init__(
        self,
        redis: Redis,
        key_builder: KeyBuilder,
        *,
        lease_seconds: float = LEASE_SECONDS,
        renew_every: float = RENEW_EVERY_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        wait_limit: float = WAIT_LIMIT_SECONDS,
    ) -> None:
        super().__init__(redis, key_builder=key_builder)
        self.lease_seconds = lease_seconds
        self.renew_every = renew_every
        self.poll_seconds = poll_seconds
        self.wait_limit = wait_limit
        self._lease_ms = max(1, int(lease_seconds * 1000))
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        name = self.key_builder.build(key, "lock")
        token = secrets.token_hex(8)
        await self._acquire(name, token)
        renewer = asyncio.create_task(self._keep(name, token))
        try:
            yield None
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            try:
                await asyncio.wait_for(
                    self._release(keys=[name], args=[token]), timeout=REDIS_TIMEOUT_SECONDS
                )
            except Exception as exc:  # noqa: BLE001 - the lease expires by itself
                log_event(
                    logger, "isolation.release_failed", logging.WARNING, error=type(exc).__name__
                )

    async def _acquire(self, name: str, token: str) -> None:
        try:
            async with asyncio.timeout(self.wait_limit):
                # Polling: the holder may be another process; there is nothing to wait on.
                while not await asyncio.wait_for(  # noqa: ASYNC110
                    self.redis.set(name, token, nx=True, px=self._lease_ms),
                    timeout=REDIS_TIMEOUT_SECONDS,
                ):
                    await asyncio.sleep(self.poll_seconds)
        except TimeoutError as exc:
            # Either the whole wait or one stalled Redis call: in both cases, not now.
            raise UserBusy("this user's lock could not be taken in time") from exc

    async def _keep(self, name: str, token: str) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                kept = await asyncio.wait_for(
                    self._renew(keys=[name], args=[token, self._lease_ms]),
                    timeout=REDIS_TIMEOUT_SECONDS,
                )
            except Exception:  # noqa: BLE001, S112 - a blip; the lease outlives a missed renewal
                continue
            if not kept:
                log_event(logger, "isolation.lease_lost", logging.WARNING)
                return
