"""Redis as the FSM store, the per-user lock and the rate limiter shared by replicas."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis

from backend_client.protocol import RecordsBackend
from bot.db.engine import SessionMaker
from bot.factory import create_dispatcher
from bot.keys import AppKeys
from bot.services.rate_limit import RedisRateLimiter
from bot.settings import Settings
from tests.recording_bot import RecordingSession
from tests.sandbox_fixtures import frozen_clock
from tests.unit.test_isolation import Tracker, feed_together, install_tracker
from tests.updates import text_update, tg_user


def _dispatcher(
    settings: Settings,
    backend: RecordsBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    redis: Redis,
) -> Dispatcher:
    return create_dispatcher(
        settings, backend, sessionmaker, keys, clock=frozen_clock(), redis=redis
    )


async def _keys(redis: Redis, pattern: str) -> list[str]:
    return sorted([key.decode() async for key in redis.scan_iter(match=pattern, count=500)])


async def test_fsm_state_lives_in_redis_with_a_ttl(
    redis_settings: Settings,
    backend: RecordsBackend,
    keys: AppKeys,
    redis: Redis,
    redis_prefix: str,
    bot_and_session: tuple[Bot, RecordingSession],
    tmp_path: object,
) -> None:
    from bot.db.engine import create_engine, create_sessionmaker

    engine = create_engine(redis_settings.database.database_url)
    dispatcher = _dispatcher(redis_settings, backend, create_sessionmaker(engine), keys, redis)
    bot, _ = bot_and_session
    assert isinstance(dispatcher.fsm.storage, RedisStorage)
    assert isinstance(dispatcher.fsm.events_isolation, RedisEventIsolation)

    context = dispatcher.fsm.get_context(bot, 8001, 8001)
    await context.set_state("linking:policy")
    await context.update_data(draft_id=5)

    stored = await _keys(redis, f"{redis_prefix}:fsm:*8001*")
    assert len(stored) == 2, stored  # state and data, under this run's prefix
    ttl = redis_settings.redis.fsm_ttl_seconds
    for key in stored:
        assert 0 < await redis.ttl(key) <= ttl, key

    # Another process (a fresh dispatcher on the same Redis) sees the same state.
    other = _dispatcher(redis_settings, backend, create_sessionmaker(engine), keys, redis)
    theirs = other.fsm.get_context(bot, 8001, 8001)
    assert await theirs.get_state() == "linking:policy"
    assert await theirs.get_data() == {"draft_id": 5}

    await context.clear()
    assert await theirs.get_state() is None
    await engine.dispose()


async def test_one_users_updates_are_serialised_across_replicas(
    redis_settings: Settings,
    backend: RecordsBackend,
    keys: AppKeys,
    redis: Redis,
    bot_and_session: tuple[Bot, RecordingSession],
) -> None:
    from bot.db.engine import create_engine, create_sessionmaker
    from bot.db.migrate import upgrade

    await asyncio.to_thread(upgrade, redis_settings.database.database_url)
    engine = create_engine(redis_settings.database.database_url)
    replica_a = _dispatcher(redis_settings, backend, create_sessionmaker(engine), keys, redis)
    replica_b = _dispatcher(redis_settings, backend, create_sessionmaker(engine), keys, redis)
    bot, _ = bot_and_session
    for user_id in (8002, 8003):  # known users: their updates do no writes before the handler
        await replica_a.feed_update(bot, text_update("/help", tg_user(user_id)))

    tracker = Tracker()
    install_tracker(replica_a, tracker)
    install_tracker(replica_b, tracker)
    user = tg_user(8002)

    async def feed(dispatcher: Dispatcher) -> None:
        await dispatcher.feed_update(bot, text_update("/hold", user))

    async def conductor() -> None:
        await tracker.until_entered(1, timeout=5)
        await asyncio.sleep(0.3)  # longer than Redis lock polling: the other would be in
        assert tracker.entered() == 1
        tracker.release.set()

    await asyncio.gather(feed(replica_a), feed(replica_b), conductor())
    assert tracker.most_at_once == 1
    assert [kind for kind, _ in tracker.events] == ["enter", "exit", "enter", "exit"]

    # Different users are not serialised, even through the Redis lock.
    tracker2 = Tracker()
    install_tracker(replica_a, tracker2)
    updates = [text_update("/hold", tg_user(uid)) for uid in (8002, 8003)]
    await feed_together(replica_a, bot, tracker2, updates, expect_at_once=2)
    assert tracker2.most_at_once == 2
    await engine.dispose()


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.25

    def __call__(self) -> float:
        return self.now


async def test_rate_limit_is_shared_by_replicas(redis: Redis, redis_prefix: str) -> None:
    clock = FrozenClock()
    replica_a = RedisRateLimiter(redis, redis_prefix, per_second=3, clock=clock)
    replica_b = RedisRateLimiter(redis, redis_prefix, per_second=3, clock=clock)

    hits = [await limiter.hit("9001") for limiter in (replica_a, replica_b, replica_a)]
    assert hits == [True, True, True]
    # The fourth hit is over the limit whichever replica takes it.
    assert not await replica_b.hit("9001")
    assert not await replica_a.hit("9001")
    assert await replica_b.hit("9002")  # another user has their own count

    [key] = await _keys(redis, f"{redis_prefix}:rl:9001:*")
    assert 0 < await redis.ttl(key) <= 2  # counters clean themselves up

    clock.now += 1.0  # the next second starts a new window
    assert await replica_b.hit("9001")
