"""MAX's flood limits: about 2 messages a second per chat and 30 API requests a second.

Off by default, like the Telegram emulator's: a driver acts faster than any person, so
functional tests would trip them. Switch them on (`MaxRateLimits(enabled=True)`) to test
a renderer's pacing. Windows run on the clock's monotonic seconds, so real time passes and
`FrozenClock.advance` skips a window without sleeping. The long poll is not limited here
(MAX documents 2 polls a second).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.emulator.common import BucketLimiter, FloodLimits


@dataclass(frozen=True)
class MaxRateLimits(FloodLimits):
    per_chat_per_second: float = 2.0
    per_chat_burst: int = 2


@dataclass
class MaxRateLimiter(BucketLimiter[MaxRateLimits]):
    limits: MaxRateLimits = field(default_factory=MaxRateLimits)

    def request(self) -> bool:
        """One API request (any method but the long poll); False means answer 429."""
        if not self.limits.enabled:
            return True
        now = self._now()
        return self._global_bucket(now).take(now)

    def message(self, chat_id: int) -> bool:
        """One new message into `chat_id`; False means answer 429."""
        if not self.limits.enabled:
            return True
        now = self._now()
        return self._chat_bucket(chat_id, now).take(now)

    def _now(self) -> float:
        return self.clock.monotonic()
