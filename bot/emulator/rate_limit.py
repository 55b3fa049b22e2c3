"""Telegram-like flood limits: ~1 message/s per chat with a small burst, plus a global rate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bot.emulator.common import BucketLimiter, FloodLimits


@dataclass(frozen=True)
class RateLimits(FloodLimits):
    """Telegram's limits are the shared defaults."""


@dataclass
class RateLimiter(BucketLimiter[RateLimits]):
    limits: RateLimits = field(default_factory=RateLimits)

    def acquire(self, chat_id: int) -> int | None:
        """Take one send slot; return `retry_after` seconds instead if there is none."""
        if not self.limits.enabled:
            return None
        now = self.clock.time()
        chat = self._chat_bucket(chat_id, now)
        glob = self._global_bucket(now)
        chat.refill(now)
        glob.refill(now)
        wait = max(chat.wait_needed(), glob.wait_needed())
        if wait > 0:
            return max(1, math.ceil(wait))
        chat.tokens -= 1
        glob.tokens -= 1
        return None
