""" "My data" as a flow, without a messenger: the summary, withdrawing consent and /forget
(each asks first and says what happens to the access one gave), "No, keep it", and button
ids that the Telegram CallbackData factories still parse (old buttons in chats keep working).
Cards are linked through the bot first; then the flow is called directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from backend_client.errors import BackendUnavailable
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.flows import privacy as flow
from bot.flows.context import FlowContext
from bot.flows.screens import Placement, Screen
from bot.keys import AppKeys
from bot.services.privacy import StoredSummary
from bot.settings import Settings
from keyboards.people import AccessAction, AccessCb
from keyboards.privacy import PrivacyAction, PrivacyCb
from tests.unit.flow_context import english_context
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.test_owner_revokes_access import daughter_has_access, owner_and_daughter

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

OWNER = 7400


def same(text: str) -> str:
    return text


def ids(screen: Screen) -> list[str]:
    return [b.action for b in screen.buttons]


class GrantsDown:
    """The sandbox, except that who has access to a card cannot be asked right now."""

    def __init__(self, inner: SandboxBackend) -> None:
        self._inner = inner

    async def list_grants_given(self, *args: Any, **kwargs: Any) -> Any:
        raise BackendUnavailable("down")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
async def context_of(
    sessionmaker: SessionMaker,
    clock: FrozenClock,
    backend: SandboxBackend,
    keys: AppKeys,
    settings: Settings,
) -> AsyncIterator[Any]:
    async with sessionmaker() as session:

        async def make(telegram_id: int, *, grants_down: bool = False) -> FlowContext | None:
            user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
            if user is None:
                return None
            used: Any = GrantsDown(backend) if grants_down else backend
            return english_context(user, session, clock, backend=used, keys=keys, settings=settings)

        yield make


def test_with_an_own_card_access_and_journal_come_first() -> None:
    screen = flow.summary_screen(StoredSummary(True, 2, True), same)
    assert ids(screen) == [flow.ACCESS_LIST, flow.JOURNAL, flow.WITHDRAW, flow.FORGET]
    assert "consent given: yes" in screen.text and "linked people: 2" in screen.text


def test_without_an_own_card_there_is_nothing_to_show_access_to() -> None:
    screen = flow.summary_screen(StoredSummary(False, 0, False), same)
    assert ids(screen) == [flow.WITHDRAW, flow.FORGET]
    assert "consent given: no" in screen.text


def test_the_ids_are_what_the_telegram_factories_parse() -> None:
    assert AccessCb.unpack(flow.ACCESS_LIST).action is AccessAction.LIST
    assert AccessCb.unpack(flow.ACCESS_LIST).pack() == flow.ACCESS_LIST
    expected = {
        flow.JOURNAL: PrivacyAction.JOURNAL,
        flow.WITHDRAW: PrivacyAction.WITHDRAW,
        flow.WITHDRAW_CONFIRM: PrivacyAction.WITHDRAW_CONFIRM,
        flow.FORGET: PrivacyAction.FORGET,
        flow.FORGET_CONFIRM: PrivacyAction.FORGET_CONFIRM,
        flow.KEEP: PrivacyAction.KEEP,
    }
    for action, parsed in expected.items():
        assert PrivacyCb.unpack(action).action is parsed
        assert PrivacyCb(action=parsed).pack() == action


async def test_the_summary_counts_what_is_kept(
    chat_for: Any, backend: SandboxBackend, context_of: Any
) -> None:
    await owner_and_daughter(chat_for, backend, OWNER)
    [owner] = await flow.summary(await context_of(OWNER))
    assert "linked people: 1" in owner.text and ids(owner)[:2] == [flow.ACCESS_LIST, flow.JOURNAL]
    [daughter] = await flow.summary(await context_of(OWNER + 1))
    assert "linked people: 1" in daughter.text and ids(daughter) == [flow.WITHDRAW, flow.FORGET]


async def test_withdrawing_asks_then_keeps_the_access_given(
    chat_for: Any, backend: SandboxBackend, context_of: Any
) -> None:
    await owner_and_daughter(chat_for, backend, OWNER + 10)
    ctx = await context_of(OWNER + 10)

    [question] = await flow.withdraw_asked(ctx)
    assert question.placement is Placement.EDIT and question.text.startswith("Withdraw consent?")
    assert "stays until you revoke it: " in question.text and "Анна" in question.text
    assert "/forget deletes everything" in question.text  # she has a card in My people
    assert ids(question) == [flow.WITHDRAW_CONFIRM, flow.ACCESS_LIST, flow.KEEP]
    assert [b.text for b in question.buttons][0::2] == ["Yes, withdraw", "No, keep it"]
    assert ctx.user.has_consent  # asking withdraws nothing

    popup, done, hidden = await flow.withdraw_confirmed(ctx)
    assert (popup.placement, popup.text) == (Placement.POPUP, "Consent withdrawn")
    assert done.placement is Placement.EDIT
    assert done.text.startswith("Consent withdrawn. To use the bot again, send /start.")
    assert "Access to your card stays: " in done.text and "Анна" in done.text
    assert ids(done) == [flow.ACCESS_LIST]
    assert hidden.text == "The menu is hidden." and hidden.remove_reply_keyboard
    assert hidden.placement is Placement.NEW
    assert not ctx.user.has_consent and ctx.user.consent_withdrawn_at is not None
    assert await daughter_has_access(backend, OWNER + 11)  # withdrawing ends nobody's access


async def test_withdrawing_when_the_backend_cannot_say_who_has_access(
    chat_for: Any, backend: SandboxBackend, context_of: Any
) -> None:
    await owner_and_daughter(chat_for, backend, OWNER + 20)
    ctx = await context_of(OWNER + 20, grants_down=True)
    [question] = await flow.withdraw_asked(ctx)
    assert "If you gave anyone access to your card, they keep it until" in question.text
    assert ids(question) == [flow.WITHDRAW_CONFIRM, flow.ACCESS_LIST, flow.KEEP]
    _popup, done, _hidden = await flow.withdraw_confirmed(ctx)
    assert "If you gave anyone access to your card, they keep it. " in done.text
    assert ids(done) == [flow.ACCESS_LIST]
    [forget] = await flow.forget_asked(ctx, in_place=False)
    assert "• any access to your card that you gave to others" in forget.text
    assert "withdraw consent instead" in forget.text


async def test_withdrawing_with_nothing_given_says_only_that(
    chat_for: Any, context_of: Any
) -> None:
    await chat_for(OWNER + 30)
    ctx = await context_of(OWNER + 30)
    [question] = await flow.withdraw_asked(ctx)
    assert "\n\n" not in question.text and "/forget" in question.text
    assert ids(question) == [flow.WITHDRAW_CONFIRM, flow.KEEP]
    _popup, done, hidden = await flow.withdraw_confirmed(ctx)
    assert done.text == "Consent withdrawn. To use the bot again, send /start."
    assert done.rows == () and hidden.remove_reply_keyboard


async def test_forget_asks_says_what_ends_and_then_ends_it(
    chat_for: Any, backend: SandboxBackend, context_of: Any
) -> None:
    await owner_and_daughter(chat_for, backend, OWNER + 40)
    owner = await context_of(OWNER + 40)

    [question] = await flow.forget_asked(owner, in_place=False)
    assert question.placement is Placement.NEW
    assert question.text.startswith("Delete everything the bot keeps about you?")
    assert "• your access to 1 card in My people" in question.text
    assert "• the access to your card that you gave: " in question.text
    assert "Анна" in question.text and "withdraw consent instead" in question.text
    assert ids(question) == [flow.FORGET_CONFIRM, flow.KEEP]
    [pressed] = await flow.forget_asked(owner, in_place=True)
    assert pressed.placement is Placement.EDIT and pressed.text == question.text
    assert await daughter_has_access(backend, OWNER + 41)  # asking deletes nothing

    # The daughter has no own card: only her side is named.
    [hers] = await flow.forget_asked(await context_of(OWNER + 41), in_place=False)
    assert "your access to 1 card in My people" in hers.text
    assert "that you gave" not in hers.text and "withdraw consent" not in hers.text

    popup, done, hidden = await flow.forget_confirmed(owner)
    assert (popup.placement, popup.text) == (Placement.POPUP, "Deleted")
    assert done.placement is Placement.EDIT and done.rows == ()
    assert done.text.startswith("Everything the bot kept about you has been deleted.")
    assert hidden.remove_reply_keyboard and hidden.text == "The menu is hidden."
    assert not await daughter_has_access(backend, OWNER + 41)
    assert await context_of(OWNER + 40) is None  # the row is gone


async def test_forget_with_nobody_linked_is_one_line(chat_for: Any, context_of: Any) -> None:
    await chat_for(OWNER + 50)
    [question] = await flow.forget_asked(await context_of(OWNER + 50), in_place=True)
    assert question.text == "Delete everything the bot keeps about you? This cannot be undone."


def test_keep_it_changes_nothing_and_takes_the_buttons_off(clock: FrozenClock) -> None:
    ctx = english_context(User(telegram_id=OWNER + 60), None, clock)
    popup, strip = flow.kept(ctx)
    assert (popup.placement, popup.text) == (Placement.POPUP, "Nothing changed")
    assert strip.placement is Placement.STRIP
