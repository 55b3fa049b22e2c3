"""Look-up lock-out: how many wrong (policy, birth date) look-ups are allowed before a pause.

A policy number is not a secret (it is printed on the card, photocopied at every clinic), and a
birth date has about 36,500 plausible values: without a cap, anyone holding a policy number
finds the birth date by trying, and with it starts an SMS to the owner. So wrong look-ups are
counted, in sliding windows:

* per policy number as typed (known or not, so the lock-out itself says nothing about whether a
  card exists), across every requester: 5 an hour and 20 a day — at 20 a day an exhaustive
  search takes years, while someone who mistypes their own date a few times waits an hour;
* per requester (a Telegram account), across every policy: 10 an hour and 30 a day — one
  account cannot sweep many cards.

Once a cap is full every look-up under it is refused, even with the right date, until the
oldest failure that fills it leaves its window (``LookupLocked(retry_after)``). The backend
counts (the contract), and the bot counts again per Telegram account, because a backend behind
another adapter may not.

Pure arithmetic here, shared by the sandbox and the bot; each keeps its own failure rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Cap:
    """At most `failures` wrong look-ups within any `window`."""

    failures: int
    window: timedelta


POLICY_CAPS = (Cap(5, HOUR), Cap(20, DAY))
"""Wrong look-ups of one policy number, whoever tries it."""
REQUESTER_CAPS = (Cap(10, HOUR), Cap(30, DAY))
"""Wrong look-ups by one requester, whatever the policy."""
LONGEST_WINDOW = max(cap.window for cap in (*POLICY_CAPS, *REQUESTER_CAPS))
"""Failures older than this count for nothing and may be deleted."""


def seconds_locked(failures: Iterable[datetime], caps: Iterable[Cap], now: datetime) -> int:
    """Seconds until one more look-up is allowed under `caps`, given the failure times (any
    order); 0 when it is allowed now."""
    times = sorted(t for t in failures if t > now - LONGEST_WINDOW)
    wait = 0.0
    for cap in caps:
        recent = [t for t in times if t > now - cap.window]
        if len(recent) >= cap.failures:
            # Free again when the failure that fills the cap leaves the window.
            wait = max(wait, (recent[-cap.failures] + cap.window - now).total_seconds())
    return max(0, math.ceil(wait))
