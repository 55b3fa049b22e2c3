"""Events reach the right people, once; what they are sent is checked again at send time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backend_client.models import Appointment, Relation, Requester, Scope
from bot.crypto import requester_id_for
from bot.db.appointments_models import SlotWatch, WatchHit
from bot.db.notifications_models import OutboxMessage
from bot.services.notifications.decisions import Defer, Send, Skip
from bot.services.notifications.intake import follow_feed_once, ingest_events
from bot.services.notifications.kinds import Kind, Priority, Switch
from bot.services.notifications.outbox import Status
from bot.services.notifications.planner import plan_reminders
from bot.services.notifications.prepare import prepare
from bot.services.notifications.settings import toggle_switch
from bot.services.notifications.slot_hits import OutboxSlotHitNotifier
from keyboards.appointments import WatchHitCb
from keyboards.notifications import notification_keyboard
from keyboards.records import RecDocCb
from tests.unit.notify_support import World, as_claimed, next_moscow, world

__all__ = ["world"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

OWNER, RELATIVE, APPOINTMENTS_ONLY, STRANGER = 7001, 7002, 7003, 7004
A_DAY_AND_MORE = timedelta(hours=30)
"""How far ahead the tests' visits are: both default reminders (24 h, 2 h) still to come."""


def noon(world: World) -> datetime:
    """The next noon in Moscow: outside quiet hours, whatever the instant the test runs at."""
    return next_moscow(world.now(), 12)


async def family(world: World) -> dict[int, int]:
    """Mother's card: her own link, a son with record access, a daughter with appointments
    only; a stranger linked to another card. Returns person row ids by Telegram id."""
    rows = {
        OWNER: await world.link(OWNER, "mother", "Я"),
        RELATIVE: await world.link(RELATIVE, "mother", "Мама", Relation.RELATIVE, Scope.RECORDS),
        APPOINTMENTS_ONLY: await world.link(
            APPOINTMENTS_ONLY, "mother", "Мама", Relation.RELATIVE, Scope.APPOINTMENTS
        ),
        STRANGER: await world.link(STRANGER, "single", "Я"),
    }
    await drain_feed(world)  # access events of the linking itself
    return rows


async def drain_feed(world: World) -> None:
    while await follow_feed_once(world.sessionmaker, world.backend, world.cipher, world.clock):
        pass


async def plan(world: World) -> int:
    return await plan_reminders(world.sessionmaker, world.backend, world.keys, now=world.now())


async def mothers_visit(world: World, people: dict[int, int]) -> Appointment:
    """A visit the mother books for a time the test chooses (a day and more ahead), so what
    is due when does not depend on the instant the test runs."""
    slot = await world.free_slot(world.now() + A_DAY_AND_MORE)
    return await world.book(OWNER, people[OWNER], slot)


async def reminders_of(world: World, visit: Appointment) -> list[OutboxMessage]:
    return [
        r
        for r in await world.outbox()
        if r.kind == Kind.REMINDER and r.subject == visit.appointment_id
    ]


async def recipients(world: World, kind: Kind) -> set[int]:
    by_id = {}
    for telegram_id in (OWNER, RELATIVE, APPOINTMENTS_ONLY, STRANGER):
        by_id[(await world.user_row(telegram_id)).id] = telegram_id
    return {by_id[r.user_id] for r in await world.outbox() if r.kind == kind}


async def test_result_ready_goes_to_owner_and_record_relatives_only(world: World) -> None:
    await family(world)
    await world.backend.publish_result(policy=await world.policy("mother"))
    await drain_feed(world)

    assert await recipients(world, Kind.RESULT_READY) == {OWNER, RELATIVE}

    relative_id = (await world.user_row(RELATIVE)).id
    row = next(r for r in await world.outbox() if r.user_id == relative_id)
    async with world.sessionmaker() as db:
        decision = await prepare(db, world.context(), as_claimed(row), noon(world))
    assert isinstance(decision, Send)
    assert decision.chat_id == RELATIVE
    assert decision.view.text == "🧪 Готов новый результат анализа: Мама."
    assert decision.view.protect_content
    markup = notification_keyboard(decision.view.buttons)
    assert markup is not None
    pressed = RecDocCb.unpack(str(markup.inline_keyboard[0][0].callback_data))
    assert (pressed.p, pressed.e) == (row.person_id, row.subject)


async def test_the_same_event_twice_adds_nothing(world: World) -> None:
    await family(world)
    await world.backend.publish_result(policy=await world.policy("mother"))
    batch = await world.backend.read_events(after=None, limit=1000)
    async with world.sessionmaker() as db:
        first = await ingest_events(db, world.cipher, batch.events, world.now())
        await db.commit()
    async with world.sessionmaker() as db:
        again = await ingest_events(db, world.cipher, batch.events, world.now())
        await db.commit()
    await drain_feed(world)  # the feed brings the very same events once more

    assert (first, again) == (2, 0)
    assert len(await world.outbox()) == 2


async def test_clinic_cancellation_reaches_everyone_managing_visits_urgently(world: World) -> None:
    people = await family(world)
    visit = await mothers_visit(world, people)
    await plan(world)
    assert {r.person_id for r in await reminders_of(world, visit)} == {
        people[OWNER],
        people[RELATIVE],
        people[APPOINTMENTS_ONLY],
    }

    await world.backend.clinic_cancel(visit.appointment_id)
    await drain_feed(world)

    assert await recipients(world, Kind.VISIT_CANCELLED) == {OWNER, RELATIVE, APPOINTMENTS_ONLY}
    rows = await world.outbox()
    assert {r.priority for r in rows if r.kind == Kind.VISIT_CANCELLED} == {Priority.URGENT}
    assert {r.status for r in await reminders_of(world, visit)} == {Status.SKIPPED}

    cancelled = next(r for r in rows if r.kind == Kind.VISIT_CANCELLED)
    async with world.sessionmaker() as db:
        decision = await prepare(db, world.context(), as_claimed(cancelled), noon(world))
    assert isinstance(decision, Send)
    assert "Поликлиника отменила запись" in decision.view.text


async def test_reminders_per_offset_once_and_not_for_a_moved_visit(world: World) -> None:
    """The visit and the time the clinic moves it to are both chosen a day and more ahead:
    this test means the same at any instant (it once failed when the next free time the
    clinic took was under two hours ahead)."""
    people = await family(world)
    visit = await mothers_visit(world, people)
    await plan(world)
    await plan(world)  # again: nothing new
    reminders = await reminders_of(world, visit)
    # Owner, relative and the appointments-only relative; 24 h and 2 h before.
    assert len(reminders) == 6
    assert {r.person_id for r in reminders} == {
        people[OWNER],
        people[RELATIVE],
        people[APPOINTMENTS_ONLY],
    }

    before = visit.starts_at - timedelta(hours=3)
    owner_2h = next(
        r for r in reminders if r.person_id == people[OWNER] and '"offset":120' in r.payload
    )
    async with world.sessionmaker() as db:
        decision = await prepare(db, world.context(), as_claimed(owner_2h), before)
    assert isinstance(decision, Send)
    assert decision.view.text.startswith("⏰ Напоминание: Я")

    later = await world.free_slot(
        visit.starts_at + timedelta(hours=1),
        doctor_id=visit.doctor.doctor_id,
        besides=visit.slot_id,
    )
    await world.backend.clinic_move(visit.appointment_id, later.slot_id)
    await drain_feed(world)
    async with world.sessionmaker() as db:
        decision = await prepare(db, world.context(), as_claimed(owner_2h), before)
    assert decision == Skip("visit_changed")

    await plan(world)
    at_new_time = f'"at":{int(later.starts_at.timestamp())}'
    fresh = [r for r in await reminders_of(world, visit) if at_new_time in r.payload]
    # The new time gets its own reminders, both offsets; the old ones fail the check.
    assert len(fresh) == 6
    assert {r.person_id for r in fresh} == set(people.values()) - {people[STRANGER]}
    assert await recipients(world, Kind.VISIT_MOVED) == {OWNER, RELATIVE, APPOINTMENTS_ONLY}


async def test_revoked_access_and_switched_off_kinds_are_not_sent(world: World) -> None:
    await family(world)
    await world.backend.publish_result(policy=await world.policy("mother"))
    await drain_feed(world)
    rows = {r.user_id: r for r in await world.outbox()}
    owner_id = (await world.user_row(OWNER)).id
    relative = await world.user_row(RELATIVE)

    requester = Requester(id=requester_id_for(world.keys, RELATIVE), display_name="Тест Т.")
    grants = await world.backend.list_grants_received(requester.id)
    await world.backend.revoke_grant(grants[0].grant_id, requester)
    async with world.sessionmaker() as db:
        decision = await prepare(db, world.context(), as_claimed(rows[relative.id]), noon(world))
    assert decision == Skip("grant_gone")

    async with world.sessionmaker() as db:
        await toggle_switch(db, owner_id, Switch.RESULTS, now=world.now())
        await db.commit()
        decision = await prepare(db, world.context(), as_claimed(rows[owner_id]), noon(world))
    assert decision == Skip("switched_off")


async def test_quiet_hours_hold_news_but_not_urgent_changes(world: World) -> None:
    people = await family(world)
    await world.backend.publish_result(policy=await world.policy("mother"))
    visit = await mothers_visit(world, people)
    await world.backend.clinic_cancel(visit.appointment_id)
    await drain_feed(world)
    owner_id = (await world.user_row(OWNER)).id
    rows = [r for r in await world.outbox() if r.user_id == owner_id]
    result = next(r for r in rows if r.kind == Kind.RESULT_READY)
    cancelled = next(r for r in rows if r.kind == Kind.VISIT_CANCELLED)
    night = next_moscow(world.now(), 23, 30)

    async with world.sessionmaker() as db:
        held = await prepare(db, world.context(), as_claimed(result), night)
        urgent = await prepare(db, world.context(), as_claimed(cancelled), night)
    assert held == Defer(next_moscow(night, 8), "quiet_hours")  # 08:00 Moscow
    assert isinstance(urgent, Send)


async def test_no_notifications_for_a_blocked_user(world: World) -> None:
    await family(world)
    await world.backend.publish_result(policy=await world.policy("mother"))
    await drain_feed(world)
    owner = await world.user_row(OWNER)
    async with world.sessionmaker() as db:
        row = await db.get(type(owner), owner.id)
        assert row is not None
        row.blocked_at = world.now()
        await db.commit()
    message = next(r for r in await world.outbox() if r.user_id == owner.id)
    async with world.sessionmaker() as db:
        decision = await prepare(db, world.context(), as_claimed(message), noon(world))
    assert decision == Skip("blocked")


async def test_a_found_slot_goes_through_the_outbox_with_the_watch_buttons(world: World) -> None:
    people = await family(world)
    owner_id = (await world.user_row(OWNER)).id
    at = noon(world)
    starts_at = at + timedelta(days=3)
    async with world.sessionmaker() as db:
        watch = SlotWatch(
            user_id=owner_id,
            person_id=people[OWNER],
            specialty_code="therapist",
            date_from=starts_at.date(),
            date_to=starts_at.date(),
            created_at=world.now(),
        )
        db.add(watch)
        await db.flush()
        hit = WatchHit(
            watch_id=watch.id,
            slot_id="s1",
            doctor_id="d1",
            starts_at=starts_at,
            found_at=world.now(),
        )
        db.add(hit)
        await db.commit()
    notifier = OutboxSlotHitNotifier(world.sessionmaker, world.clock)

    await notifier.slot_found(owner_id, hit.id)
    await notifier.slot_found(owner_id, hit.id)  # told twice by the watcher: sent once

    (row,) = [r for r in await world.outbox() if r.kind == Kind.SLOT_FOUND]
    async with world.sessionmaker() as db:
        decision = await prepare(db, world.context(), as_claimed(row), at)
    assert isinstance(decision, Send)
    assert decision.view.text.startswith("🔔 Появилось свободное время (Я):")
    markup = notification_keyboard(decision.view.buttons)
    assert markup is not None
    pressed = [WatchHitCb.unpack(str(b[0].callback_data)) for b in markup.inline_keyboard]
    assert [(p.hit_id, p.action) for p in pressed] == [(hit.id, "book"), (hit.id, "stop")]
