"""The per-user lock on a real Redis: a short lease, renewed while the handler runs, so a dead
replica's user is free within the lease and a live one keeps its user as long as it needs."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis

from bot.factory import create_fsm_backends
from bot.isolation import LEASE_SECONDS, LeasedRedisEventIsolation, UserBusy
from bot.settings import Settings

USER = StorageKey(bot_id=42, chat_id=9100, user_id=9100)


@pytest.fixture
def key_builder(redis_prefix: str) -> DefaultKeyBuilder:
    return DefaultKeyBuilder(prefix=f"{redis_prefix}:{secrets.token_hex(4)}:fsm", with_bot_id=True)


def _replica(
    redis: Redis, key_builder: DefaultKeyBuilder, **kwargs: float
) -> LeasedRedisEventIsolation:
    return LeasedRedisEventIsolation(redis, key_builder=key_builder, **kwargs)


async def test_the_bot_uses_the_leased_lock(redis_settings: Settings, redis: Redis) -> None:
    from bot.clock import SystemClock

    isolation = create_fsm_backends(redis_settings, redis, SystemClock()).isolation
    assert isinstance(isolation, LeasedRedisEventIsolation)
    assert isolation.lease_seconds <= 10


async def test_the_lock_is_a_short_lease_and_is_gone_after_the_handler(
    redis: Redis, key_builder: DefaultKeyBuilder
) -> None:
    isolation = _replica(redis, key_builder)
    name = key_builder.build(USER, "lock")
    async with isolation.lock(USER):
        assert 0 < await redis.pttl(name) <= LEASE_SECONDS * 1000
    assert not await redis.exists(name)


async def test_a_second_replica_waits_for_the_first_to_finish(
    redis: Redis, key_builder: DefaultKeyBuilder
) -> None:
    replica_a = _replica(redis, key_builder, lease_seconds=0.4, renew_every=0.1)
    replica_b = _replica(redis, key_builder, lease_seconds=0.4, renew_every=0.1)
    order: list[str] = []
    a_inside = asyncio.Event()

    async def on_a() -> None:
        async with replica_a.lock(USER):
            order.append("a in")
            a_inside.set()
            await asyncio.sleep(1.2)  # three leases long: kept alive by renewal
            order.append("a out")

    async def on_b() -> None:
        await a_inside.wait()
        async with replica_b.lock(USER):
            order.append("b in")

    await asyncio.gather(on_a(), on_b())
    assert order == ["a in", "a out", "b in"]


async def test_a_dead_replicas_user_is_free_within_the_lease(
    redis: Redis, key_builder: DefaultKeyBuilder
) -> None:
    # A SIGKILLed replica leaves its lock behind, renewed a moment before it died.
    name = key_builder.build(USER, "lock")
    await redis.set(name, "dead-replica", px=int(LEASE_SECONDS * 1000))

    survivor = _replica(redis, key_builder)
    async with asyncio.timeout(LEASE_SECONDS + 1.5):  # was up to 60 s with aiogram's lock
        async with survivor.lock(USER):
            assert await redis.get(name) != b"dead-replica"


async def test_different_users_do_not_wait_for_each_other(
    redis: Redis, key_builder: DefaultKeyBuilder
) -> None:
    isolation = _replica(redis, key_builder)
    other = StorageKey(bot_id=42, chat_id=9101, user_id=9101)
    async with isolation.lock(USER):
        async with asyncio.timeout(1):
            async with isolation.lock(other):
                pass


async def test_a_user_held_too_long_is_an_error_not_a_hang(
    redis: Redis, key_builder: DefaultKeyBuilder
) -> None:
    holder = _replica(redis, key_builder)
    waiter = _replica(redis, key_builder, wait_limit=0.3)
    async with holder.lock(USER):
        with pytest.raises(UserBusy):
            async with waiter.lock(USER):
                pytest.fail("two updates of one user at once")


async def test_a_lock_lost_meanwhile_is_not_taken_from_its_new_holder(
    redis: Redis, key_builder: DefaultKeyBuilder
) -> None:
    name = key_builder.build(USER, "lock")
    isolation = _replica(redis, key_builder, lease_seconds=5, renew_every=10)
    async with isolation.lock(USER):
        await redis.set(name, "someone-else", px=5000)  # as if ours had expired and been taken
    assert await redis.get(name) == b"someone-else"  # our release left it alone
