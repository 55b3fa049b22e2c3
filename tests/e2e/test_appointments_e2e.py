"""Appointments as a person does them, through the real bot polling the emulator: booking for
myself and a relative, by referral, a double tap, a lost race, moving and cancelling, a watch
that fires when the sandbox frees a slot, and stale or forged buttons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from backend_client.models import AppointmentStatus, Relation, Requester, Scope
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.appointments_models import SlotWatch
from bot.db.models import LinkedPerson, User
from bot.offline import OfflineStack
from bot.services.appointments import watch_engine, watches
from bot.services.appointments.clock import msk_date
from bot.services.appointments.watch_engine import run_watch_round
from bot.services.appointments.watches import WatchSpec
from handlers.watch_notify import BotSlotHitNotifier
from tests.e2e.booking import book_a_visit, tap, tap_on, to_confirmation, with_button
from tests.e2e.helpers import last_text
from tests.e2e.people import code_sent_to, link_own_card, link_relative, new_user, persona

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning"),
]


@pytest.fixture(autouse=True)
def bot_reads_the_sandbox_clock(stack: OfflineStack, sandbox_clock: FrozenClock) -> None:
    stack.app.dispatcher["clock"] = sandbox_clock


async def visit_ids(sandbox: SandboxBackend, policy: str) -> set[str]:
    return {v.appointment_id for v in await sandbox.appointments_of(policy)}


async def test_book_for_myself_and_a_double_tap_books_once(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 7001, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    before = await visit_ids(sandbox, oleg.policy)

    await to_confirmation(user, sandbox, sandbox_clock)
    text = last_text(user)
    for part in ("Doctor:", "Specialty:", "Clinic:", "Address:", "(Moscow time)"):
        assert part in text
    message, [confirm] = with_button(user, "ab:ok:")
    await user.press_data(message.message_id, confirm, settle=False)
    second = await user.press_data(message.message_id, confirm)
    await user.wait_idle()
    assert second.text is not None and "Already done" in second.text
    assert "Appointment booked" in (message.text or "")  # the confirmation became the result
    new = (await visit_ids(sandbox, oleg.policy)) - before
    assert len(new) == 1
    [ics] = user.documents
    assert ics.data.startswith(b"BEGIN:VCALENDAR") and f"UID:{new.pop()}".encode() in ics.data


async def test_book_for_a_relative_by_referral(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    anna = await persona(sandbox, "mother")
    galina = await persona(sandbox, "elderly_mother")
    user = await new_user(stack, 7002, "Anna", anna.phone)
    await link_own_card(user, sandbox, anna)
    sandbox_clock.advance(seconds=61)  # one code a minute per requester
    await link_relative(user, sandbox, galina, "Mum", "Appointments only")
    before = await visit_ids(sandbox, galina.policy)

    await to_confirmation(user, sandbox, sandbox_clock, "ap:r:", who=1)
    assert "Patient: Mum" in last_text(user)
    await tap(user, "ab:ok:")
    assert any("Appointment booked" in (m.text or "") for m in user.messages[-3:])
    new = [
        v for v in await sandbox.appointments_of(galina.policy) if v.appointment_id not in before
    ]
    assert len(new) == 1 and new[0].referral_id is not None


async def test_a_slot_taken_before_confirming_shows_the_fresh_times(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    oleg = await persona(sandbox, "single")
    father = await persona(sandbox, "father")
    user = await new_user(stack, 7003, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    before = await visit_ids(sandbox, oleg.policy)
    await to_confirmation(user, sandbox, sandbox_clock)
    # Another requester books the very slot on show (their own card, another front end).
    key = StorageKey(bot_id=stack.app.bot.id, chat_id=7003, user_id=7003)
    data = await stack.app.dispatcher.storage.get_data(key)
    slot_id = data["booking"]["slot_id"]
    sandbox_clock.advance(seconds=61)
    other = Requester(id="other-front-end", display_name="Dmitry")
    challenge = await sandbox.request_access(
        father.policy, father.birth_date, other, Relation.SELF, Scope.RECORDS
    )
    grant = await sandbox.confirm_access(
        challenge.challenge_id, await code_sent_to(sandbox, father.phone), other
    )
    await sandbox.book(grant.grant_id, other.id, slot_id, "other-front-end-1")

    answer = await tap(user, "ab:ok:")
    assert answer.text is not None and "just taken" in answer.text
    assert "free times now" in last_text(user) or "Choose a day" in last_text(user)
    assert (await visit_ids(sandbox, oleg.policy)) == before


async def test_reschedule_and_cancel(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 7004, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    before = await visit_ids(sandbox, oleg.policy)
    visit_id = await book_a_visit(user, sandbox, sandbox_clock, oleg.policy)

    await user.press("🗓 My appointments")
    assert "Upcoming:" in last_text(user)
    await tap_on(user, "av:v:", visit_id)  # Oleg has visits of his own
    await user.press("🔁 Reschedule")
    await tap(user, "cal:d:")
    await tap(user, "at:")  # the booked time is not free: any time offered is another one
    assert "Move the appointment?" in last_text(user)
    await tap(user, "ab:ok:")
    [moved] = [
        v for v in await sandbox.appointments_of(oleg.policy) if v.appointment_id not in before
    ]
    assert moved.previous_starts_at is not None and moved.status is AppointmentStatus.BOOKED

    await user.press("🗓 My appointments")
    await tap_on(user, "av:v:", visit_id)
    await user.press("❌ Cancel the appointment")
    assert "Cancel this appointment?" in last_text(user)
    await user.press("Yes, cancel it")
    assert "The appointment is cancelled" in last_text(user)
    [cancelled] = [
        v for v in await sandbox.appointments_of(oleg.policy) if v.appointment_id not in before
    ]
    assert cancelled.status is AppointmentStatus.CANCELLED


async def test_a_watch_fires_when_a_slot_frees_and_auto_books_with_notice(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 7005, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    app = stack.app
    tell = BotSlotHitNotifier(app.bot, app.sessionmaker, sandbox, app.keys, app.i18n, sandbox_clock)

    async def watch_round(poll: bool = False) -> watch_engine.RoundStats:
        return await run_watch_round(
            app.sessionmaker, sandbox, app.keys, tell, poll=poll, clock=sandbox_clock
        )

    await watch_round()  # finds the end of the event feed
    # Set up a "tell me" watch for a doctor through the bot.
    await user.press("📅 Book a doctor")
    await tap(user, "ap:s:")
    await tap(user, "ap:d:")
    await tap(user, "ab:w")
    for step in ("ws:t:doc", "ws:r:14", "ws:h:any", "ws:d:all", "ws:m:tell"):
        await tap(user, step)
    assert "Watching." in last_text(user)
    async with app.sessionmaker() as db:
        watch = (await db.scalars(select(SlotWatch))).one()
        doctor_id = watch.doctor_id
    assert doctor_id is not None
    taken = await sandbox.taken_slots(doctor_id, 50)
    await sandbox.free_slot(taken[0])
    assert (await watch_round()).hits == 1
    await user.wait_for_message()
    assert "A free slot has appeared" in last_text(user)
    await user.press("✅ Book it")
    await user.press("✅ Confirm")
    assert any("Appointment booked" in (m.text or "") for m in user.messages[-3:])

    # An auto-booking watch with 2 hours' notice: a slot freed 1 hour ahead is not taken.
    today = msk_date(sandbox_clock())
    freed = []
    for slot_id in taken[1:]:
        await sandbox.free_slot(slot_id)
        found = await sandbox.search_free_slots(
            doctor_id=doctor_id, date_from=today, date_to=today + timedelta(days=13)
        )
        freed += [s for s in found if s.slot_id == slot_id]
        if len(freed) == 2 and freed[1].starts_at - freed[0].starts_at >= timedelta(hours=3):
            break
    soon = freed[0]
    sandbox_clock.set(soon.starts_at - timedelta(hours=1))
    async with app.sessionmaker() as db:
        me = (await db.scalars(select(User).where(User.telegram_id == 7005))).one()
        row = (await db.scalars(select(LinkedPerson).where(LinkedPerson.user_id == me.id))).one()
        await watches.create_watch(
            db,
            me,
            WatchSpec(
                row.id,
                watch.specialty_code,
                msk_date(sandbox_clock()),
                msk_date(sandbox_clock()) + timedelta(days=13),
                doctor_id=doctor_id,
                auto_book=True,
                min_notice_minutes=120,
            ),
            sandbox_clock(),
        )
        await db.commit()
    before = await visit_ids(sandbox, oleg.policy)
    stats = await watch_round(poll=True)
    assert stats.auto_booked == 1
    await user.wait_idle()
    assert "Your watch booked a visit" in last_text(user)
    [auto] = [
        v for v in await sandbox.appointments_of(oleg.policy) if v.appointment_id not in before
    ]
    assert auto.slot_id != soon.slot_id
    assert auto.starts_at - sandbox_clock() >= timedelta(hours=2)


async def test_stale_and_forged_buttons(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock
) -> None:
    oleg = await persona(sandbox, "single")
    anna = await persona(sandbox, "mother")
    user = await new_user(stack, 7006, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    before = await visit_ids(sandbox, oleg.policy)
    await to_confirmation(user, sandbox, sandbox_clock)
    message, [confirm] = with_button(user, "ab:ok:")
    for forged in ("at:42", "ab:ok:0000", "ap:d:d999", "wh:1:book", "aw:b:999"):
        answer = await user.press_data(message.message_id, forged)
        assert answer.show_alert and answer.text
    theirs = [a for a in await sandbox.appointments_of(anna.policy) if a.is_active]
    answer = await user.press_data(message.message_id, f"av:cc:1:{theirs[0].appointment_id}")
    assert answer.text and "no longer in the list" in answer.text
    assert all(a.is_active for a in await sandbox.appointments_of(anna.policy) if a in theirs)
    # After /cancel the old confirmation button books nothing.
    await user.send_command("/cancel")
    answer = await user.press_data(message.message_id, confirm)
    assert answer.text and "out of date" in answer.text
    assert await visit_ids(sandbox, oleg.policy) == before
