"""Moscow time for appointments; "now" itself comes from the one clock (`bot.clock`), which
handlers take from the Dispatcher's workflow data."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from bot.clock import Clock

__all__ = ["MOSCOW", "Clock", "minute_of_day", "msk", "msk_date"]

# Moscow has been UTC+3 all year since 2014; a fixed offset needs no tz database.
MOSCOW = timezone(timedelta(hours=3), "MSK")


def msk(moment: datetime) -> datetime:
    return moment.astimezone(MOSCOW)


def msk_date(moment: datetime) -> date:
    return msk(moment).date()


def minute_of_day(moment: datetime) -> int:
    local = msk(moment)
    return local.hour * 60 + local.minute
