"""Pieces both offline emulators share (Telegram in bot/emulator, MAX in bot/max_emulator).

Kept free of either API's shapes: flood-limit buckets, the socket server lifecycle, the
user look-up and the driver's `expect`. Each emulator keeps its own names and wire format.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

from aiohttp import web

from bot.emulator.clock import Clock

# ----- flood limits -----------------------------------------------------------------------


@dataclass(frozen=True)
class FloodLimits:
    """Switched off by default so functional tests never see a 429 they did not ask for."""

    enabled: bool = False
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    global_per_second: float = 30.0
    global_burst: int = 30


@dataclass
class TokenBucket:
    rate: float
    capacity: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_needed(self) -> float:
        """Seconds until one token is available (0 if available now)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> bool:
        """Refill, then take one token if there is one."""
        self.refill(now)
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


LimitsT = TypeVar("LimitsT", bound=FloodLimits)


@dataclass
class BucketLimiter(Generic[LimitsT]):
    """One bucket per chat plus one global bucket, created full on first use."""

    clock: Clock
    limits: LimitsT
    _chats: dict[int, TokenBucket] = field(default_factory=dict)
    _global: TokenBucket | None = None

    def configure(self, limits: LimitsT) -> None:
        self.limits = limits
        self._chats.clear()
        self._global = None

    def _chat_bucket(self, chat_id: int, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            burst = self.limits.per_chat_burst
            bucket = TokenBucket(self.limits.per_chat_per_second, burst, burst, now)
            self._chats[chat_id] = bucket
        return bucket

    def _global_bucket(self, now: float) -> TokenBucket:
        if self._global is None:
            burst = self.limits.global_burst
            self._global = TokenBucket(self.limits.global_per_second, burst, burst, now)
        return self._global


# ----- the server lifecycle ---------------------------------------------------------------


class ServedWorld(Protocol):
    def reopen(self) -> None: ...

    async def close(self) -> None: ...


class Pusher(Protocol):
    async def run(self) -> None: ...


WorldT = TypeVar("WorldT", bound=ServedWorld)


class EmulatorServerBase(Generic[WorldT]):
    """A world on a real socket plus its webhook pusher: `async with Server(world) as server:`."""

    def __init__(
        self,
        world: WorldT | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.5,
    ) -> None:
        self.world = world or self._new_world()
        self.host = host
        self._requested_port = port
        self.port = port
        self._runner: web.AppRunner | None = None
        self._pusher = self._new_pusher(webhook_retry_delay)
        self._pusher_task: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _new_world(self) -> WorldT:
        raise NotImplementedError

    def _new_pusher(self, retry_delay: float) -> Pusher:
        raise NotImplementedError

    def _make_app(self) -> web.Application:
        raise NotImplementedError

    def _port_to_bind(self) -> int:
        """A restart binds the port of the last start (subclasses may choose otherwise)."""
        return self.port

    def _bound(self) -> None:
        """Called once `self.port` is the real port, before any request can arrive."""

    async def start(self) -> None:
        self.world.reopen()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port_to_bind()))
        self.port = int(sock.getsockname()[1])
        self._bound()
        # access_log=None: paths and query strings carry the token, which must never be logged.
        self._runner = web.AppRunner(self._make_app(), access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self._pusher_task = asyncio.create_task(self._pusher.run())

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self.world.close()
        if self._pusher_task is not None:
            self._pusher_task.cancel()
            await asyncio.gather(self._pusher_task, return_exceptions=True)
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class ActivityTracking:
    """The bot's calls in flight and when it last did anything, which settling waits on."""

    clock: Clock
    _in_flight: int
    _last_activity: float

    def request_started(self) -> None:
        self._in_flight += 1
        self._touch()

    def request_finished(self) -> None:
        self._in_flight -= 1
        self._touch()

    def _touch(self) -> None:
        self._last_activity = self.clock.monotonic()
        self._notify()

    def _notify(self) -> None:
        """Wake whoever waits for a change."""
        raise NotImplementedError


# ----- users and drivers ------------------------------------------------------------------


class HasPhone(Protocol):
    phone: str | None


UserT = TypeVar("UserT", bound=HasPhone)


def get_or_add_user(
    users: dict[int, UserT], user_id: int, phone: str | None, add: Callable[[], UserT]
) -> UserT:
    """The known user (a given phone updates theirs), or the one `add` creates and registers."""
    user = users.get(user_id)
    if user is None:
        user = add()
    elif phone is not None:
        user.phone = phone
    return user


MessageT = TypeVar("MessageT")


class ExpectingDriver(Generic[MessageT]):
    """`expect` for a user driver; subclasses say which messages are new and how to wait."""

    timeout: float

    def _fresh_messages(self) -> list[MessageT]:
        """Bot messages sent or edited since the last action, deleted ones left out."""
        raise NotImplementedError

    def _content(self, message: MessageT) -> str:
        raise NotImplementedError

    def _wait_until(self, check: Callable[[], bool], timeout: float) -> Awaitable[None]:
        raise NotImplementedError

    def _no_match(self, text_contains: str | None, timeout: float) -> str:
        raise NotImplementedError

    async def expect(
        self,
        text_contains: str | None = None,
        *,
        predicate: Callable[[MessageT], bool] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - tests read better with timeout=
    ) -> MessageT:
        """A bot message sent or edited since the last action that matches; waits if needed."""
        found: list[MessageT] = []

        def check() -> bool:
            found[:] = [
                m
                for m in self._fresh_messages()
                if (text_contains is None or text_contains in self._content(m))
                and (predicate is None or predicate(m))
            ]
            return bool(found)

        try:
            await self._wait_until(check, timeout or self.timeout)
        except AssertionError:
            raise AssertionError(self._no_match(text_contains, timeout or self.timeout)) from None
        return found[0]
