"""Slot watches: what a user waits for, whether a free slot is it, and creating, listing and
stopping watches. The engine that finds the slots is in `watch_engine.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Slot
from bot.db.appointments_models import SlotWatch, WatchHit
from bot.db.models import User
from bot.services.appointments.clock import minute_of_day, msk_date

MAX_ACTIVE_WATCHES = 5
ALL_WEEKDAYS = 0b1111111


class WatchLimitReached(Exception):
    pass


@dataclass(frozen=True, slots=True)
class WatchSpec:
    person_id: int
    specialty_code: str
    date_from: date
    date_to: date
    doctor_id: str | None = None
    clinic_id: str | None = None
    referral_id: str | None = None
    minute_from: int = 0
    minute_to: int = 24 * 60
    weekdays: int = ALL_WEEKDAYS
    auto_book: bool = False
    min_notice_minutes: int = 120


def matches(watch: SlotWatch, slot: Slot, now: datetime) -> bool:
    """Whether a free slot is what the watch waits for (target, dates, hours, weekdays)."""
    if watch.doctor_id is not None:
        if slot.doctor_id != watch.doctor_id:
            return False
    elif slot.specialty_code != watch.specialty_code or (
        watch.clinic_id is not None and slot.clinic_id != watch.clinic_id
    ):
        return False
    if slot.starts_at <= now:
        return False
    day = msk_date(slot.starts_at)
    if not watch.date_from <= day <= watch.date_to:
        return False
    if not watch.weekdays >> day.weekday() & 1:
        return False
    return watch.minute_from <= minute_of_day(slot.starts_at) < watch.minute_to


def far_enough(slot: Slot, now: datetime, min_notice_minutes: int) -> bool:
    """Auto-booking never takes a slot sooner than the notice the user asked for."""
    return slot.starts_at - now >= timedelta(minutes=min_notice_minutes)


async def active_count(session: AsyncSession, user: User) -> int:
    count = await session.scalar(
        select(func.count()).where(SlotWatch.user_id == user.id, SlotWatch.active.is_(True))
    )
    return int(count or 0)


async def create_watch(
    session: AsyncSession, user: User, spec: WatchSpec, now: datetime
) -> SlotWatch:
    if await active_count(session, user) >= MAX_ACTIVE_WATCHES:
        raise WatchLimitReached
    watch = SlotWatch(
        user_id=user.id,
        person_id=spec.person_id,
        doctor_id=spec.doctor_id,
        specialty_code=spec.specialty_code,
        clinic_id=spec.clinic_id,
        referral_id=spec.referral_id,
        date_from=spec.date_from,
        date_to=spec.date_to,
        minute_from=spec.minute_from,
        minute_to=spec.minute_to,
        weekdays=spec.weekdays,
        auto_book=spec.auto_book,
        min_notice_minutes=spec.min_notice_minutes,
        active=True,
        created_at=now,
    )
    session.add(watch)
    await session.flush()
    return watch


async def user_watches(session: AsyncSession, user: User) -> list[SlotWatch]:
    rows = await session.scalars(
        select(SlotWatch)
        .where(SlotWatch.user_id == user.id, SlotWatch.active.is_(True))
        .order_by(SlotWatch.id)
    )
    return list(rows)


async def own_watch(session: AsyncSession, user: User, watch_id: int) -> SlotWatch | None:
    watch = await session.get(SlotWatch, watch_id)
    return watch if watch is not None and watch.user_id == user.id else None


async def stop_watch(session: AsyncSession, user: User, watch_id: int) -> bool:
    watch = await own_watch(session, user, watch_id)
    if watch is None or not watch.active:
        return False
    watch.active = False
    await session.flush()
    return True


async def own_hit(
    session: AsyncSession, user: User, hit_id: int
) -> tuple[WatchHit, SlotWatch] | None:
    """The hit and its watch if both are this user's (forged or foreign ids give None)."""
    hit = await session.get(WatchHit, hit_id)
    if hit is None:
        return None
    watch = await own_watch(session, user, hit.watch_id)
    return (hit, watch) if watch is not None else None
