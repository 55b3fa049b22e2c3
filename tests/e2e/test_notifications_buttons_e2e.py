"""A notification stays in the chat: its buttons (Reschedule, Cancel the visit, Book again) open
their flow in a new message and leave the notification itself untouched, and still answer
honestly when pressed again later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from backend_client.models import AppointmentStatus
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.clock import msk_date
from backend_client.sandbox.simulation import Persona
from bot.clock import FrozenClock
from bot.emulator import UserDriver
from bot.emulator.models import CallbackAnswer, StoredMessage
from bot.offline import OfflineStack
from tests.e2e.booking import tap, with_button
from tests.e2e.notifications_support import (
    book_a_visit,
    calendar_data,
    everyone_reads_the_sandbox_clock,
    shown,
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

# ----- a notification stays in the chat: its buttons open their flow in a new message --------


@dataclass(frozen=True)
class Kept:
    """A notification as the user saw it when it arrived."""

    message_id: int
    text: str | None
    html: str
    buttons: list[str]

    @classmethod
    def of(cls, message: StoredMessage) -> Kept:
        return cls(message.message_id, message.text, message.html, message.buttons)

    def assert_intact(self, user: UserDriver) -> None:
        now = shown(user, self.message_id)
        assert not now.deleted
        assert (now.text, now.html, now.buttons) == (self.text, self.html, self.buttons)
        assert now.edit_date is None
        assert not [e for e in user.edits if e.message_id == self.message_id]


async def press_on(user: UserDriver, kept: Kept, text: str) -> tuple[CallbackAnswer, StoredMessage]:
    """Press a notification's button; returns the answer and the one new message it brought."""
    note = shown(user, kept.message_id)
    button = note.button(text)
    assert button is not None, note.buttons
    before = {m.message_id for m in user.messages}
    answer = await user.press_data(kept.message_id, str(button["callback_data"]))
    kept.assert_intact(user)
    [new] = [m for m in user.messages if m.message_id not in before]
    return answer, new


async def a_reminder(
    stack: OfflineStack,
    sandbox: SandboxBackend,
    sandbox_clock: FrozenClock,
    worker: Worker,
    telegram_id: int,
) -> tuple[UserDriver, Persona, str, Kept]:
    """Oleg books a visit through the bot and gets its reminder a day before."""
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, telegram_id, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    visit_id = await book_a_visit(user, sandbox, oleg.policy, day=1)
    [visit] = [
        v for v in await sandbox.appointments_of(oleg.policy) if v.appointment_id == visit_id
    ]
    sandbox_clock.set(visit.starts_at - timedelta(hours=24) + timedelta(minutes=1))
    assert (await worker.round(plan=True)).sent == 1
    reminder = user.last_message
    assert (reminder.text or "").startswith("⏰ Reminder:")
    assert reminder.buttons == ["Reschedule", "Cancel the visit"]
    return user, oleg, visit_id, Kept.of(reminder)


async def test_reschedule_from_a_reminder_opens_a_new_message_and_keeps_the_reminder(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock, worker: Worker
) -> None:
    user, oleg, visit_id, reminder = await a_reminder(stack, sandbox, sandbox_clock, worker, 8601)

    answer, calendar = await press_on(user, reminder, "Reschedule")
    assert not answer.show_alert
    assert calendar.protect_content
    assert "Choose a day" in (calendar.text or "")
    assert calendar_data(calendar, "cal:d:")

    # The next steps go on in the new message; the reminder is not touched.
    day = await tap_free_day(user)
    times = shown(user, calendar.message_id)
    assert "choose a time" in (times.text or "")
    assert calendar_data(times, "at:")
    assert with_button(user, "at:")[0].message_id == calendar.message_id
    reminder.assert_intact(user)
    await tap(user, "at:")
    assert "Move the appointment?" in (shown(user, calendar.message_id).text or "")
    await tap(user, "ab:ok:")
    assert "The appointment is moved" in (shown(user, calendar.message_id).text or "")
    [visit] = [
        v for v in await sandbox.appointments_of(oleg.policy) if v.appointment_id == visit_id
    ]
    assert msk_date(visit.starts_at) == day and visit.status is AppointmentStatus.BOOKED
    reminder.assert_intact(user)

    # The reminder's button still works later: a fresh calendar, in a new message again.
    answer, again = await press_on(user, reminder, "Reschedule")
    assert not answer.show_alert and "Choose a day" in (again.text or "")
    assert again.message_id != calendar.message_id


async def test_cancel_from_a_reminder_asks_in_a_new_message_and_keeps_the_reminder(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock, worker: Worker
) -> None:
    user, oleg, visit_id, reminder = await a_reminder(stack, sandbox, sandbox_clock, worker, 8602)

    # Forged data in the reminder's own format is refused as before: not this user's person.
    seen = len(user.messages)
    forged = await user.press_data(reminder.message_id, f"av:c:999999:{visit_id}:1")
    assert forged.show_alert
    reminder.assert_intact(user)
    assert "Cancel this appointment?" not in "".join(m.text or "" for m in user.messages[seen:])

    answer, ask = await press_on(user, reminder, "Cancel the visit")
    assert not answer.show_alert and ask.protect_content
    assert "Cancel this appointment?" in (ask.text or "")
    assert ask.buttons == ["Yes, cancel it", "No, keep it"]

    await user.press_data(
        ask.message_id, str((ask.button("Yes, cancel it") or {})["callback_data"])
    )
    assert "The appointment is cancelled" in (shown(user, ask.message_id).text or "")
    [visit] = [
        v for v in await sandbox.appointments_of(oleg.policy) if v.appointment_id == visit_id
    ]
    assert visit.status is AppointmentStatus.CANCELLED
    reminder.assert_intact(user)

    # Pressed again, the reminder's buttons say honestly that the visit cannot be changed.
    for text in ("Cancel the visit", "Reschedule"):
        answer, shown_now = await press_on(user, reminder, text)
        assert answer.show_alert and "can no longer be changed" in (answer.text or "")
        assert "Reschedule" not in shown_now.buttons


async def test_book_again_after_a_clinic_cancellation_keeps_the_notice(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock, worker: Worker
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 8603, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    visit_id = await book_a_visit(user, sandbox, oleg.policy, day=0)
    await worker.feed()  # the feed's start: the booking itself is not news
    await sandbox.clinic_cancel(visit_id)
    assert (await worker.round()).sent == 1
    note = Kept.of(user.last_message)
    assert (note.text or "").startswith("❌ The clinic cancelled the visit of ")
    assert note.buttons == ["Book again"]

    answer, what = await press_on(user, note, "Book again")
    assert not answer.show_alert and what.protect_content
    # The same doctor's calendar (issue 14, 11d), not the specialty list.
    assert "Choose a day" in (what.text or "") or "No free times" in (what.text or "")
    assert calendar_data(what, "ab:x:") and not calendar_data(what, "ap:s:")

    # Leaving the calendar edits the new message, not the notice.
    await tap(user, "ab:x:")
    left = shown(user, what.message_id)
    assert "Cancelled." in (left.text or "")
    note.assert_intact(user)
