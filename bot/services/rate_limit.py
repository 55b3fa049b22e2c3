"""Per-key rate limits: in memory for one process, in Redis when replicas share them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis


class RateLimiter(Protocol):
    async def hit(self, key: str) -> bool:
        """Count one event for `key`; False when the key is over its limit right now."""
        ...


class MemoryRateLimiter:
    """A token bucket per key; enough for a single process."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        """`clock`: monotonic seconds (the app clock's `monotonic`)."""
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    async def hit(self, key: str) -> bool:
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(self._burst), now))
        tokens = min(float(self._burst), tokens + (now - last) * self._rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > 100_000:  # keep memory bounded under a flood of new keys
            self._buckets.clear()
        return allowed


class RedisRateLimiter:
    """A fixed one-second window per key, shared by every replica."""

    def __init__(
        self, redis: Redis, prefix: str, per_second: int, clock: Callable[[], float]
    ) -> None:
        """`clock`: wall seconds (the app clock's timestamp): replicas must agree on the window."""
        self._redis = redis
        self._prefix = prefix
        self._limit = per_second
        self._clock = clock

    async def hit(self, key: str) -> bool:
        window = int(self._clock())
        redis_key = f"{self._prefix}:rl:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, 2)
            count, _ = await pipe.execute()
        return int(count) <= self._limit
