"""The bot's "now" and Moscow time.

Handlers take `clock` from the Dispatcher workflow data (tests pass the sandbox's ManualClock),
defaulting to `bot.db.base.utcnow` — the same function `bot.services.people` reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

from bot.db.base import utcnow

Clock = Callable[[], datetime]
default_clock: Clock = utcnow

# Moscow has been UTC+3 all year since 2014; a fixed offset needs no tz database.
MOSCOW = timezone(timedelta(hours=3), "MSK")


def msk(moment: datetime) -> datetime:
    return moment.astimezone(MOSCOW)


def msk_date(moment: datetime) -> date:
    return msk(moment).date()


def minute_of_day(moment: datetime) -> int:
    local = msk(moment)
    return local.hour * 60 + local.minute
