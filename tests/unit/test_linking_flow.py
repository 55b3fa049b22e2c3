"""Linking as a flow, without a messenger: one's own policy (phone first, then the policy, the
birth date and the code), a relative's with the code the owner relays (and the owner's alert,
in the owner's language), the one-SMS-a-minute pause and its "Send the code", a child and a
"child" of 15 or older, and presses of another step, forged ids and someone else's draft,
which are not the flow's or change nothing. The flow is driven with `on_text` / `on_press`,
the routing a channel without state filters (MAX) uses; every button id is what Telegram's
CallbackData packs, and every state what its `LinkFlow` names."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from backend_client.models import Relation
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.simulation import Persona
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import LinkDraft
from bot.flows import linking as flow
from bot.flows import linking_code, linking_screens, linking_steps
from bot.flows.context import FlowContext
from bot.flows.inputs import Command, Contact, Press, Text
from bot.flows.linking_outputs import SHARE_CONTACT, Reply, contact_button, deliver
from bot.flows.screens import Placement, Screen
from bot.services import users as users_service
from handlers.policies import LinkFlow
from keyboards.policies import (
    AsRelativeCb,
    CodeAction,
    CodeCb,
    LinkKind,
    LinkStartCb,
    ScopeCb,
    ScopeChoice,
    TermCb,
    TermChoice,
)
from tests.sandbox_fixtures import TEST_NOW
from tests.unit.flow_context import DictMemory, context_of, english_context
from tests.unit.flow_fixtures import backend, clock, sandbox_template, settings
from tests.unit.policies_support import last_code, persona

__all__ = ["backend", "clock", "context_of", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

ME = 7600


async def new_user(sessionmaker: SessionMaker, telegram_id: int, language: str = "en") -> None:
    async with sessionmaker() as db:
        user = await users_service.get_or_create_user(db, telegram_id, TEST_NOW)
        users_service.set_language(user, language)
        users_service.give_consent(user, TEST_NOW)
        await db.commit()


def texts(answer: Reply) -> str:
    return " | ".join(s.text for s in answer.screens)


def actions(answer: Reply) -> list[str]:
    return [b.action for s in answer.screens for b in s.buttons]


def only(answer: Reply | None) -> Screen:
    assert answer is not None
    [screen] = answer.screens
    return screen


async def text(ctx: FlowContext, memory: DictMemory, said: str | None) -> Reply:
    answer = await flow.on_text(ctx, memory, said)
    assert answer is not None, f"not the flow's text at {memory.state}"
    return answer


async def press(ctx: FlowContext, memory: DictMemory, action: str) -> Reply:
    answer = await flow.on_press(ctx, memory, action)
    assert answer is not None, f"not the flow's press at {memory.state}: {action}"
    return answer


def day(who: Persona) -> str:
    return who.birth_date.strftime("%d.%m.%Y")


async def phone_confirmed(ctx: FlowContext, memory: DictMemory, answer: Reply) -> Reply:
    """Past the phone step if it is asked (once per user)."""
    if memory.state != linking_steps.PHONE:
        return answer
    assert contact_button(only(answer)) is not None
    return await flow.contact_shared(ctx, memory, "+7 900 000-00-00", own=True)


async def link_own(ctx: FlowContext, memory: DictMemory, who: Persona, backend: Any) -> Reply:
    await phone_confirmed(
        ctx, memory, await press(ctx, memory, LinkStartCb(kind=LinkKind.SELF).pack())
    )
    await text(ctx, memory, who.policy)
    await text(ctx, memory, day(who))
    return await text(ctx, memory, await last_code(backend, who.phone))


# --- ids and states ---------------------------------------------------------------------------


def test_ids_and_states_are_telegrams() -> None:
    ids = linking_screens
    for kind in LinkKind:
        assert ids.start_id(kind.value) == LinkStartCb(kind=kind).pack()
        assert ids.RELATIONS[kind.value] in Relation
    for scope in ScopeChoice:
        assert ids.scope_id(scope.value) == ScopeCb(scope=scope).pack()
    for term in TermChoice:
        assert ids.term_id(term.value) == TermCb(term=term).pack()
        assert ids.TERMS[term.value].value == term.value
    for action in CodeAction:
        assert ids.code_id(action.value) == CodeCb(action=action).pack()
    assert AsRelativeCb().pack() == ids.AS_RELATIVE
    states = {s.state for s in LinkFlow.__all_states__}
    assert states == set(linking_steps.STATES)
    assert LinkFlow.send.state == linking_steps.SEND and LinkFlow.code.state == linking_steps.CODE


# --- my own policy ----------------------------------------------------------------------------


async def test_own_policy_phone_first_every_sensitive_message_deleted(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    anna = await persona(backend, "mother")
    await new_user(sessionmaker, ME)
    ctx, memory = await context_of(ME), DictMemory()
    memory.data = {"booking": "x"}  # another flow's leftovers go with a new linking

    asked = only(await press(ctx, memory, LinkStartCb(kind=LinkKind.SELF).pack()))
    assert memory.state == linking_steps.PHONE and set(memory.data) == {"draft_id"}
    assert [b.action for b in asked.buttons] == [SHARE_CONTACT]

    hello = await text(ctx, memory, "hello")
    assert not hello.delete_input and contact_button(only(hello)) is not None
    early = await text(ctx, memory, anna.policy)  # the policy before the phone
    assert early.delete_input and "looks like a policy number" in texts(early)
    foreign = await flow.contact_shared(ctx, memory, "+7 900 111-11-11", own=False)
    assert foreign.delete_input and "not your own contact" in texts(foreign)
    assert memory.state == linking_steps.PHONE

    thanks, ask = (await flow.contact_shared(ctx, memory, "+7 900 000-00-00", own=True)).screens
    assert thanks.menu is not None and "phone is confirmed" in thanks.text
    assert "Enter the OMS policy number" in ask.text and memory.state == linking_steps.POLICY

    photo = await text(ctx, memory, None)
    assert "as a text message" in texts(photo) and memory.state == linking_steps.POLICY
    typo = await text(ctx, memory, anna.policy[:-1] + str((int(anna.policy[-1]) + 1) % 10))
    assert typo.delete_input and "check) digit" in texts(typo)
    accepted = await text(ctx, memory, anna.policy)
    assert accepted.delete_input and memory.state == linking_steps.BIRTH_DATE
    future = await text(ctx, memory, "01.01.2099")
    assert future.delete_input and "cannot be in the future" in texts(future)

    sent = await text(ctx, memory, day(anna))
    assert sent.delete_input and "to the phone linked to your card" in texts(sent)
    assert actions(sent) == [
        CodeCb(action=a).pack() for a in (CodeAction.RESEND, CodeAction.RESTART)
    ]
    assert memory.state == linking_steps.CODE and set(memory.data) == {"draft_id", "asked"}

    short = await text(ctx, memory, "12")
    assert short.delete_input and "The code has 6 digits" in texts(short)
    done = await text(ctx, memory, await last_code(backend, anna.phone))
    assert done.delete_input and not done.notices
    assert "your medical card is linked" in texts(done) and only(done).menu is not None
    assert memory.state is None and memory.data == {}

    # An old "My own policy" button: the card, and whatever was open stays as it was.
    memory.data, memory.state = {"booking": "y"}, "Booking:day"
    again = only(await press(ctx, memory, LinkStartCb(kind=LinkKind.SELF).pack()))
    assert again.text.startswith("Your own card is already linked:")
    assert (memory.state, memory.data) == ("Booking:day", {"booking": "y"})


# --- a relative's policy ----------------------------------------------------------------------


async def test_relative_with_the_owners_code_and_the_owner_told_in_their_language(
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    context_of: Any,
    clock: FrozenClock,
) -> None:
    galina = await persona(backend, "elderly_mother")
    await new_user(sessionmaker, ME + 10, language="ru")  # the card's owner
    await new_user(sessionmaker, ME + 11)
    owner = await context_of(ME + 10)
    assert "linked" in texts(await link_own(owner, DictMemory(), galina, backend))
    clock.advance(seconds=61)

    daughter = await context_of(ME + 11)
    tagged = english_context(
        daughter.user,
        daughter.session,
        daughter.clock,
        backend=daughter.backend,
        keys=daughter.keys,
        settings=daughter.settings,
        translate=lambda msgid, locale: msgid if locale == "en" else f"[{locale}]{msgid}",
    )
    memory = DictMemory()
    start = await press(tagged, memory, LinkStartCb(kind=LinkKind.RELATIVE).pack())
    await phone_confirmed(tagged, memory, start)
    assert memory.state == linking_steps.LABEL
    await text(tagged, memory, "Мама")
    await text(tagged, memory, galina.policy)
    scope = await text(tagged, memory, galina.birth_date.isoformat())
    assert actions(scope) == [ScopeCb(scope=s).pack() for s in ScopeChoice]
    assert memory.state == linking_steps.SCOPE

    # A term before the scope (an old or forged button) is not this step's.
    assert await flow.on_press(tagged, memory, TermCb(term=TermChoice.YEAR).pack()) is None
    typed = await text(tagged, memory, galina.policy)
    assert typed.delete_input and "choose with the buttons" in texts(typed)

    strip, term = (await press(tagged, memory, ScopeCb(scope=ScopeChoice.RECORDS).pack())).screens
    assert strip.placement is Placement.STRIP and memory.state == linking_steps.TERM
    assert len(term.rows) == 2 and len(term.rows[0]) == 3
    strip, sent = (await press(tagged, memory, TermCb(term=TermChoice.HALF_YEAR).pack())).screens
    assert strip.placement is Placement.STRIP
    assert "Ask the owner (Мама) to tell you the code" in sent.text
    assert galina.full_name.split()[1] not in sent.text  # nothing of the owner before the code

    done = await text(tagged, memory, await last_code(backend, galina.phone))
    assert "Мама is now in My people" in texts(done)
    [notice] = done.notices
    assert notice.recipient == ME + 10
    assert notice.screen.text.startswith("[ru]🔐 <b>Someone got access")
    [revoke] = notice.screen.buttons
    assert revoke.action.startswith("acc:r:") and revoke.action.endswith(":1")


async def test_the_pause_keeps_the_answers_and_send_the_code_sends_it(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any, clock: FrozenClock
) -> None:
    """The owner links her card right after her daughter asked for a code to it: the SMS waits
    for the one-a-minute pause."""
    galina = await persona(backend, "elderly_mother")
    await new_user(sessionmaker, ME + 20)
    await new_user(sessionmaker, ME + 21)
    daughter, memory = await context_of(ME + 21), DictMemory()
    await phone_confirmed(
        daughter, memory, await press(daughter, memory, LinkStartCb(kind=LinkKind.RELATIVE).pack())
    )
    await text(daughter, memory, "Мама")
    await text(daughter, memory, galina.policy)
    await text(daughter, memory, day(galina))
    await press(daughter, memory, ScopeCb(scope=ScopeChoice.APPOINTMENTS).pack())
    await press(daughter, memory, TermCb(term=TermChoice.MONTH).pack())
    assert memory.state == linking_steps.CODE

    owner, mine = await context_of(ME + 20), DictMemory()
    start = await press(owner, mine, LinkStartCb(kind=LinkKind.SELF).pack())
    await phone_confirmed(owner, mine, start)
    await text(owner, mine, galina.policy)
    paused = only(await text(owner, mine, day(galina)))
    assert "at most once a minute" in paused.text and mine.state == linking_steps.SEND
    assert [b.action for b in paused.buttons] == [CodeCb(action=CodeAction.SEND).pack()]

    old_sms = await text(owner, mine, "914 946")
    assert old_sms.delete_input and texts(old_sms).startswith("Message deleted. ")
    early = only(await press(owner, mine, CodeCb(action=CodeAction.SEND).pack()))
    assert early.placement is Placement.ALERT and "can be sent in" in early.text
    assert mine.state == linking_steps.SEND

    clock.advance(seconds=61)
    popup, strip, sent = (await press(owner, mine, CodeCb(action=CodeAction.SEND).pack())).screens
    assert (popup.placement, popup.text) == (Placement.POPUP, "The code was sent")
    assert strip.placement is Placement.STRIP and "linked to your card" in sent.text
    assert mine.state == linking_steps.CODE
    # "Send the code" again, now at the code step: not this step's button.
    assert await flow.on_press(owner, mine, CodeCb(action=CodeAction.SEND).pack()) is None

    restarted = only(await press(owner, mine, CodeCb(action=CodeAction.RESTART).pack()))
    assert restarted.text.startswith("Let's start over.") and mine.state == linking_steps.POLICY


# --- children ---------------------------------------------------------------------------------


async def test_a_child_needs_the_own_card_and_an_adult_goes_on_as_a_relative(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any, clock: FrozenClock
) -> None:
    anna, viktor = await persona(backend, "mother"), await persona(backend, "elderly_father")
    await new_user(sessionmaker, ME + 30)
    ctx, memory = await context_of(ME + 30), DictMemory()
    first = only(await press(ctx, memory, LinkStartCb(kind=LinkKind.CHILD).pack()))
    assert "First link your own policy" in first.text and memory.state is None

    await link_own(ctx, memory, anna, backend)
    clock.advance(seconds=61)
    await press(ctx, memory, LinkStartCb(kind=LinkKind.CHILD).pack())
    assert memory.state == linking_steps.LABEL  # the phone is known by now
    await text(ctx, memory, "Папа")
    await text(ctx, memory, viktor.policy)
    too_old = await text(ctx, memory, day(viktor))
    assert too_old.delete_input and "already 15 or older" in texts(too_old)
    assert actions(too_old) == [AsRelativeCb().pack()] and memory.state == linking_steps.ADULT

    strip, scope = (await press(ctx, memory, AsRelativeCb().pack())).screens
    assert strip.placement is Placement.STRIP and memory.state == linking_steps.SCOPE
    assert "What may you do with this card?" in scope.text


# --- what is not the flow's, and leaving it ---------------------------------------------------


async def test_forged_ids_other_steps_and_someone_elses_draft(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await new_user(sessionmaker, ME + 40)
    await new_user(sessionmaker, ME + 41)
    ctx, memory = await context_of(ME + 40), DictMemory()
    assert await flow.on_text(ctx, memory, "hello") is None  # not linking
    for forged in ("lnk:x", "lnk", "lcd:s", "lcd:zz", "lsc:a", "lar:1", "ppl:v:1", ""):
        assert await flow.on_press(ctx, memory, forged) is None, forged

    await press(ctx, memory, LinkStartCb(kind=LinkKind.RELATIVE).pack())
    theirs, their_memory = await context_of(ME + 41), DictMemory()
    # Their memory names my draft (forged, or a bug): it is not theirs, so it is gone for them.
    their_memory.data, their_memory.state = dict(memory.data), linking_steps.SCOPE
    lost = only(await press(theirs, their_memory, ScopeCb(scope=ScopeChoice.RECORDS).pack()))
    assert "no longer valid" in lost.text and their_memory.state is None
    assert memory.state == linking_steps.PHONE  # mine goes on

    # A forged scope value at the right step changes nothing and asks again.
    memory.state = linking_steps.SCOPE
    again = only(await press(ctx, memory, "lsc:zz"))
    assert "What may you do" in again.text and memory.state == linking_steps.SCOPE
    memory.state = linking_steps.TERM
    again = only(await press(ctx, memory, "ltm:99y"))
    assert "For how long?" in again.text and memory.state == linking_steps.TERM


async def test_leaving_ends_the_attempt_and_drops_the_draft(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await new_user(sessionmaker, ME + 50)
    ctx, memory = await context_of(ME + 50), DictMemory()
    await press(ctx, memory, LinkStartCb(kind=LinkKind.SELF).pack())
    drafts = select(func.count()).select_from(LinkDraft).where(LinkDraft.user_id == ctx.user.id)
    assert await ctx.session.scalar(drafts) == 1
    said = only(await flow.interrupted(ctx, memory))
    assert said.text == "Linking the policy was cancelled."
    assert memory.state is None and await ctx.session.scalar(drafts) == 0
    # Its buttons are then stale: "lost", not acted on.
    memory.state = linking_steps.CODE
    lost = only(await linking_code.resend_pressed(ctx, memory))
    assert "no longer valid" in lost.text


class Recorded:
    """A channel's `Answer` stand-in."""

    def __init__(self) -> None:
        self.log: list[str] = []

    async def show(self, screens: Any) -> bool:
        self.log += [s.text for s in screens]
        return True

    async def delete_input(self) -> None:
        self.log.append("<deleted>")

    def more_time(self) -> None:
        pass


async def test_a_routers_inputs_and_what_leaves_the_flow(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await new_user(sessionmaker, ME + 60)
    ctx, memory = await context_of(ME + 60), DictMemory()
    assert await flow.handle(ctx, memory, Text("hello")) is None
    assert await flow.handle(ctx, memory, Contact("+7 900 000-00-00", own=True)) is None
    await flow.handle(ctx, memory, Press(LinkStartCb(kind=LinkKind.SELF).pack()))
    answer = Recorded()
    said = await flow.handle(ctx, memory, Text("7709 4703 6223 4357"))
    assert said is not None and await deliver(answer, said)
    assert answer.log[0] == "<deleted>" and "policy number" in answer.log[1]
    confirmed = await flow.handle(ctx, memory, Contact("+7 900 000-00-00", own=True))
    assert confirmed is not None and memory.state == linking_steps.POLICY
    assert await flow.handle(ctx, memory, Command("records")) is None

    assert flow.leaves(Command("records")) and flow.leaves(Press("menu:people"))
    assert not flow.leaves(Command("cancel")) and not flow.leaves(Command("help"))
    assert not flow.leaves(Press("menu:help")) and not flow.leaves(Press("lcd:s"))
    assert not flow.leaves(Text("hello"))
