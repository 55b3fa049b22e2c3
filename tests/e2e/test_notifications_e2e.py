"""Notifications as a person gets them: cards linked through the real bot, the clinic acting in
the sandbox, then one round of the worker's own jobs (feed intake, reminder planning, delivery
through the real Telegram adapter) into the emulator, and the person pressing what arrived."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from backend_client.models import AppointmentStatus
from backend_client.sandbox import ManualClock, SandboxBackend
from backend_client.sandbox.clock import MSK, at_msk, msk_date
from backend_client.sandbox.simulation import Persona
from bot.crypto import FieldCipher
from bot.db.models import LinkedPerson, User
from bot.db.notifications_models import OutboxMessage
from bot.emulator import UserDriver
from bot.emulator.models import CallbackAnswer, StoredMessage
from bot.notify_worker import create_delivery
from bot.offline import OfflineStack
from bot.services.linking import PURPOSE_LABEL
from bot.services.notifications.delivery import DeliveryStats
from bot.services.notifications.intake import follow_feed_once
from bot.services.notifications.kinds import Kind
from bot.services.notifications.outbox import Status
from bot.services.notifications.planner import plan_reminders
from tests.e2e.helpers import last_text
from tests.e2e.people import code_sent_to, link_own_card, new_user, persona

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning"),
]

RECORDS = "Appointments and the medical record"
APPOINTMENTS = "Appointments only"
NOTIFY_MODULES = ("outbox", "delivery", "planner", "prepare", "recipients")


@pytest.fixture(autouse=True)
def everyone_reads_the_sandbox_clock(
    stack: OfflineStack, sandbox_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot's handlers and the worker's jobs both read the sandbox's clock, moved on to the
    next noon in Moscow: no test depends on the hour it runs at (quiet hours 22:00-08:00)."""
    stack.app.dispatcher["clock"] = sandbox_clock
    for module in NOTIFY_MODULES:
        monkeypatch.setattr(f"bot.services.notifications.{module}.utcnow", sandbox_clock)
    now = sandbox_clock()
    noon = at_msk(msk_date(now), 12)
    sandbox_clock.set(noon if noon > now else noon + timedelta(days=1))


class Worker:
    """What `python -m bot worker` runs, one deterministic round at a time."""

    def __init__(self, stack: OfflineStack) -> None:
        self.app = stack.app
        self.cipher = FieldCipher(stack.app.keys)
        self.started = False

    async def feed(self) -> None:
        if not self.started:  # the very first call only creates the cursor (the feed's start)
            await follow_feed_once(self.app.sessionmaker, self.app.backend, self.cipher)
            self.started = True
        for _ in range(20):
            if not await follow_feed_once(self.app.sessionmaker, self.app.backend, self.cipher):
                return
        raise AssertionError("the feed did not drain")

    async def plan(self) -> int:
        return await plan_reminders(self.app.sessionmaker, self.app.backend, self.app.keys)

    async def deliver(self) -> DeliveryStats:
        """Claim and handle every due row (a fresh worker process: its own pacing gate)."""
        delivery = create_delivery(self.app)
        for _ in range(20):
            if not await delivery.run_once():
                return delivery.stats
        raise AssertionError("the outbox did not drain")

    async def round(self, *, plan: bool = False) -> DeliveryStats:
        await self.feed()
        if plan:
            await self.plan()
        return await self.deliver()


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


def with_button(user: UserDriver, prefix: str) -> tuple[StoredMessage, list[str]]:
    for message in reversed(user.messages):
        found = [
            str(b.get("callback_data"))
            for row in message.inline_keyboard
            for b in row
            if str(b.get("callback_data", "")).startswith(prefix)
        ]
        if found:
            return message, found
    raise AssertionError(f"no button {prefix!r}; the user sees:\n{user.describe_buttons()}")


async def tap(user: UserDriver, prefix: str, nth: int = 0) -> CallbackAnswer:
    message, found = with_button(user, prefix)
    return await user.press_data(message.message_id, found[nth])


async def book_a_visit(user: UserDriver, sandbox: SandboxBackend, policy: str, day: int) -> str:
    """Book through the bot the first free time on the `day`-th (from 0) day with free times
    of the first doctor; returns the visit id."""
    before = {v.appointment_id for v in await sandbox.appointments_of(policy)}
    await user.press("📅 Book a doctor")
    await tap(user, "ap:s:")
    await tap(user, "ap:d:")
    await tap(user, "cal:d:", day)
    await tap(user, "at:")
    await tap(user, "ab:ok:")
    [new] = [v for v in await sandbox.appointments_of(policy) if v.appointment_id not in before]
    return new.appointment_id


def moscow(moment: datetime) -> str:
    """How the bot writes a visit's time: Moscow time, "25 November, 08:00"."""
    local = moment.astimezone(MSK)
    return f"{local.day} {local:%B, %H:%M}"


def no_values(text: str) -> None:
    """A lock screen shows it: a label and the kind of news, no numbers, names of tests."""
    assert not re.search(r"\d", text), text


# ----- the tests ----------------------------------------------------------------------------


async def test_result_ready_reaches_the_owner_and_a_records_relative_only(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: ManualClock, worker: Worker
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
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: ManualClock, worker: Worker
) -> None:
    galina = await persona(sandbox, "elderly_mother")
    anna = await new_user(stack, 8201, "Anna", (await persona(sandbox, "mother")).phone)
    await link_relative(anna, sandbox, galina, "Mum", APPOINTMENTS)
    visit_id = await book_a_visit(anna, sandbox, galina.policy, day=1)
    assert await worker.plan() >= 1
    reminders = await outbox(stack, Kind.REMINDER)
    assert [r.status for r in reminders if r.subject == visit_id] == [Status.PENDING]

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
    assert f"on {moscow(visit.starts_at)}." in note.text
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
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: ManualClock, worker: Worker
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

    # A day before the visit: the reminder, with buttons for the visit.
    starts = await the_visit()
    sandbox_clock.set(starts - timedelta(hours=24) + timedelta(minutes=1))
    seen = len(user.messages)
    stats = await worker.round(plan=True)
    assert stats.sent == 1 and len(user.messages) == seen + 1
    reminder = user.last_message
    assert reminder.text is not None and reminder.protect_content
    assert reminder.text.startswith(f"⏰ Reminder: {label} has a doctor's visit on ")
    assert reminder.buttons == ["Reschedule", "Cancel the visit"]
    assert f"on {moscow(starts)}." in reminder.text

    # "Reschedule" leads to the calendar; the visit is moved to a later day.
    await user.press("Reschedule")
    await tap(user, "cal:d:", 3)  # a day at least two days after the old visit's
    await tap(user, "at:")
    assert "Move the appointment?" in last_text(user)
    await tap(user, "ab:ok:")
    moved = await the_visit()
    assert moved > starts

    # The reminder planned for the old time is dropped; a day before the new time, a new one.
    sandbox_clock.set(starts - timedelta(hours=2) + timedelta(minutes=1))
    seen = len(user.messages)
    assert (await worker.round(plan=True)).sent == 0
    assert len(user.messages) == seen
    sandbox_clock.set(moved - timedelta(hours=24) + timedelta(minutes=1))
    assert (await worker.round(plan=True)).sent == 1
    assert user.last_message.buttons == ["Reschedule", "Cancel the visit"]

    # "Cancel the visit" cancels it after a confirmation ...
    await user.press("Cancel the visit")
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
    stats = await worker.round(plan=True)
    assert stats.sent == 0 and len(user.messages) == seen
    mine = [
        (r.status, r.outcome) for r in await outbox(stack, Kind.REMINDER) if r.subject == visit_id
    ]
    assert sorted(mine) == [(Status.SENT, "sent")] * 2 + [(Status.SKIPPED, "visit_changed")] * 2


async def test_revoked_access_stops_queued_news_and_old_open_buttons(
    stack: OfflineStack, sandbox: SandboxBackend, sandbox_clock: ManualClock, worker: Worker
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
    assert "is revoked" in last_text(owner)

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

    user.block_bot()
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
