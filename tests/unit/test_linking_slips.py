"""Linking slips a tired person makes (issue 14), as a flow without a messenger: the language
changed mid-way keeps the step and says it again; a policy typed where the name was asked is
kept and the name asked for; a code typed in two halves is the code; the SMS pause says its
real rule (per card or per person asking)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from backend_client.models import Relation
from backend_client.sandbox import SandboxBackend
from bot.db.engine import SessionMaker
from bot.flows import linking as flow
from bot.flows import linking_resume, linking_steps, start
from bot.flows.inputs import Command, Press
from bot.flows.linking_outputs import SHARE_CONTACT
from bot.flows.linking_texts import paused_text
from bot.flows.menu import HELP, LANGUAGE, PEOPLE
from bot.flows.screens import Placement
from bot.services import linking as service
from keyboards.policies import LinkKind, LinkStartCb
from tests.unit.flow_context import DictMemory, context_of, english_context
from tests.unit.flow_fixtures import backend, clock, sandbox_template, settings
from tests.unit.policies_support import persona
from tests.unit.test_linking_flow import day, new_user, only, phone_confirmed, press, text, texts

__all__ = ["backend", "clock", "context_of", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

ME = 7700


def test_the_language_does_not_leave_the_linking() -> None:
    assert not flow.leaves(Command("language")) and not flow.leaves(Press(LANGUAGE.action))
    assert not flow.leaves(Press(HELP.action)) and not flow.leaves(Command("cancel"))
    assert flow.leaves(Press(PEOPLE.action)) and flow.leaves(Command("records"))


async def test_a_language_chosen_mid_linking_keeps_the_step_and_says_it_again(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    me = await persona(backend, "single")
    await new_user(sessionmaker, ME)
    ctx, memory = await context_of(ME), DictMemory()
    # Outside linking: as before, the menu in the language chosen.
    assert await start.language_chosen_in(ctx, memory, "ru") == start.language_chosen(ctx, "ru")

    await phone_confirmed(
        ctx, memory, await press(ctx, memory, LinkStartCb(kind=LinkKind.SELF).pack())
    )
    await text(ctx, memory, me.policy)
    kept = dict(memory.data)
    popup, strip, goes_on, step = await start.language_chosen_in(ctx, memory, "ru")
    assert popup.placement is Placement.POPUP and strip.placement is Placement.STRIP
    assert goes_on.menu is not None and "goes on where it was" in goes_on.text
    assert step.text == "Now the birth date, for example 01.02.1980."
    assert memory.state == linking_steps.BIRTH_DATE and memory.data == kept

    sent = await text(ctx, memory, day(me))
    assert memory.state == linking_steps.CODE
    *_, step = await start.language_chosen_in(ctx, memory, "en")
    assert "6-digit code from the SMS" in step.text
    assert [b.action for b in step.buttons] == [b.action for b in sent.screens[-1].buttons]
    assert memory.state == linking_steps.CODE

    # A forged language changes nothing, linking or not.
    [refused] = await start.language_chosen_in(ctx, memory, "xx")
    assert refused.placement is Placement.ALERT and memory.state == linking_steps.CODE


async def test_a_policy_typed_where_the_name_was_asked_is_kept(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    galina = await persona(backend, "elderly_mother")
    await new_user(sessionmaker, ME + 1)
    ctx, memory = await context_of(ME + 1), DictMemory()
    start_ = await press(ctx, memory, LinkStartCb(kind=LinkKind.RELATIVE).pack())
    await phone_confirmed(ctx, memory, start_)
    assert memory.state == linking_steps.LABEL

    code_like = await text(ctx, memory, "914 946")
    assert code_like.delete_input and "one-time code" in texts(code_like)
    typo = await text(ctx, memory, galina.policy[:-1] + str((int(galina.policy[-1]) + 1) % 10))
    assert typo.delete_input and "check) digit" in texts(typo)
    assert memory.state == linking_steps.LABEL

    kept = only(await text(ctx, memory, galina.policy))
    assert "looks like the policy number. It is kept" in kept.text
    assert kept.text.endswith("First type a name for this person, for example: Mum.")
    assert memory.state == linking_steps.LABEL
    named = only(await text(ctx, memory, "Мама"))
    assert named.text == "Thank you. Now the birth date of Мама, for example 01.02.1980."
    assert memory.state == linking_steps.BIRTH_DATE
    scope = await text(ctx, memory, day(galina))
    assert memory.state == linking_steps.SCOPE and "What may you do" in texts(scope)


async def test_a_childs_name_question_has_a_childs_example(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await new_user(sessionmaker, ME + 2)
    ctx, memory = await context_of(ME + 2), DictMemory()
    memory.state, memory.data = linking_steps.LABEL, {}
    draft = await service.start_draft(ctx.session, ctx.user, Relation.CHILD, ctx.clock())
    memory.data = {linking_steps.DRAFT_KEY: draft.id}
    said = only(await text(ctx, memory, "123-456"))
    assert said.text.endswith("First type a name for this child, for example: Masha.")
    assert "Mum" not in said.text


def test_a_code_typed_in_two_halves_is_the_code() -> None:
    assert service.parse_code("097 117") == "097117"
    assert service.parse_code(" 097-117 ") == "097117"
    assert service.parse_code("097117") == "097117"
    assert service.parse_code("0971") is None and service.parse_code("097 11x") is None
    assert service.parse_code("٠٩٧١١٧") is None  # other scripts' digits are not a code


def test_the_sms_pause_says_its_real_rule() -> None:
    ctx = english_context(cast(Any, None), None, cast(Any, None))  # only its texts are used
    said = paused_text(ctx, 42)
    assert "for each card (whoever asks for it)" in said
    assert "for each person asking (whichever card it is for)" in said
    assert "one card and one user" not in said


def test_a_dropped_date_is_deleted_but_a_date_is_not_sensitive() -> None:
    for typed in ("01.02.1980", "1.2.1980", " 1980-02-01 ", "31/02/1990"):
        assert service.delete_when_dropped(typed), typed
        assert service.looks_sensitive(typed) is None  # read by a step, a date is just a date
    assert service.delete_when_dropped("7709 4703 6223 4357")
    assert service.delete_when_dropped("123 456")
    assert not service.delete_when_dropped(None)  # a photo, a sticker
    for other in ("к окулисту 01.02", "hello", "", "01.02.1980 в 10:00"):
        assert not service.delete_when_dropped(other), other


async def test_every_step_is_said_again(
    backend: SandboxBackend, sessionmaker: SessionMaker, context_of: Any
) -> None:
    await new_user(sessionmaker, ME + 3)
    ctx, memory = await context_of(ME + 3), DictMemory()
    assert await linking_resume.current_step(ctx, memory) == []
    draft = await service.start_draft(ctx.session, ctx.user, Relation.RELATIVE, ctx.clock())
    memory.data = {linking_steps.DRAFT_KEY: draft.id}
    asked = {
        linking_steps.PHONE: [SHARE_CONTACT],
        linking_steps.SCOPE: ["lsc:a", "lsc:r"],
        linking_steps.TERM: ["ltm:1m", "ltm:6m", "ltm:1y", "ltm:0"],
        linking_steps.SEND: ["lcd:c"],
        linking_steps.CODE: ["lcd:s", "lcd:r"],
        linking_steps.ADULT: ["lar:1"],
        linking_steps.LABEL: [],
        linking_steps.POLICY: [],
    }
    for state, buttons in asked.items():
        memory.state = state
        [step] = await linking_resume.current_step(ctx, memory)
        assert step.text and [b.action for b in step.buttons] == buttons, state
    memory.data = {}  # the draft gone: nothing to say again (the next input says so)
    assert await linking_resume.current_step(ctx, memory) == []
