"""What the user asked for is not held back like news: a visit a watch booked, quiet hours the
user just changed, a reminder for a visit booked late in the evening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend_client.models import Relation, Scope
from bot.db.appointments_models import SlotWatch, WatchHit
from bot.db.notifications_models import OutboxMessage
from bot.flows.notification_settings import SetAction, quiet_screen
from bot.i18n import create_i18n
from bot.services.notifications.decisions import Defer, Send, Skip
from bot.services.notifications.kinds import Kind, Priority, Switch
from bot.services.notifications.outbox import NewMessage, Status, enqueue
from bot.services.notifications.planner import reminder_messages
from bot.services.notifications.prepare import prepare
from bot.services.notifications.quiet_hours import MOSCOW
from bot.services.notifications.settings import (
    QUIET_HOURS,
    EmptyQuietHours,
    Prefs,
    set_quiet_bound,
    toggle_quiet,
    toggle_switch,
)
from bot.services.notifications.slot_hits import OutboxSlotHitNotifier
from tests.unit.notify_support import World, as_claimed, next_moscow, world

__all__ = ["world"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

OWNER = 7101


def moscow(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=MOSCOW).astimezone(UTC)


async def hit_for(world: World, *, booked: bool) -> tuple[int, int]:
    """A watch of the owner's own card with one hit (booked by the watch or only found);
    returns (user id, outbox row id) after the watcher told the notifier."""
    person_id = await world.link(OWNER, "mother", "Я", Relation.SELF, Scope.RECORDS)
    user_id = (await world.user_row(OWNER)).id
    starts_at = world.now() + timedelta(days=3)
    async with world.sessionmaker() as db:
        watch = SlotWatch(
            user_id=user_id,
            person_id=person_id,
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
            appointment_id="a-booked" if booked else None,
        )
        db.add(hit)
        await db.commit()
    await OutboxSlotHitNotifier(world.sessionmaker, world.clock).slot_found(user_id, hit.id)
    (row,) = [r for r in await world.outbox() if r.kind == Kind.SLOT_FOUND]
    return user_id, row.id


async def decide_at(world: World, row_id: int, now: datetime) -> Send | Skip | Defer:
    async with world.sessionmaker() as db:
        row = await db.get(OutboxMessage, row_id)
        assert row is not None
        return await prepare(db, world.context(), as_claimed(row), now)


async def test_a_visit_the_watch_booked_is_told_at_once_whatever_the_settings(
    world: World,
) -> None:
    user_id, row_id = await hit_for(world, booked=True)
    async with world.sessionmaker() as db:
        await toggle_switch(db, user_id, Switch.SLOTS, now=world.now())  # no "free time" news
        await db.commit()
    night = next_moscow(world.now(), 23, 30)

    decision = await decide_at(world, row_id, night)

    assert isinstance(decision, Send)
    assert decision.view.text.startswith("✅")  # "the visit is booked", not "a slot is free"
    assert decision.view.buttons == ()
    (row,) = await world.outbox()
    assert row.priority == Priority.URGENT  # it overtakes bulk news as well


async def test_a_found_slot_is_news_the_switch_and_quiet_hours_hold(world: World) -> None:
    user_id, row_id = await hit_for(world, booked=False)
    night = next_moscow(world.now(), 23, 30)
    assert isinstance(await decide_at(world, row_id, night), Defer)
    async with world.sessionmaker() as db:
        await toggle_switch(db, user_id, Switch.SLOTS, now=world.now())
        await db.commit()
    assert await decide_at(world, row_id, night) == Skip("switched_off")


async def test_changing_quiet_hours_releases_what_they_held_back(world: World) -> None:
    await world.link(OWNER, "mother", "Я")
    user_id = (await world.user_row(OWNER)).id
    morning = world.now() + timedelta(hours=9)
    async with world.sessionmaker() as db:
        await enqueue(
            db,
            [
                NewMessage(user_id, Kind.RESULT_READY, "held", not_before=morning),
                NewMessage(user_id, Kind.RESULT_READY, "later", not_before=morning),
            ],
            world.now(),
        )
        held = await db.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == "held"))
        assert held is not None
        held.outcome = QUIET_HOURS  # what the delivery loop writes when quiet hours hold a row
        await db.commit()

    world.clock.advance(minutes=5)
    async with world.sessionmaker() as db:
        await toggle_quiet(db, user_id, now=world.now())  # quiet hours off
        await db.commit()

    rows = {r.dedup_key: r for r in await world.outbox()}
    assert rows["held"].not_before == world.now() and rows["held"].status == Status.PENDING
    assert rows["later"].not_before == morning  # not held by quiet hours: stays as planned
    async with world.sessionmaker() as db:  # a new window: released again, checked at send
        held = await db.get(OutboxMessage, rows["held"].id)
        assert held is not None
        held.not_before = morning
        world.clock.advance(minutes=5)
        await set_quiet_bound(db, user_id, start=True, minute=21 * 60, now=world.now())
        await db.commit()
    assert {r.dedup_key: r for r in await world.outbox()}["held"].not_before == world.now()


async def test_a_reminder_for_a_visit_booked_late_in_the_evening_is_not_sent_at_night(
    world: World,
) -> None:
    """Booked at 22:58 for 09:00: the 2-hour reminder falls in the quiet hours (22-08), and
    the moment before them has passed: it goes at 07:00, not a minute after booking."""
    await world.link(OWNER, "mother", "Я")
    policy = await world.policy("mother")
    visit = next(a for a in await world.backend.appointments_of(policy) if a.is_active)
    visit = visit.model_copy(update={"starts_at": moscow(3, 9)})
    prefs = Prefs(offsets=(1440, 120))

    late = reminder_messages(1, 1, visit, prefs, now=moscow(2, 22, 58))
    assert [((m.payload or {})["offset"], m.not_before) for m in late] == [(120, moscow(3, 7))]

    evening = reminder_messages(1, 1, visit, prefs, now=moscow(2, 21, 50))
    assert [((m.payload or {})["offset"], m.not_before) for m in evening] == [
        (120, moscow(2, 21, 50))
    ]

    early = reminder_messages(1, 1, visit, prefs, now=moscow(1, 12))
    assert [((m.payload or {})["offset"], m.not_before) for m in early] == [
        (1440, moscow(2, 9)),
        (120, moscow(2, 21, 45)),  # before the quiet hours that hold 07:00
    ]


async def test_quiet_hours_cannot_be_made_empty(world: World) -> None:
    """22:00-08:00 by default: an end of 22:00 is not offered and not taken (start = end would
    silently mean no quiet hours; the switch is how to have none)."""
    await world.link(OWNER, "mother", "Я")
    user_id = (await world.user_row(OWNER)).id
    async with world.sessionmaker() as db:
        with pytest.raises(EmptyQuietHours):
            await set_quiet_bound(db, user_id, start=False, minute=22 * 60, now=world.now())
        prefs = await set_quiet_bound(db, user_id, start=False, minute=7 * 60, now=world.now())
    assert (prefs.quiet.start, prefs.quiet.end) == (22 * 60, 7 * 60)
    i18n = create_i18n("en")
    screen = quiet_screen(prefs, lambda m: i18n.gettext(m, locale="en"), SetAction.QUIET_END)
    offered = [b.text.lstrip("• ") for b in screen.buttons]
    assert "07:00" in offered and "22:00" not in offered
