"""Notifications as a person gets them: cards linked through the real bot, the clinic acting in
the sandbox, then one round of the worker's own jobs (feed intake, reminder planning, delivery
through the real Telegram adapter) into the emulator, and the person pressing what arrived."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from backend_client.models import AppointmentStatus
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.clock import MSK, at_msk, msk_date
from backend_client.sandbox.simulation import Persona
from bot.clock import FrozenClock
from bot.crypto import FieldCipher
from bot.db.models import LinkedPerson, User
from bot.db.notifications_models import OutboxMessage
from bot.emulator import UserDriver
from bot.emulator.models import CallbackAnswer, StoredMessage
from bot.offline import OfflineStack
from bot.services.linking import PURPOSE_LABEL
from bot.services.notifications.kinds import Kind
from bot.services.notifications.outbox import Status
from tests.e2e.booking import tap, with_button
from tests.e2e.helpers import last_text
from tests.e2e.people import code_sent_to, link_own_card, new_user, persona
from tests.e2e.worker import Worker, at_noon_in_moscow

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning"),
]

RECORDS = "Appointments and the medical record"
APPOINTMENTS = "Appointments only"


@pytest.fixture(autouse=True)
def everyone_reads_the_sandbox_clock(stack: OfflineStack, sandbox_clock: FrozenClock) -> None:
    at_noon_in_moscow(stack, sandbox_clock)


@pytest.fixture
def worker(stack: OfflineStack) -> Worker:
    return Worker(stack)


# ----- people -------------------------------------------------------------------------------


async def link_relative(
    user: UserDriver, sandbox: SandboxBackend, who: Persona, label: str, scope: str
) -> None:
    await user.press("👨‍👩‍👧 My people")
    await user.press("➕ A relative's policy")
    if "📱 Share my phone number" in user.reply_keyboard:
        await user.press("📱 Share my phone number")
    await user.send_text(label)
    await user.send_text(who.policy)
    await user.send_text(f"{who.birth_date:%d.%m.%Y}")
    await user.press(scope)
    await user.press("6 months")
    await user.send_text(await code_sent_to(sandbox, who.phone))
    assert f"{label} is now in My people" in last_text(user)


async def own_label(stack: OfflineStack, telegram_id: int) -> str:
    async with stack.app.sessionmaker() as db:
        row = (
            await db.scalars(
                select(LinkedPerson)
                .join(User, User.id == LinkedPerson.user_id)
                .where(User.telegram_id == telegram_id)
            )
        ).one()
    return FieldCipher(stack.app.keys).decrypt(row.label_enc, purpose=PURPOSE_LABEL)


async def outbox(stack: OfflineStack, kind: Kind) -> list[OutboxMessage]:
    async with stack.app.sessionmaker() as db:
        rows = await db.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind.value).order_by(OutboxMessage.id)
        )
        return list(rows)


def shown(user: UserDriver, message_id: int) -> StoredMessage:
    """One message of the chat as the user sees it now (edits applied)."""
    return user.chat.messages[message_id]


async def tap_free_day(user: UserDriver, *, nth: int = 0, after: date | None = None) -> date:
    """Press the `nth` (from 0) day with free times on the newest calendar, later than `after`,
    turning its pages forward as a person would; returns the day pressed. Full days (✕) and
    days outside the window are not buttons of this kind, whatever today's date is."""
    message, _ = with_button(user, "cal:")
    skipped = 0
    for _page in range(3):
        calendar = shown(user, message.message_id)
        for data in calendar_data(calendar, "cal:d:"):
            day = datetime.strptime(data.removeprefix("cal:d:"), "%Y%m%d").date()
            if after is not None and day <= after:
                continue
            if skipped == nth:
                answer = await user.press_data(message.message_id, data)
                assert not answer.show_alert, answer.text
                return day
            skipped += 1
        [header, *_rows] = calendar.inline_keyboard
        forward = str(header[-1].get("callback_data", ""))
        if not forward.startswith("cal:m:"):
            break
        await user.press_data(message.message_id, forward)  # the next month, in place
    raise AssertionError(f"no free day to press; the user sees:\n{user.describe_buttons()}")


def calendar_data(message: StoredMessage, prefix: str) -> list[str]:
    return [
        str(b.get("callback_data"))
        for row in message.inline_keyboard
        for b in row
        if str(b.get("callback_data", "")).startswith(prefix)
    ]


async def book_a_visit(user: UserDriver, sandbox: SandboxBackend, policy: str, day: int) -> str:
    """Book through the bot the first free time on the `day`-th (from 0) day with free times
    of the first doctor; returns the visit id."""
    before = {v.appointment_id for v in await sandbox.appointments_of(policy)}
    await user.press("📅 Book a doctor")
    await tap(user, "ap:s:")
    await tap(user, "ap:d:")
    await tap_free_day(user, nth=day)
    await tap(user, "at:")
    await tap(user, "ab:ok:")
    [new] = [v for v in await sandbox.appointments_of(policy) if v.appointment_id not in before]
    return new.appointment_id


def moscow(moment: datetime, now: datetime) -> str:
    """How the bot writes a visit's time at `now`: Moscow time, "25 November, 08:00", with the
    year when it is not this (Moscow) year: "4 January 2027, 14:00"."""
    local = moment.astimezone(MSK)
    year = "" if local.year == now.astimezone(MSK).year else f" {local.year}"
    return f"{local.day} {local:%B}{year}, {local:%H:%M}"


def no_values(text: str) -> None:
    """A lock screen shows it: a label and the kind of news, no numbers, names of tests."""
    assert not re.search(r"\d", text), text


# ----- the tests ----------------------------------------------------------------------------


async def test_result_ready_reaches_the_owner_and_a_records_relative_only(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock, worker: Worker
) -> None:
    galina = await persona(sandbox, "elderly_mother")
    owner = await new_user(stack, 8101, "Galina", galina.phone)
    await link_own_card(owner, sandbox, galina)
    sandbox_clock.advance(seconds=61)
    daughter = await new_user(stack, 8102, "Anna", (await persona(sandbox, "mother")).phone)
    await link_relative(daughter, sandbox, galina, "Mum <Galya> & Co", RECORDS)
    sandbox_clock.advance(seconds=61)
    neighbour = await new_user(stack, 8103, "Oleg", (await persona(sandbox, "single")).phone)
    await link_relative(neighbour, sandbox, galina, "Galina", APPOINTMENTS)
    seen = {u.id: len(u.messages) for u in (owner, daughter, neighbour)}

    entry_id = await sandbox.publish_result(
        patient_id=galina.patient_id, panel="hba1c", abnormal=True
    )
    stats = await worker.round()

    assert stats.sent == 2 and stats.failed == 0
    assert len(neighbour.messages) == seen[neighbour.id]  # appointments only: nothing
    expected = {
        daughter: "🧪 A new lab result is ready for Mum <Galya> & Co.",
        owner: f"🧪 A new lab result is ready for {await own_label(stack, owner.id)}.",
    }
    for user, text in expected.items():
        assert len(user.messages) == seen[user.id] + 1
        note = user.last_message
        assert note.text == text and note.protect_content
        no_values(note.text)
        assert "HbA1c" not in note.html and "гликир" not in note.html.lower()
        assert note.buttons == ["Open"]
        answer = await user.press("Open")
        assert answer is not None and not answer.show_alert
        document = user.last_message
        assert document.message_id != note.message_id
        assert document.protect_content and "HbA1c" in document.html
    # The notification led to this very result.
    _, [data] = with_button(daughter, "rd:o:")
    assert data.endswith(entry_id)
    assert all(r.status == Status.SENT for r in await outbox(stack, Kind.RESULT_READY))


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
    # The button starts booking for Mum again.
    answer = await anna.press("Book again")
    assert answer is not None and not answer.show_alert
    with_button(anna, "ap:s:")
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


async def test_revoked_access_stops_queued_news_and_old_open_buttons(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: FrozenClock, worker: Worker
) -> None:
    galina = await persona(sandbox, "elderly_mother")
    owner = await new_user(stack, 8401, "Galina", galina.phone)
    await link_own_card(owner, sandbox, galina)
    sandbox_clock.advance(seconds=61)
    anna = await new_user(stack, 8402, "Anna", (await persona(sandbox, "mother")).phone)
    await link_relative(anna, sandbox, galina, "Mum", RECORDS)
    await sandbox.publish_result(patient_id=galina.patient_id, panel="cbc")
    assert (await worker.round()).sent == 2
    old_note = anna.last_message
    assert old_note.buttons == ["Open"]

    # A second result is queued; then the owner revokes Anna's access in the bot.
    await sandbox.publish_result(patient_id=galina.patient_id, panel="lipid")
    await worker.feed()
    assert [r.status for r in await outbox(stack, Kind.RESULT_READY)][-2:] == [Status.PENDING] * 2
    await owner.press("🔑 Who has access")
    [revoke] = [b for b in owner.last_message.buttons if b.startswith("❌ Revoke")]
    await owner.press(revoke)
    await owner.press("Yes, revoke")
    assert "Access revoked" in last_text(owner)

    seen = len(anna.messages)
    stats = await worker.deliver()
    assert stats.sent == 1 and stats.skipped == 1  # the owner is told, Anna is not
    assert len(anna.messages) == seen
    assert "lab result" in last_text(owner)
    skipped = [r for r in await outbox(stack, Kind.RESULT_READY) if r.status == Status.SKIPPED]
    assert [r.outcome for r in skipped] == ["grant_gone"]

    # The Open button of the earlier notification is refused.
    _, [data] = with_button(anna, "rd:o:")
    answer = await anna.press_data(old_note.message_id, data)
    assert answer.show_alert and "revoked" in (answer.text or "")
    assert len(anna.messages) == seen


async def test_a_blocked_user_is_marked_and_left_alone_until_they_write_again(
    stack: OfflineStack, sandbox: SandboxBackend, worker: Worker
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 8501, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)

    async def blocked_at() -> datetime | None:
        async with stack.app.sessionmaker() as db:
            me = (await db.scalars(select(User).where(User.telegram_id == user.id))).one()
            return me.blocked_at

    # The bot missed Telegram's my_chat_member update for this block (it was offline for longer
    # than Telegram keeps updates): the first send's 403 is how it learns. Blocks the bot
    # hears about are in test_membership_e2e.py.
    stack.world.users[user.id].blocked_bot = True
    seen = len(user.messages)
    await sandbox.publish_result(patient_id=oleg.patient_id, panel="cbc")
    stats = await worker.round()
    assert stats.blocked == 1 and stats.sent == 0
    assert stack.world.stats.forbidden == 1
    assert await blocked_at() is not None

    # Nothing more is even tried while they are away.
    await sandbox.publish_result(patient_id=oleg.patient_id, panel="bio")
    stats = await worker.round()
    assert stats.skipped == 1 and stats.blocked == 0 and stats.sent == 0
    assert stack.world.stats.forbidden == 1
    assert len(user.messages) == seen
    assert [r.outcome for r in await outbox(stack, Kind.RESULT_READY)] == ["blocked", "blocked"]

    # They write to the bot again: they are back, and the next news reaches them.
    await user.send_command("/start")
    assert await blocked_at() is None
    seen = len(user.messages)
    await sandbox.publish_result(patient_id=oleg.patient_id, panel="lipid")
    assert (await worker.round()).sent == 1
    assert len(user.messages) == seen + 1
    assert "A new lab result is ready" in last_text(user)


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
    assert "Which doctor do you need?" in (what.text or "")
    assert calendar_data(what, "ap:s:")

    # Choosing a specialty edits the new message, not the notice.
    await tap(user, "ap:s:")
    doctors = shown(user, what.message_id)
    assert "Choose a doctor" in (doctors.text or "") and calendar_data(doctors, "ap:d:")
    note.assert_intact(user)
