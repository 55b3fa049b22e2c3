"""Notifications as a person gets them, for lab results and access: cards linked through the real
bot, the clinic publishing results in the sandbox, one round of the worker's own jobs into the
emulator — a result reaches the owner and a records relative only, revoked access stops queued
news and old Open buttons, and a blocked user is left alone until they write again."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.models import User
from bot.offline import OfflineStack
from bot.services.notifications.kinds import Kind
from bot.services.notifications.outbox import Status
from bot.services.notifications.render import one_full_stop
from tests.e2e.booking import with_button
from tests.e2e.helpers import last_text
from tests.e2e.notifications_support import (
    APPOINTMENTS,
    RECORDS,
    everyone_reads_the_sandbox_clock,
    link_relative,
    no_values,
    outbox,
    own_label,
    worker,
)
from tests.e2e.people import link_own_card, new_user, persona
from tests.e2e.worker import Worker

__all__ = ["everyone_reads_the_sandbox_clock", "worker"]  # fixtures these tests use

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning"),
]


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
        # Her label is "Галина К.": the sentence ends with one full stop, not two.
        owner: one_full_stop(
            f"🧪 A new lab result is ready for {await own_label(stack, owner.id)}."
        ),
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
    # The bot recorded the revocation itself (`revoked_at`): the row is no access any more,
    # before the backend is even asked.
    assert [r.outcome for r in skipped] == ["no_access"]

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
