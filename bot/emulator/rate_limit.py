"""Telegram-like flood limits: ~1 message/s per chat with a small burst, plus a global rate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bot.emulator.clock import Clock


@dataclass(frozen=True)
class RateLimits:
    """Switched off by default so functional tests never see a 429 they did not ask for."""

    enabled: bool = False
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    global_per_second: float = 30.0
    global_burst: int = 30


@dataclass
class _Bucket:
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


@dataclass
class RateLimiter:
    clock: Clock
    limits: RateLimits = field(default_factory=RateLimits)
    _chats: dict[int, _Bucket] = field(default_factory=dict)
    _global: _Bucket | None = None

    def configure(self, limits: RateLimits) -> None:
        self.limits = limits
        self._chats.clear()
        self._global = None

    def acquire(self, chat_id: int) -> int | None:
        """Take one send slot; return `retry_after` seconds instead if there is none."""
        if not self.limits.enabled:
            return None
        now = self.clock.time()
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Bucket(
                self.limits.per_chat_per_second,
                self.limits.per_chat_burst,
                self.limits.per_chat_burst,
                now,
            )
            self._chats[chat_id] = chat
        if self._global is None:
            self._global = _Bucket(
                self.limits.global_per_second,
                self.limits.global_burst,
                self.limits.global_burst,
                now,
            )
        chat.refill(now)
        self._global.refill(now)
        wait = max(chat.wait_needed(), self._global.wait_needed())
        if wait > 0:
            return max(1, math.ceil(wait))
        chat.tokens -= 1
        self._global.tokens -= 1
        return None
