"""Telegram's limits, shared by every worker: a global token bucket, one message a second per
chat, and a pause for everyone after a 429.

With Redis all three live in one Lua script (one round trip per message, atomic across
processes); without Redis the same rules hold inside one process only. When Redis goes away
under a running worker, `FallbackGate` keeps it sending at a local, lower rate until Redis
answers again (the worker neither stops nor floods Telegram).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from redis.asyncio import Redis

from bot.clock import Clock
from bot.outages import Circuit, Unavailable

T = TypeVar("T")

PER_CHAT_INTERVAL = 1.0
"""Telegram: about one message a second into one chat."""


@dataclass(frozen=True, slots=True)
class Permit:
    """`pause`: everyone waits (a 429 was seen); `chat_wait`: this chat had a message just now;
    otherwise the send may go after `send_after` seconds (a slot in the bucket is reserved)."""

    send_after: float = 0.0
    chat_wait: float = 0.0
    pause: float = 0.0


class Gate(Protocol):
    async def acquire(self, chat_id: int) -> Permit: ...

    async def pause(self, seconds: float) -> None: ...

    async def paused_for(self) -> float: ...


def default_burst(rate: float) -> float:
    # Small: a full bucket right after a quiet spell must not look like a flood to Telegram.
    return max(1.0, min(rate / 10, 30.0))


class MemoryGate:
    """One process: the bucket reserves slots (tokens may go negative), so callers just sleep.

    Time is the one clock's monotonic reading (a test's frozen clock moves it on)."""

    def __init__(self, rate: float, burst: float | None = None, *, clock: Clock) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else default_burst(rate)
        self.clock = clock
        self._tokens = self.burst
        self._updated = clock.monotonic()
        self._chat_free_at: dict[int, float] = {}
        self._paused_until = 0.0

    async def acquire(self, chat_id: int) -> Permit:
        now = self.clock.monotonic()
        if self._paused_until > now:
            return Permit(pause=self._paused_until - now)
        free_at = self._chat_free_at.get(chat_id, 0.0)
        if free_at > now:
            return Permit(chat_wait=free_at - now)
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1
        wait = max(0.0, -self._tokens / self.rate)
        self._chat_free_at[chat_id] = now + wait + PER_CHAT_INTERVAL
        if len(self._chat_free_at) > 100_000:
            self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > now}
        return Permit(send_after=wait)

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock.monotonic() + seconds)

    async def paused_for(self) -> float:
        return max(0.0, self._paused_until - self.clock.monotonic())


_ACQUIRE = """
local pause_ms = redis.call('PTTL', KEYS[2])
if pause_ms > 0 then return {'p', tostring(pause_ms / 1000)} end
local chat_ms = redis.call('PTTL', KEYS[3])
if chat_ms > 0 then return {'c', tostring(chat_ms / 1000)} end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate) - 1
local wait = 0
if tokens < 0 then wait = -tokens / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
redis.call('SET', KEYS[3], '1', 'PX', math.floor((wait + tonumber(ARGV[3])) * 1000))
return {'g', tostring(wait)}
"""


class RedisGate:
    """Every worker process against the same keys under `<prefix>:notify:`."""

    def __init__(self, redis: Redis, prefix: str, rate: float, burst: float | None = None) -> None:
        self.redis = redis
        self.rate = rate
        self.burst = burst if burst is not None else default_burst(rate)
        self._bucket = f"{prefix}:notify:bucket"
        self._pause = f"{prefix}:notify:pause"
        self._chat = f"{prefix}:notify:chat:"
        self._script = redis.register_script(_ACQUIRE)

    async def acquire(self, chat_id: int) -> Permit:
        keys = [self._bucket, self._pause, f"{self._chat}{chat_id}"]
        kind, value = await self._script(keys=keys, args=[self.rate, self.burst, PER_CHAT_INTERVAL])
        seconds = float(value)
        if kind == b"p":
            return Permit(pause=seconds)
        if kind == b"c":
            return Permit(chat_wait=seconds)
        return Permit(send_after=seconds)

    async def pause(self, seconds: float) -> None:
        # Only ever lengthen a pause another worker set.
        milliseconds = max(1, int(seconds * 1000))
        current = await self.redis.pttl(self._pause)
        if current < milliseconds:
            await self.redis.set(self._pause, b"1", px=milliseconds)

    async def paused_for(self) -> float:
        milliseconds = await self.redis.pttl(self._pause)
        return max(0.0, milliseconds / 1000)


LOCAL_SHARE = 0.5
"""Without the shared bucket a worker keeps to this share of the rate: two workers cut off
from Redis together still stay within Telegram's limit (more would meet 429s, which pause)."""


class FallbackGate:
    """The shared (Redis) gate while it answers; a local one, at `LOCAL_SHARE` of the rate,
    while it does not. Calls go through `circuit` (a timeout each, one outage line, then no
    waiting on a dead Redis per message until it is probed again)."""

    def __init__(self, shared: Gate, local: Gate, circuit: Circuit) -> None:
        self.shared = shared
        self.local = local
        self.circuit = circuit

    async def _try(self, call: Callable[[], Awaitable[T]]) -> T | None:
        try:
            return await self.circuit.call(call)
        except Unavailable:
            return None

    async def acquire(self, chat_id: int) -> Permit:
        permit = await self._try(lambda: self.shared.acquire(chat_id))
        return permit if permit is not None else await self.local.acquire(chat_id)

    async def pause(self, seconds: float) -> None:
        await self.local.pause(seconds)  # this worker waits whatever Redis does
        await self._try(lambda: self.shared.pause(seconds))

    async def paused_for(self) -> float:
        shared = await self._try(self.shared.paused_for)
        return max(shared or 0.0, await self.local.paused_for())
