"""Visit notifications end to end: the clinic cancelling a visit is told at once (even in quiet
hours) and its reminders are dropped; a reminder comes a day before with Reschedule and Cancel
buttons that work, and moved or cancelled visits get no stale reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backend_client.models import AppointmentStatus
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.clock import at_msk, msk_date
from bot.clock import FrozenClock
from bot.emulator.models import StoredMessage
from bot.offline import OfflineStack
from bot.services.notifications.kinds import Kind
from bot.services.notifications.outbox import Status
from tests.e2e.booking import tap, with_button
from tests.e2e.helpers import last_text
from tests.e2e.notifications_support import (
    APPOINTMENTS,
    book_a_visit,
    everyone_reads_the_sandbox_clock,
    link_relative,
    moscow,
    outbox,
    own_label,
    tap_free_day,
    worker,
)
from tests.e2e.people import link_own_card, new_user, persona
from tests.e2e.worker import Worker

__all__ = ["everyone_reads_the_sandbox_clock", "worker"]  # fixtures these tests use

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning"),
]


async def test_clinic_cancels_a_visit_the_manager_is_told_at_once_and_reminders_go(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock, worker: Worker
) -> None:
    galina = await persona(sandbox, "elderly_mother")
    anna = await new_user(stack, 8201, "Anna", (await persona(sandbox, "mother")).phone)
    await link_relative(anna, sandbox, galina, "Mum", APPOINTMENTS)
    visit_id = await book_a_visit(anna, sandbox, galina.policy, day=1)
    assert await worker.plan() >= 1
    reminders = await outbox(stack, Kind.REMINDER)
    # One per reminder time still ahead (which depends on the day the visit fell on).
    planned = [r.status for r in reminders if r.subject == visit_id]
    assert planned and set(planned) == {Status.PENDING}

    # Late in the evening before the visit, inside the default quiet hours (22:00-08:00).
    [visit] = [
        v for v in await sandbox.appointments_of(galina.policy) if v.appointment_id == visit_id
    ]
    sandbox_clock.set(at_msk(msk_date(visit.starts_at) - timedelta(days=1), 23, 30))
    seen = len(anna.messages)
    await sandbox.clinic_cancel(visit_id)
    stats = await worker.round()

    assert stats.sent == 1 and len(anna.messages) == seen + 1
    note = anna.last_message
    assert note.text is not None and note.protect_content
    assert note.text.startswith("❌ The clinic cancelled the visit of Mum on ")
    assert "You can book another time with the button below." in note.text
    assert note.buttons == ["Book again"]
    assert f"on {moscow(visit.starts_at, sandbox_clock())}." in note.text
    reminders = await outbox(stack, Kind.REMINDER)
    assert {(r.status, r.outcome) for r in reminders if r.subject == visit_id} == {
        (Status.SKIPPED, "visit_cancelled")
    }
    # Mum's other visits keep theirs.
    assert {r.status for r in reminders if r.subject != visit_id} <= {Status.PENDING}
    # The button opens the same doctor's calendar for Mum (issue 14, 11d).
    answer = await anna.press("Book again")
    assert answer is not None and not answer.show_alert
    with_button(anna, "ab:x:")
    # A later planning round brings nothing back for the cancelled visit.
    assert await worker.plan() == 0
    assert (await worker.deliver()).sent == 0


async def test_a_reminder_a_day_before_with_buttons_that_work(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock, worker: Worker
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 8301, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    label = await own_label(stack, user.id)
    visit_id = await book_a_visit(user, sandbox, oleg.policy, day=2)

    async def the_visit() -> datetime:
        [visit] = [
            v for v in await sandbox.appointments_of(oleg.policy) if v.appointment_id == visit_id
        ]
        return visit.starts_at

    def about(since: int, starts: datetime) -> list[StoredMessage]:
        """What came since message `since` about the visit at `starts`: Oleg has visits of his
        own, whose reminders fall due too as the clock jumps days ahead."""
        return [
            m
            for m in user.messages[since:]
            if f"on {moscow(starts, sandbox_clock())}." in (m.text or "")
        ]

    # A day before the visit: the reminder, with buttons for the visit.
    starts = await the_visit()
    sandbox_clock.set(starts - timedelta(hours=24) + timedelta(minutes=1))
    seen = len(user.messages)
    await worker.round(plan=True)
    [reminder] = about(seen, starts)
    assert reminder.text is not None and reminder.protect_content
    assert reminder.text.startswith(f"⏰ Reminder: {label} has a doctor's visit on ")
    assert reminder.buttons == ["Reschedule", "Cancel the visit"]
    assert f"on {moscow(starts, sandbox_clock())}." in reminder.text

    # "Reschedule" leads to the calendar; the visit is moved to a later day.
    await user.press("Reschedule")
    await tap_free_day(user, after=msk_date(starts) + timedelta(days=1))  # two days later or more
    await tap(user, "at:")
    assert "Move the appointment?" in last_text(user)
    await tap(user, "ab:ok:")
    moved = await the_visit()
    assert moved > starts

    # The reminder planned for the old time is dropped; a day before the new time, a new one.
    sandbox_clock.set(starts - timedelta(hours=2) + timedelta(minutes=1))
    seen = len(user.messages)
    await worker.round(plan=True)
    assert about(seen, starts) == []
    sandbox_clock.set(moved - timedelta(hours=24) + timedelta(minutes=1))
    seen = len(user.messages)
    await worker.round(plan=True)
    [reminder] = about(seen, moved)
    assert reminder.buttons == ["Reschedule", "Cancel the visit"]

    # "Cancel the visit" cancels it after a confirmation ...
    cancel = reminder.button("Cancel the visit")  # this visit's reminder, not another's
    assert cancel is not None
    await user.press_data(reminder.message_id, str(cancel["callback_data"]))
    assert "Cancel this appointment?" in last_text(user)
    await user.press("Yes, cancel it")
    assert "The appointment is cancelled" in last_text(user)
    [visit] = [
        v for v in await sandbox.appointments_of(oleg.policy) if v.appointment_id == visit_id
    ]
    assert visit.status is AppointmentStatus.CANCELLED

    # ... and a cancelled visit gets no reminder two hours before.
    sandbox_clock.set(moved - timedelta(hours=2) + timedelta(minutes=1))
    seen = len(user.messages)
    await worker.round(plan=True)
    assert about(seen, moved) == []
    mine = [
        (r.status, r.outcome) for r in await outbox(stack, Kind.REMINDER) if r.subject == visit_id
    ]
    assert sorted(mine) == [(Status.SENT, "sent")] * 2 + [(Status.SKIPPED, "visit_changed")] * 2
