"""A user's notification settings: defaults until they change something."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.notifications_models import NotificationPrefs, OutboxMessage
from bot.services.notifications.kinds import SWITCH_OF, Kind, Switch
from bot.services.notifications.outbox import Status
from bot.services.notifications.quiet_hours import QuietHours

DEFAULT_OFFSETS = (1440, 120)
OFFSET_CHOICES = (10080, 2880, 1440, 720, 240, 120, 60)
"""Reminder offsets a user can pick (minutes before the visit): 7 d, 2 d, 1 d, 12 h, 4 h..."""
QUIET_CHOICES = tuple(range(0, 24 * 60, 60))
MAX_OFFSETS = 4
QUIET_HOURS = "quiet_hours"
"""The outcome of a row held back by quiet hours (see `release_held_back`)."""


@dataclass(frozen=True, slots=True)
class Prefs:
    results: bool = True
    reminders: bool = True
    changes: bool = True
    slots: bool = True
    quiet: QuietHours = field(default_factory=lambda: QuietHours(22 * 60, 8 * 60))
    offsets: tuple[int, ...] = DEFAULT_OFFSETS

    def allows(self, kind: Kind) -> bool:
        switch = SWITCH_OF.get(kind)  # a kind without a switch is always told
        return switch is None or bool(getattr(self, switch.value))


def parse_offsets(raw: str) -> tuple[int, ...]:
    values = {int(part) for part in raw.split(",") if part.strip().isdigit()}
    return tuple(sorted((v for v in values if v > 0), reverse=True))


def to_prefs(row: NotificationPrefs | None) -> Prefs:
    if row is None:
        return Prefs()
    return Prefs(
        results=row.results,
        reminders=row.reminders,
        changes=row.changes,
        slots=row.slots,
        quiet=QuietHours(row.quiet_start, row.quiet_end, row.quiet_enabled),
        offsets=parse_offsets(row.reminder_offsets),
    )


async def load_prefs(session: AsyncSession, user_id: int) -> Prefs:
    return to_prefs(await session.get(NotificationPrefs, user_id))


async def _row(session: AsyncSession, user_id: int, now: datetime) -> NotificationPrefs:
    row = await session.get(NotificationPrefs, user_id)
    if row is None:
        row = NotificationPrefs(
            user_id=user_id,
            results=True,
            reminders=True,
            changes=True,
            slots=True,
            quiet_enabled=True,
            quiet_start=22 * 60,
            quiet_end=8 * 60,
            reminder_offsets=",".join(str(v) for v in DEFAULT_OFFSETS),
        )
        session.add(row)
    row.updated_at = now
    return row


async def toggle_switch(
    session: AsyncSession, user_id: int, switch: Switch, *, now: datetime
) -> Prefs:
    row = await _row(session, user_id, now)
    setattr(row, switch.value, not getattr(row, switch.value))
    await session.flush()
    return to_prefs(row)


async def release_held_back(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Quiet hours changed: what they held back is due `now` (the send-time check holds it
    again if the new hours still cover this moment)."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.status == Status.PENDING,
            OutboxMessage.outcome == QUIET_HOURS,
            OutboxMessage.not_before > now,
        )
        .values(not_before=now)
        .execution_options(synchronize_session=False)
    )


async def toggle_quiet(session: AsyncSession, user_id: int, *, now: datetime) -> Prefs:
    row = await _row(session, user_id, now)
    row.quiet_enabled = not row.quiet_enabled
    await release_held_back(session, user_id, now)
    await session.flush()
    return to_prefs(row)


class EmptyQuietHours(ValueError):
    """Start and end at the same minute: no quiet hours at all (the switch says that)."""


async def set_quiet_bound(
    session: AsyncSession, user_id: int, *, start: bool, minute: int, now: datetime
) -> Prefs:
    if minute not in QUIET_CHOICES:
        raise ValueError("minute")
    row = await _row(session, user_id, now)
    if minute == (row.quiet_end if start else row.quiet_start):
        raise EmptyQuietHours
    if start:
        row.quiet_start = minute
    else:
        row.quiet_end = minute
    await release_held_back(session, user_id, now)
    await session.flush()
    return to_prefs(row)


async def toggle_offset(
    session: AsyncSession, user_id: int, minutes: int, *, now: datetime
) -> Prefs:
    """Add or remove one reminder offset (at most `MAX_OFFSETS`; none means no reminders)."""
    if minutes not in OFFSET_CHOICES:
        raise ValueError("minutes")
    row = await _row(session, user_id, now)
    current = set(parse_offsets(row.reminder_offsets))
    if minutes in current:
        current.discard(minutes)
    elif len(current) < MAX_OFFSETS:
        current.add(minutes)
    row.reminder_offsets = ",".join(str(v) for v in sorted(current, reverse=True))
    await session.flush()
    return to_prefs(row)
