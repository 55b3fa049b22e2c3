"""Slot watches: set up through the bot, fired by the sandbox's event feed, told through the
default notifier, booked with one tap or by the watch itself (never too soon)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import select

from backend_client.models import AppointmentStatus, Slot
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.appointments_models import SlotWatch, WatchHit
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.i18n import create_i18n
from bot.keys import AppKeys
from bot.services.appointments import watch_engine, watches
from bot.services.appointments.clock import msk_date
from bot.services.appointments.watch_engine import run_watch_round
from bot.services.appointments.watches import WatchSpec
from handlers.watch_notify import BotSlotHitNotifier
from tests.recording_bot import RecordingSession
from tests.sandbox_fixtures import TEST_NOW, frozen_clock
from tests.unit.appointments.support import (
    BOOK,
    WATCHES,
    alerts_since,
    data_of,
    fsm,
    people_rows,
    screen,
    tap,
)
from tests.unit.policies_support import Chat, persona
from tests.unit.records_support import buttons

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")


class Counting:
    """The sandbox, counting the calls the watch engine makes."""

    def __init__(self, inner: SandboxBackend) -> None:
        self.inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return await target(*args, **kwargs)

        return counted


def notifier(
    bot_and_session: tuple[Bot, RecordingSession],
    sessionmaker: SessionMaker,
    backend: SandboxBackend,
    keys: AppKeys,
) -> BotSlotHitNotifier:
    return BotSlotHitNotifier(
        bot_and_session[0], sessionmaker, backend, keys, create_i18n("ru"), frozen_clock()
    )


async def round_(
    sessionmaker: SessionMaker,
    backend: Any,
    keys: AppKeys,
    tell: BotSlotHitNotifier,
    clock: FrozenClock,
    *,
    poll: bool = False,
) -> watch_engine.RoundStats:
    return await run_watch_round(sessionmaker, backend, keys, tell, poll=poll, clock=clock)


async def freed(backend: SandboxBackend, doctor_id: str, slot_id: str, clock: FrozenClock) -> Slot:
    """Free an outsider's slot at the sandbox and return it as the feed reports it."""
    await backend.free_slot(slot_id)
    today = msk_date(clock())
    found = await backend.search_free_slots(
        doctor_id=doctor_id, date_from=today, date_to=today + timedelta(days=13)
    )
    return next(s for s in found if s.slot_id == slot_id)


async def test_a_watch_set_up_in_the_bot_fires_on_a_freed_slot_and_books_with_one_tap(
    chat_for,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
    dispatcher: Dispatcher,
    bot_and_session: tuple[Bot, RecordingSession],
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6101, "Олег")
    await me.link_own(backend, oleg)
    tell = notifier(bot_and_session, sessionmaker, backend, keys)
    await round_(sessionmaker, backend, keys, tell, clock)  # the feed's end is found first

    await me.text(BOOK)
    await tap(me, "ap:s:")
    await tap(me, "ap:d:")
    doctor_id = (await fsm(dispatcher, bot_and_session[0], 6101))["booking"]["doctor_id"]
    await tap(me, "ab:w")
    assert "Какой врач подойдёт?" in screen(me).text
    for step in ("ws:t:doc", "ws:r:14", "ws:h:any", "ws:d:all", "ws:m:tell"):
        await tap(me, step)
    assert "Отслеживание включено" in me.last_request("editMessageText").text
    assert "Отслеживание свободного времени" in me.last_request("editMessageText").text

    [taken, *_rest] = await backend.taken_slots(doctor_id)
    slot = await freed(backend, doctor_id, taken, clock)
    stats = await round_(sessionmaker, backend, keys, tell, clock)
    assert stats.hits == 1
    told = me.last_request("sendMessage")
    assert told.chat_id == 6101 and "Появилось свободное время" in told.text
    assert told.protect_content
    book_it = data_of(told, "wh:")
    assert book_it.endswith(":book")
    # The same slot is never told twice.
    assert (await round_(sessionmaker, backend, keys, tell, clock)).hits == 0

    await me.press(book_it)
    confirm = me.last_request("sendMessage")
    assert "Проверьте и подтвердите" in confirm.text
    await me.press(data_of(confirm, "ab:ok:"))
    visits = [v for v in await backend.appointments_of(oleg.policy) if v.slot_id == slot.slot_id]
    assert [v.status for v in visits] == [AppointmentStatus.BOOKED]
    async with sessionmaker() as db:
        assert not (await db.scalars(select(SlotWatch))).one().active  # booked: watch done


async def test_auto_booking_skips_slots_within_the_minimum_notice(
    chat_for,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
    bot_and_session: tuple[Bot, RecordingSession],
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6102, "Олег")
    await me.link_own(backend, oleg)
    tell = notifier(bot_and_session, sessionmaker, backend, keys)
    await round_(sessionmaker, backend, keys, tell, clock)
    doctors = {
        s.doctor_id
        for s in await backend.search_free_slots(
            specialty_code="therapist",
            date_from=msk_date(clock()),
            date_to=msk_date(clock()) + timedelta(days=13),
        )
    }
    candidates = [(d, await backend.taken_slots(d, 50)) for d in sorted(doctors)]
    doctor_id, taken = next((d, ids) for d, ids in candidates if len(ids) >= 2)
    soon = await freed(backend, doctor_id, taken[0], clock)
    later = await freed(backend, doctor_id, taken[-1], clock)
    assert later.starts_at - soon.starts_at >= timedelta(hours=3)
    clock.set(soon.starts_at - timedelta(hours=1))  # the first slot is within 2 hours now

    [row] = await people_rows(sessionmaker, 6102)
    async with sessionmaker() as db:
        user = (await db.scalars(select(User).where(User.telegram_id == 6102))).one()
        today = msk_date(clock())
        await watches.create_watch(
            db,
            user,
            WatchSpec(
                person_id=row.id,
                specialty_code="therapist",
                doctor_id=doctor_id,
                date_from=today,
                date_to=today + timedelta(days=13),
                auto_book=True,
                min_notice_minutes=120,
            ),
            TEST_NOW,
        )
        await db.commit()
    before = {v.appointment_id for v in await backend.appointments_of(oleg.policy)}
    # Polling sees both freed slots (and maybe others); the soon one is never taken.
    stats = await round_(sessionmaker, backend, keys, tell, clock, poll=True)
    assert stats.auto_booked == 1
    [visit] = [
        v for v in await backend.appointments_of(oleg.policy) if v.appointment_id not in before
    ]
    assert visit.starts_at - clock() >= timedelta(hours=2)
    assert visit.slot_id != soon.slot_id
    told = me.last_request("sendMessage")
    assert "Отслеживание создало запись к врачу" in told.text
    assert not [d for _t, d in buttons(told) if d.startswith("wh:")]  # nothing left to tap


async def test_many_watchers_of_one_doctor_cost_one_query(
    chat_for,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
    bot_and_session: tuple[Bot, RecordingSession],
) -> None:
    oleg = await persona(backend, "single")
    counting = Counting(backend)
    tell = notifier(bot_and_session, sessionmaker, backend, keys)
    me: Chat = await chat_for(6103, "Олег")
    await me.link_own(backend, oleg)
    [row] = await people_rows(sessionmaker, 6103)
    today = msk_date(clock())
    async with sessionmaker() as db:
        user = (await db.scalars(select(User).where(User.telegram_id == 6103))).one()
        for doctor in ("d001", "d001", "d001", "d002", "d002"):
            for _ in range(1):
                db.add(
                    SlotWatch(
                        user_id=user.id,
                        person_id=row.id,
                        doctor_id=doctor,
                        specialty_code="therapist",
                        date_from=today,
                        date_to=today + timedelta(days=13),
                        minute_from=0,
                        minute_to=1,
                        weekdays=127,
                        auto_book=False,
                        min_notice_minutes=0,
                        active=True,
                        created_at=clock(),
                    )
                )
        await db.commit()
    stats = await round_(sessionmaker, counting, keys, tell, clock, poll=True)
    searches = [kw for name, kw in counting.calls if name == "search_free_slots"]
    assert sorted(kw["doctor_id"] for kw in searches) == ["d001", "d002"]
    assert stats.watches == 5 and stats.hits == 0  # a one-minute window at midnight: no slot


async def test_watch_list_stop_and_limit(
    chat_for,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    clock: FrozenClock,
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6104, "Олег")
    await me.link_own(backend, oleg)
    [row] = await people_rows(sessionmaker, 6104)
    today = msk_date(clock())
    async with sessionmaker() as db:
        user = (await db.scalars(select(User).where(User.telegram_id == 6104))).one()
        for _ in range(watches.MAX_ACTIVE_WATCHES):
            await watches.create_watch(
                db, user, WatchSpec(row.id, "therapist", today, today + timedelta(days=6)), TEST_NOW
            )
        with pytest.raises(watches.WatchLimitReached):
            await watches.create_watch(
                db, user, WatchSpec(row.id, "therapist", today, today + timedelta(days=6)), TEST_NOW
            )
        await db.commit()
    await me.text(WATCHES)
    listing = screen(me)
    assert "Терапевт, любой врач" in listing.text and "максимум" in listing.text
    assert not [d for _t, d in buttons(listing) if d == "wt:n:0"]
    await tap(me, "wt:s:")
    assert "Отслеживание остановлено" in me.last_request("editMessageText").text
    # A stale stop button, and a hit id that is not mine.
    since = len(me.rec.requests)
    await me.press(data_of(listing, "wt:s:"))
    await me.press("wh:999:book")
    assert len(alerts_since(me.rec, since)) == 2
    # Watches expire with their date range.
    clock.advance(days=8)
    await run_watch_round(
        sessionmaker, backend, AppKeys(b"k" * 64), _Silent(), poll=False, clock=clock
    )
    async with sessionmaker() as db:
        assert not (await db.scalars(select(SlotWatch).where(SlotWatch.active.is_(True)))).all()


class _Silent:
    async def slot_found(self, user_id: int, hit_id: int) -> None:
        raise AssertionError("nothing should be found")


async def test_after_a_hit_only_new_slots_are_told_not_every_free_one(
    chat_for,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    keys: AppKeys,
    clock: FrozenClock,
    bot_and_session: tuple[Bot, RecordingSession],
) -> None:
    oleg = await persona(backend, "single")
    me: Chat = await chat_for(6105, "Олег")
    await me.link_own(backend, oleg)
    [row] = await people_rows(sessionmaker, 6105)
    today = msk_date(clock())
    free = await backend.search_free_slots(
        specialty_code="therapist", date_from=today, date_to=today + timedelta(days=13)
    )
    doctor_id = free[0].doctor_id
    async with sessionmaker() as db:
        user = (await db.scalars(select(User).where(User.telegram_id == 6105))).one()
        spec = WatchSpec(row.id, "therapist", today, today + timedelta(days=13), doctor_id)
        await watches.create_watch(db, user, spec, TEST_NOW)
        await db.commit()
    engine = watch_engine.WatchEngine(
        sessionmaker,
        backend,
        keys,
        notifier(bot_and_session, sessionmaker, backend, keys),
        clock=clock,
    )
    assert (await engine.run_round(poll=True)).hits == 1  # a free slot exists: told at once
    clock.advance(hours=1)  # past the re-notify gap
    assert (await engine.run_round(poll=True)).hits == 0  # the same free slots: nothing new
    [taken, *_rest] = await backend.taken_slots(doctor_id)
    await backend.free_slot(taken)
    stats = await engine.run_round(poll=False)  # the feed reports the freed slot
    assert stats.hits == 1
    async with sessionmaker() as db:
        slots = {h.slot_id for h in await db.scalars(select(WatchHit))}
    assert taken in slots
