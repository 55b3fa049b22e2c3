"""My people as a flow, without a messenger: the list, a person's card, removing (asked first,
and only once the question was shown), a forged or another user's id as an alert that changes
nothing, and the "for whom" picker; every button id is what Telegram's factories parse.
(Cards are linked through the bot first; then the flow is called directly.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from backend_client.models import Scope
from backend_client.sandbox import SandboxBackend
from bot.crypto import requester_id_for
from bot.db.engine import SessionMaker
from bot.flows import people as flow
from bot.flows.context import FlowContext
from bot.flows.screens import Placement, Screen
from bot.services.people import REMEMBERED_PERSON_KEY
from keyboards.people import PersonAction, PersonCb
from keyboards.policies import LinkKind, LinkStartCb
from tests.unit.flow_context import DictMemory, context_of
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import Chat, people_rows, persona

__all__ = ["backend", "chat_for", "clock", "context_of", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

ME = 7400


class Shown:
    """A renderer stand-in: keeps what the flow showed; `reaches` says whether it got there."""

    def __init__(self, reaches: bool = True) -> None:
        self.screens: list[Screen] = []
        self.reaches = reaches

    async def __call__(self, screens: Sequence[Screen]) -> bool:
        self.screens.extend(screens)
        return self.reaches


async def me_and_mama(chat_for: Any, backend: SandboxBackend, telegram_id: int) -> Chat:
    """Анна links her own card, and her mother's as "Мама" (with the mother's code)."""
    anna, galina = await persona(backend, "mother"), await persona(backend, "elderly_mother")
    me: Chat = await chat_for(telegram_id, "Анна")
    await me.link_own(backend, anna)
    await me.link_relative(backend, galina, label="Мама")
    return me


async def row_ids(
    sessionmaker: SessionMaker, telegram_id: int, ctx: FlowContext | None = None
) -> dict[str, int]:
    """The user's rows by relation, after committing what a flow did (as the bot's session
    middleware does after each update)."""
    if ctx is not None:
        await ctx.session.commit()
    return {r.relation: r.id for r in await people_rows(sessionmaker, telegram_id)}


def asked(answer: object) -> list[Screen]:
    """The picker's screens (it asked instead of choosing)."""
    assert isinstance(answer, list)
    return answer


def actions(screens: Sequence[Screen]) -> list[str]:
    return [b.action for s in screens for b in s.buttons]


async def test_list_card_question_and_removal(
    chat_for: Any, backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await me_and_mama(chat_for, backend, ME)
    rows = await row_ids(sessionmaker, ME)
    mama = rows["relative"]
    ctx, memory = await context_of(ME), DictMemory()
    memory.data = {"draft": "x", REMEMBERED_PERSON_KEY: mama}

    [listing] = await flow.show_people(ctx, memory)
    assert listing.text.startswith("<b>My people</b>\n")
    assert "<b>Мама</b> — relative" in listing.text
    assert memory.data == {}  # the menu ends whatever was open
    views = [PersonCb(action=PersonAction.VIEW, id=i).pack() for i in (rows["self"], mama)]
    links = [LinkStartCb(kind=k).pack() for k in (LinkKind.RELATIVE, LinkKind.CHILD)]
    assert sorted(listing.buttons[i].action for i in range(2)) == sorted(views)
    assert actions([listing])[2:] == links  # one's own card is linked: no "My own policy"
    assert all(len(row) == 1 for row in listing.rows)

    [card] = await flow.person_viewed(ctx, mama)
    assert card.placement is Placement.NEW and "<b>Мама</b> — relative" in card.text
    assert actions([card]) == [PersonCb(action=PersonAction.UNLINK, id=mama).pack()]

    shown = Shown()
    await flow.unlink_asked(ctx, memory, mama, shown)
    [question] = shown.screens
    assert question.text.startswith("Remove Мама from My people?") and "new code" in question.text
    assert memory.data == {flow.UNLINK_ASKED_KEY: mama}
    assert await row_ids(sessionmaker, ME, ctx) == rows  # asking removes nothing

    memory.data[REMEMBERED_PERSON_KEY] = mama
    grants_before = await backend.list_grants_received(requester_id_for(ctx.keys, ME))
    done = Shown()
    await flow.unlink_confirmed(ctx, memory, mama, done)
    popup, edited = done.screens
    assert (popup.placement, popup.text) == (Placement.POPUP, "Removed")
    assert edited.placement is Placement.EDIT and not edited.buttons
    assert memory.data == {flow.UNLINK_ASKED_KEY: None, REMEMBERED_PERSON_KEY: None}
    assert await row_ids(sessionmaker, ME, ctx) == {"self": rows["self"]}
    grants_after = await backend.list_grants_received(requester_id_for(ctx.keys, ME))
    assert len(grants_after) == len(grants_before) - 1  # Mama's grant is revoked too


async def test_a_yes_without_its_shown_question_only_asks(
    chat_for: Any, backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await me_and_mama(chat_for, backend, ME + 10)
    rows = await row_ids(sessionmaker, ME + 10)
    own, mama = rows["self"], rows["relative"]
    ctx, memory = await context_of(ME + 10), DictMemory()

    # A forged `ppl:uc:<row>`: the question instead, nothing removed.
    forged = Shown()
    await flow.unlink_confirmed(ctx, memory, mama, forged)
    [question] = forged.screens
    assert question.text.startswith("Remove Мама")
    yes, keep = (
        PersonCb(action=a, id=mama).pack() for a in (PersonAction.UNLINK_CONFIRM, PersonAction.VIEW)
    )
    assert actions([question]) == [yes, keep]
    assert await row_ids(sessionmaker, ME + 10, ctx) == rows

    # A question that never reached the chat is not recorded: its "Yes" asks again.
    memory.data.clear()
    await flow.unlink_asked(ctx, memory, mama, Shown(reaches=False))
    assert flow.UNLINK_ASKED_KEY not in memory.data
    again = Shown()
    await flow.unlink_confirmed(ctx, memory, mama, again)
    assert again.screens[0].text.startswith("Remove Мама")

    # Asked about Mama, the "Yes" carries one's own card: asked about that one first.
    await flow.unlink_asked(ctx, memory, mama, Shown())
    other = Shown()
    await flow.unlink_confirmed(ctx, memory, own, other)
    assert other.screens[0].text.startswith("Remove ") and "Мама" not in other.screens[0].text
    assert await row_ids(sessionmaker, ME + 10, ctx) == rows


async def test_another_users_id_is_an_alert_and_changes_nothing(
    chat_for: Any, backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await me_and_mama(chat_for, backend, ME + 20)
    victim = await row_ids(sessionmaker, ME + 20)
    await chat_for(ME + 21)
    intruder, memory = await context_of(ME + 21), DictMemory()
    for person_id in (*victim.values(), 10**9):
        for screens in (
            await flow.person_viewed(intruder, person_id),
            await flow.person_picked(intruder, memory, person_id),
        ):
            [alert] = screens
            assert alert.placement is Placement.ALERT and "not in your list" in alert.text
        for press in (flow.unlink_asked, flow.unlink_confirmed):
            shown = Shown()
            await press(intruder, memory, person_id, shown)
            [alert] = shown.screens
            assert alert.placement is Placement.ALERT and "not in your list" in alert.text
    assert memory.data == {}
    assert await row_ids(sessionmaker, ME + 20, intruder) == victim


async def test_for_whom_asks_remembers_and_says_when_nobody_fits(
    chat_for: Any, backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await me_and_mama(chat_for, backend, ME + 30)
    await chat_for(ME + 31)
    rows = await row_ids(sessionmaker, ME + 30)
    ctx, memory = await context_of(ME + 30), DictMemory()

    [ask] = asked(await flow.whose_card(ctx, memory, Scope.APPOINTMENTS))
    assert ask.text == "For whom?"
    picks = {PersonCb(action=PersonAction.PICK, id=i).pack() for i in rows.values()}
    assert set(actions([ask])) == picks and all(len(row) == 1 for row in ask.rows)

    [picked] = await flow.person_picked(ctx, memory, rows["relative"])
    assert (picked.placement, picked.text) == (Placement.EDIT, "Acting for: <b>Мама</b>.")
    assert memory.data == {REMEMBERED_PERSON_KEY: rows["relative"]}
    chosen = await flow.whose_card(ctx, memory, Scope.APPOINTMENTS)
    assert not isinstance(chosen, list) and chosen.id == rows["relative"]

    nobody_ctx = await context_of(ME + 31)
    [nobody] = asked(await flow.whose_card(nobody_ctx, DictMemory(), Scope.RECORDS))
    assert nobody.text.startswith("There is nobody") and not nobody.buttons


async def test_every_id_is_what_the_telegram_factories_parse(
    chat_for: Any, backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await me_and_mama(chat_for, backend, ME + 41)  # the bot links first, then the flows run
    await chat_for(ME + 40)
    ctx = await context_of(ME + 40)
    [empty] = await flow.show_people(ctx, DictMemory())
    assert "Nobody yet" in empty.text
    kinds = [LinkStartCb.unpack(a).kind for a in actions([empty])]
    assert kinds == [LinkKind.SELF, LinkKind.RELATIVE, LinkKind.CHILD]

    ctx, memory = await context_of(ME + 41), DictMemory()
    mama = (await row_ids(sessionmaker, ME + 41))["relative"]
    shown = Shown()
    await flow.unlink_asked(ctx, memory, mama, shown)
    screens = [
        *await flow.show_people(ctx, DictMemory()),
        *await flow.person_viewed(ctx, mama),
        *shown.screens,
        *asked(await flow.whose_card(ctx, memory, Scope.APPOINTMENTS)),
    ]
    ids = actions(screens)
    person_ids = [a for a in ids if a.startswith("ppl:")]
    assert {PersonCb.unpack(a).action for a in person_ids} == set(PersonAction)
    for action in ids:
        factory = PersonCb if action.startswith("ppl:") else LinkStartCb
        assert factory.unpack(action).pack() == action
