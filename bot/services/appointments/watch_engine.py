"""The slot-watch engine: rounds that find free slots for the active watches.

One round reads freed slots from the backend's event feed (from a stored cursor) and, when
polling is due, asks the backend once per watched doctor or (specialty, clinic) — however many
users watch it. A match becomes a `WatchHit` row; the user is told through a `SlotHitNotifier`,
and a watch with auto-booking books the slot itself, never sooner than its minimum notice.
The watches themselves (what matches, creating and stopping them) are in `watches.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import (
    AccessDenied,
    BackendUnavailable,
    InvalidRequest,
    NotFound,
    SlotTaken,
)
from backend_client.models import EventKind, Scope, Slot
from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.crypto import requester_id_for
from bot.db.appointments_models import SlotWatch, WatchCursor, WatchHit
from bot.db.engine import SessionMaker
from bot.db.models import LinkedPerson, User
from bot.keys import AppKeys
from bot.logs import log_event
from bot.outages import Backoff, keep_running
from bot.services.appointments.clock import msk_date
from bot.services.appointments.watches import far_enough, matches
from bot.services.people import is_current

logger = logging.getLogger(__name__)

CURSOR_NAME = "slot_watch"
MAX_QUERY_DAYS = 31
"""The backend's longest date range per query."""


@dataclass(frozen=True, slots=True)
class WatchConfig:
    poll_interval_seconds: float = 300.0
    """Polling is the fallback for slots the feed does not announce: modest on purpose."""
    event_interval_seconds: float = 20.0
    renotify_gap_seconds: float = 1800.0
    """A watch that hit tells again only after this gap (no message storm when many slots
    free up); an auto-booking watch is not held back by it."""
    events_per_read: int = 100


class SlotHitNotifier(Protocol):
    """Delivers "a slot was found" to the user; `user_id` is the bot's `users.id`."""

    async def slot_found(self, user_id: int, hit_id: int) -> None: ...


GroupKey = tuple[str, str, str]
"""("doctor", doctor_id, "") or ("specialty", code, clinic_id or "")."""


def group_key(watch: SlotWatch) -> GroupKey:
    if watch.doctor_id is not None:
        return ("doctor", watch.doctor_id, "")
    return ("specialty", watch.specialty_code, watch.clinic_id or "")


def query_plan(watches: Iterable[SlotWatch], today: date) -> dict[GroupKey, tuple[date, date]]:
    """One backend query per group: the union of its watches' dates, from today, at most the
    backend's longest range."""
    plan: dict[GroupKey, tuple[date, date]] = {}
    for watch in watches:
        key = group_key(watch)
        start, end = max(watch.date_from, today), watch.date_to
        if key in plan:
            start, end = min(start, plan[key][0]), max(end, plan[key][1])
        plan[key] = (start, min(end, start + timedelta(days=MAX_QUERY_DAYS)))
    return plan


@dataclass(slots=True)
class RoundStats:
    watches: int = 0
    backend_queries: int = 0
    events_read: int = 0
    hits: int = 0
    auto_booked: int = 0
    expired: int = 0
    errors: int = 0
    hit_ids: list[tuple[int, int]] = field(default_factory=list)
    """(user id, hit id) of every new hit, in the order they were told."""


async def _expire(session: AsyncSession, today: date) -> int:
    result = await session.execute(
        update(SlotWatch)
        .where(SlotWatch.active.is_(True), SlotWatch.date_to < today)
        .values(active=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _active(session: AsyncSession) -> list[SlotWatch]:
    return list(await session.scalars(select(SlotWatch).where(SlotWatch.active.is_(True))))


async def _freed_from_feed(
    session: AsyncSession,
    backend: RecordsBackend,
    config: WatchConfig,
    stats: RoundStats,
    now: datetime,
) -> list[Slot]:
    row = await session.get(WatchCursor, CURSOR_NAME)
    first_read = row is None
    if row is None:
        row = WatchCursor(name=CURSOR_NAME, cursor=None, updated_at=now)
        session.add(row)
    slots: list[Slot] = []
    while True:
        try:
            batch = await backend.read_events(row.cursor, config.events_per_read)
        except InvalidRequest:
            # The backend no longer knows our cursor (reset): polling covers the gap.
            log_event(logger, "watch.cursor_reset", logging.WARNING)
            batch = await backend.read_events(None, config.events_per_read)
        stats.backend_queries += 1
        stats.events_read += len(batch.events)
        slots += [e.slot for e in batch.events if e.kind is EventKind.SLOT_FREED and e.slot]
        if batch.cursor == row.cursor or not batch.events:
            break
        row.cursor = batch.cursor
    row.updated_at = now
    await session.flush()
    # The first read only finds where the feed ends: old "freed" slots may be long rebooked,
    # and polling tells the present state anyway.
    return [] if first_read else slots


async def _poll(
    backend: RecordsBackend, watches: list[SlotWatch], today: date, stats: RoundStats
) -> list[Slot]:
    slots: list[Slot] = []
    for (kind, target, clinic), (start, end) in query_plan(watches, today).items():
        if end < start:
            continue
        stats.backend_queries += 1
        try:
            if kind == "doctor":
                found = await backend.search_free_slots(
                    doctor_id=target, date_from=start, date_to=end
                )
            else:
                found = await backend.search_free_slots(
                    specialty_code=target, clinic_id=clinic or None, date_from=start, date_to=end
                )
        except (NotFound, InvalidRequest):
            stats.errors += 1  # a doctor who left the catalogue: other groups go on
            continue
        slots += found
    return slots


class WatchEngine:
    """Runs rounds; the worker keeps one instance: it remembers when it last polled and which
    slots were free then, so that a watch that has already told its user is told again only
    about slots that appeared since (not every free slot, every round)."""

    def __init__(
        self,
        sessionmaker: SessionMaker,
        backend: RecordsBackend,
        keys: AppKeys,
        notifier: SlotHitNotifier,
        *,
        config: WatchConfig | None = None,
        clock: Clock,
    ) -> None:
        self.sessionmaker, self.backend, self.keys = sessionmaker, backend, keys
        self.notifier, self.clock = notifier, clock
        self.config = config or WatchConfig()
        self._last_poll: datetime | None = None
        self._was_free: set[str] | None = None

    def poll_due(self, now: datetime) -> bool:
        return self._last_poll is None or (now - self._last_poll).total_seconds() >= (
            self.config.poll_interval_seconds
        )

    async def run_round(self, *, poll: bool | None = None) -> RoundStats:
        now = self.clock()
        poll = self.poll_due(now) if poll is None else poll
        stats = RoundStats()
        async with self.sessionmaker() as session:
            stats.expired = await _expire(session, msk_date(now))
            watches = await _active(session)
            stats.watches = len(watches)
            freed = await _freed_from_feed(session, self.backend, self.config, stats, now)
            slots, fresh = freed, {s.slot_id for s in freed}
            if poll and watches:
                polled = await _poll(self.backend, watches, msk_date(now), stats)
                free_now = {s.slot_id for s in polled}
                # Without a previous poll to compare with, every free slot counts as new.
                fresh |= free_now - self._was_free if self._was_free is not None else free_now
                slots = freed + polled
                self._last_poll, self._was_free = now, free_now
            await self._match(session, watches, slots, fresh, now, stats)
            await session.commit()
        for user_id, hit_id in stats.hit_ids:
            try:
                await self.notifier.slot_found(user_id, hit_id)
            except Exception as error:  # noqa: BLE001 - one undeliverable message must not stop the rest
                stats.errors += 1
                log_event(
                    logger, "watch.notify_failed", logging.WARNING, error=type(error).__name__
                )
        if stats.hits or stats.expired:
            log_event(
                logger,
                "watch.round",
                watches=stats.watches,
                queries=stats.backend_queries,
                hits=stats.hits,
                auto_booked=stats.auto_booked,
                expired=stats.expired,
            )
        return stats

    async def _match(
        self,
        session: AsyncSession,
        watches: list[SlotWatch],
        slots: list[Slot],
        fresh: set[str],
        now: datetime,
        stats: RoundStats,
    ) -> None:
        """`fresh`: slots that appeared since the last round (freed, or new in this poll). A
        watch that never hit takes any match; after its first hit only fresh ones."""
        unique = {s.slot_id: s for s in slots}
        by_target: dict[str, list[Slot]] = defaultdict(list)
        for slot in sorted(unique.values(), key=lambda s: s.starts_at):
            by_target[slot.doctor_id].append(slot)
            by_target["spec:" + (slot.specialty_code or "")].append(slot)
        seen = await self._seen(session, [w.id for w in watches])
        taken: set[str] = set()  # slots auto-booked this round by another watch
        for watch in watches:
            if not self._may_tell(watch, now):
                continue
            target = watch.doctor_id or "spec:" + watch.specialty_code
            for slot in by_target.get(target, []):
                if slot.slot_id in taken or (watch.id, slot.slot_id) in seen:
                    continue
                if watch.last_hit_at is not None and slot.slot_id not in fresh:
                    continue
                if not matches(watch, slot, now):
                    continue
                if watch.auto_book and not far_enough(slot, now, watch.min_notice_minutes):
                    continue  # too soon to book for them; a later slot may still do
                hit = await self._record(session, watch, slot, now)
                if hit is None:
                    continue
                if watch.auto_book:
                    await self._auto_book(session, watch, hit, slot, stats)
                    if hit.appointment_id is None:
                        # Lost the race, or access is gone: tell nobody, try the next slot.
                        continue
                    taken.add(slot.slot_id)
                stats.hits += 1
                stats.hit_ids.append((watch.user_id, hit.id))
                watch.last_hit_at = now
                break  # one message per watch per round

    def _may_tell(self, watch: SlotWatch, now: datetime) -> bool:
        if not watch.active:
            return False
        if watch.auto_book or watch.last_hit_at is None:
            return True
        return (now - watch.last_hit_at).total_seconds() >= self.config.renotify_gap_seconds

    async def _seen(self, session: AsyncSession, watch_ids: list[int]) -> set[tuple[int, str]]:
        if not watch_ids:
            return set()
        rows = await session.execute(
            select(WatchHit.watch_id, WatchHit.slot_id).where(WatchHit.watch_id.in_(watch_ids))
        )
        return {(r.watch_id, r.slot_id) for r in rows}

    async def _record(
        self, session: AsyncSession, watch: SlotWatch, slot: Slot, now: datetime
    ) -> WatchHit | None:
        hit = WatchHit(
            watch_id=watch.id,
            slot_id=slot.slot_id,
            doctor_id=slot.doctor_id,
            starts_at=slot.starts_at,
            found_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(hit)
        except IntegrityError:  # another worker recorded it first
            return None
        return hit

    async def _auto_book(
        self, session: AsyncSession, watch: SlotWatch, hit: WatchHit, slot: Slot, stats: RoundStats
    ) -> None:
        person = await session.get(LinkedPerson, watch.person_id)
        user = await session.get(User, watch.user_id)
        now = self.clock()
        if (
            person is None
            or user is None
            or person.user_id != user.id
            or not is_current(person, now)
            or not Scope(person.scope).allows(Scope.APPOINTMENTS)
        ):
            watch.active = False
            return
        requester_id = requester_id_for(self.keys, user.messenger_key)
        try:
            appointment = await self.backend.book(
                person.grant_id,
                requester_id,
                slot.slot_id,
                f"watch-hit-{hit.id}",
                watch.referral_id,
            )
        except SlotTaken:
            return
        except (AccessDenied, NotFound, InvalidRequest):
            watch.active = False  # the grant or the referral is gone: stop quietly
            return
        except BackendUnavailable:
            stats.errors += 1
            return
        hit.appointment_id = appointment.appointment_id
        watch.active = False  # booked: the watch has done its job
        stats.auto_booked += 1


async def run_watch_round(
    sessionmaker: SessionMaker,
    backend: RecordsBackend,
    keys: AppKeys,
    notifier: SlotHitNotifier,
    *,
    poll: bool = True,
    config: WatchConfig | None = None,
    clock: Clock,
) -> RoundStats:
    """One round (feed + optionally polling) with a throwaway engine; for tests and cron."""
    engine = WatchEngine(sessionmaker, backend, keys, notifier, config=config, clock=clock)
    return await engine.run_round(poll=poll)


WATCH_ROUND_SECONDS = 300.0
"""The longest one round may take (feed, polling, auto-booking) before it counts as hung."""


async def watch_loop(engine: WatchEngine, stop: asyncio.Event) -> None:
    """The worker job: a round every `event_interval_seconds` (polling when due) until `stop`;
    a round failing on an outage (database, backend) waits a backoff, one log line per outage
    (`bot.outages.keep_running`)."""

    async def one_round() -> None:
        await engine.run_round()

    await keep_running(
        "watches",
        one_round,
        stop,
        every=engine.config.event_interval_seconds,
        clock=engine.clock,
        round_timeout=WATCH_ROUND_SECONDS,
        backoff=Backoff(first=1.0, cap=30.0),
    )
