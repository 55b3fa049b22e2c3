from __future__ import annotations

from datetime import UTC, datetime

from bot.services.notifications.quiet_hours import QuietHours, reminder_send_time

QUIET = QuietHours(22 * 60, 8 * 60)


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour - 3, minute, tzinfo=UTC)  # Moscow is UTC+3


def test_the_window_wraps_midnight() -> None:
    assert QUIET.contains(msk(2, 23)) and QUIET.contains(msk(3, 7, 59))
    assert not QUIET.contains(msk(2, 21, 59)) and not QUIET.contains(msk(3, 8))
    assert QUIET.end_after(msk(2, 23)) == msk(3, 8)
    assert QUIET.end_after(msk(3, 4)) == msk(3, 8)
    assert QuietHours(22 * 60, 8 * 60, enabled=False).contains(msk(2, 23)) is False


def test_a_reminder_due_at_night_goes_before_the_quiet_hours() -> None:
    # A visit at 09:00: the 2-hour reminder would fall at 07:00, inside 22:00-08:00.
    assert reminder_send_time(QUIET, msk(3, 7)) == msk(2, 21, 45)
    assert reminder_send_time(QUIET, msk(3, 12)) == msk(3, 12)
