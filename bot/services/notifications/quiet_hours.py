"""Quiet hours in the user's (Moscow) time: when non-urgent messages wait.

Hours are minutes after local midnight; a window may wrap past midnight (22:00-08:00).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

MOSCOW = ZoneInfo("Europe/Moscow")
DAY_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: int
    end: int
    enabled: bool = True
    tz: ZoneInfo = MOSCOW

    def _minute(self, moment: datetime) -> int:
        local = moment.astimezone(self.tz)
        return local.hour * 60 + local.minute

    def contains(self, moment: datetime) -> bool:
        if not self.enabled or self.start == self.end:
            return False
        minute = self._minute(moment)
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def _local_at(self, moment: datetime, minute: int, day_shift: int) -> datetime:
        local = moment.astimezone(self.tz)
        day = local.date() + timedelta(days=day_shift)
        naive = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        return naive.replace(tzinfo=self.tz)

    def end_after(self, moment: datetime) -> datetime:
        """When the quiet window holding `moment` ends (`moment` itself if not inside)."""
        if not self.contains(moment):
            return moment
        shift = 1 if self.start > self.end and self._minute(moment) >= self.start else 0
        return self._local_at(moment, self.end, shift)

    def start_before(self, moment: datetime) -> datetime:
        """When the quiet window holding `moment` started (`moment` itself if not inside)."""
        if not self.contains(moment):
            return moment
        shift = -1 if self.start > self.end and self._minute(moment) < self.end else 0
        return self._local_at(moment, self.start, shift)


LEAD_BEFORE_QUIET = timedelta(minutes=15)


def reminder_send_time(quiet: QuietHours, due: datetime) -> datetime:
    """A reminder due inside quiet hours goes out shortly before they start."""
    if not quiet.contains(due):
        return due
    return quiet.start_before(due) - LEAD_BEFORE_QUIET
