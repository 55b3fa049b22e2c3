"""Blocking and unblocking the bot, as Telegram reports it (`my_chat_member`): the bot stops
sending at once, without waiting for a 403, and starts again when the person comes back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from aiogram.types import ChatMemberAdministrator
from sqlalchemy import func, select

from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.models import User
from bot.db.notifications_models import OutboxMessage
from bot.emulator import UserDriver
from bot.offline import OfflineStack
from bot.services.notifications.kinds import Kind
from tests.e2e.helpers import last_text
from tests.e2e.people import link_own_card, new_user, persona
from tests.e2e.worker import Worker, at_noon_in_moscow

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning"),
]

RESULT_READY = "A new lab result is ready"


@pytest.fixture(autouse=True)
def on_the_sandbox_clock_at_noon(stack: OfflineStack, sandbox_clock: FrozenClock) -> None:
    at_noon_in_moscow(stack, sandbox_clock)


@pytest.fixture
async def worker(stack: OfflineStack) -> Worker:
    started = Worker(stack)
    await started.round()  # the feed's cursor starts here
    return started


# ----- steps --------------------------------------------------------------------------------


async def settle_membership(stack: OfflineStack, change: Any) -> None:
    """Do `change` (block, unblock, a forged update) and wait until the bot has handled the
    `my_chat_member` update it produces; fails if Telegram would not even deliver it."""
    world = stack.world
    before = [u.update_id for u in world.updates]
    change()
    new = [u for u in world.updates if u.update_id not in before]
    assert [u.kind for u in new] == ["my_chat_member"], "the bot does not receive my_chat_member"
    await world.settle(new[0].update_id, timeout=5.0)


async def row(stack: OfflineStack, telegram_id: int) -> User | None:
    async with stack.app.sessionmaker() as db:
        return await db.scalar(select(User).where(User.telegram_id == telegram_id))


async def blocked_at(stack: OfflineStack, telegram_id: int) -> datetime | None:
    me = await row(stack, telegram_id)
    assert me is not None
    return me.blocked_at


async def user_count(stack: OfflineStack) -> int:
    async with stack.app.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(User)) or 0)


async def outcomes(stack: OfflineStack) -> list[str | None]:
    async with stack.app.sessionmaker() as db:
        rows = await db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == Kind.RESULT_READY.value)
            .order_by(OutboxMessage.id)
        )
        return [r.outcome for r in rows]


def membership_update(
    stack: OfflineStack, user: UserDriver, old: str, new: str, *, chat: dict[str, Any] | None = None
) -> None:
    """A `my_chat_member` update as a client could forge it (or Telegram send it for a group)."""
    record = stack.world.users[user.id]
    bot = stack.world.bot_user()
    stack.world.enqueue(
        "my_chat_member",
        {
            "chat": chat or record.chat_api(),
            "from": record.to_api(),
            "date": stack.world.now(),
            "old_chat_member": {"status": old, "user": bot, **_extra(old)},
            "new_chat_member": {"status": new, "user": bot, **_extra(new)},
        },
    )


def _extra(status: str) -> dict[str, Any]:
    """The fields Telegram's ChatMember variants require beyond status and user."""
    if status == "kicked":
        return {"until_date": 0}
    if status == "left" or status == "member":
        return {}
    if status == "administrator":  # every right the model requires, none granted
        fields = ChatMemberAdministrator.model_fields
        return {
            name: False
            for name, info in fields.items()
            if info.is_required() and name not in ("status", "user")
        }
    raise AssertionError(status)


# ----- the tests ----------------------------------------------------------------------------


async def test_a_block_stops_notifications_at_once_and_an_unblock_lets_them_flow_again(
    stack: OfflineStack, sandbox: SandboxBackend, worker: Worker
) -> None:
    assert "my_chat_member" in stack.world.allowed_updates
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 8601, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    seen = len(user.messages)

    await settle_membership(stack, user.block_bot)
    assert await blocked_at(stack, user.id) is not None
    assert len(user.messages) == seen  # nothing is sent into a blocked chat
    assert stack.world.stats.forbidden == 0

    # The news is skipped before any send is tried: no 403 is needed to learn of the block.
    await sandbox.publish_result(patient_id=oleg.patient_id, panel="cbc")
    stats = await worker.round()
    assert stats.skipped == 1 and stats.sent == 0 and stats.blocked == 0
    assert stack.world.stats.forbidden == 0
    assert await outcomes(stack) == ["blocked"]
    assert len(user.messages) == seen

    # They unblock the bot from Telegram's menu: nothing is said, but the next news arrives.
    await settle_membership(stack, user.unblock_bot)
    assert await blocked_at(stack, user.id) is None
    assert len(user.messages) == seen
    await sandbox.publish_result(patient_id=oleg.patient_id, panel="lipid")
    assert (await worker.round()).sent == 1
    assert len(user.messages) == seen + 1
    assert RESULT_READY in last_text(user)
    assert stack.world.stats.forbidden == 0


async def test_writing_to_the_bot_after_a_block_brings_the_person_back(
    stack: OfflineStack, sandbox: SandboxBackend, worker: Worker
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 8602, "Oleg", oleg.phone)
    await link_own_card(user, sandbox, oleg)
    await settle_membership(stack, user.block_bot)
    first_block = await blocked_at(stack, user.id)
    assert first_block is not None

    # A repeated block (Telegram resends, or the bot's own 403 came first) keeps the moment.
    await settle_membership(stack, lambda: membership_update(stack, user, "member", "kicked"))
    assert await blocked_at(stack, user.id) == first_block

    # Restart: Telegram reports the unblock, then the /start it sends; the menu answers.
    await user.send_command("/start")
    assert await blocked_at(stack, user.id) is None
    assert user.messages  # the /start was answered as usual
    seen = len(user.messages)
    await sandbox.publish_result(patient_id=oleg.patient_id, panel="bio")
    assert (await worker.round()).sent == 1
    assert len(user.messages) == seen + 1
    assert RESULT_READY in last_text(user)


async def test_a_block_from_someone_the_bot_never_saw_creates_nothing(
    stack: OfflineStack,
) -> None:
    before = await user_count(stack)
    stranger = stack.world.user(8603, "Stranger", language_code="en")

    await settle_membership(stack, stranger.block_bot)
    await settle_membership(stack, stranger.unblock_bot)

    assert await row(stack, stranger.id) is None
    assert await user_count(stack) == before
    assert stranger.messages == []
    assert stack.world.stats.forbidden == 0


async def test_a_block_before_consent_is_recorded_and_sends_nothing(stack: OfflineStack) -> None:
    user = stack.world.user(8604, "Vera", language_code="en")
    await user.send_command("/start")
    await user.press("🇬🇧 English")  # at the consent screen, not agreed yet
    seen = len(user.messages)

    await settle_membership(stack, user.block_bot)
    me = await row(stack, user.id)
    assert me is not None and not me.has_consent and me.blocked_at is not None
    assert len(user.messages) == seen

    await user.send_command("/start")  # restart: the bot answers and they are back
    assert await blocked_at(stack, user.id) is None
    assert len(user.messages) > seen


async def test_forged_or_odd_membership_updates_change_nothing(
    stack: OfflineStack, sandbox: SandboxBackend
) -> None:
    oleg = await persona(sandbox, "single")
    user = await new_user(stack, 8605, "Oleg", oleg.phone)
    other = await new_user(stack, 8606, "Olga", (await persona(sandbox, "mother")).phone)
    before = await user_count(stack)
    seen = len(user.messages), len(other.messages)
    group = {"id": -100123, "type": "supergroup", "title": "Clinic chat"}

    odd = [
        # The bot removed from a group the user is in is not the user blocking it.
        ("member", "kicked", group),
        ("left", "member", group),
        ("member", "administrator", group),
        # Statuses a private chat never has, and no change at all.
        ("member", "left", None),
        ("member", "administrator", None),
        ("member", "member", None),
        # The user's own update about someone else's private chat.
        ("member", "kicked", stack.world.users[other.id].chat_api()),
    ]
    for old, new, chat in odd:
        await settle_membership(
            stack, lambda o=old, n=new, c=chat: membership_update(stack, user, o, n, chat=c)
        )
        assert await blocked_at(stack, user.id) is None, (old, new, chat)
        assert await blocked_at(stack, other.id) is None, (old, new, chat)

    # And a stranger's odd updates create no rows.
    stranger = stack.world.user(8607, "Stranger")
    await settle_membership(
        stack, lambda: membership_update(stack, stranger, "member", "kicked", chat=group)
    )
    await settle_membership(stack, lambda: membership_update(stack, stranger, "kicked", "member"))

    assert await user_count(stack) == before
    assert (len(user.messages), len(other.messages)) == seen
    assert stranger.messages == []

    # An unblock while not blocked is harmless too.
    await settle_membership(stack, lambda: membership_update(stack, user, "kicked", "member"))
    assert await blocked_at(stack, user.id) is None
    assert len(user.messages) == seen[0]
