"""The linking step said again, channel-neutral: after the language is changed mid-way the
conversation stays where it was (the memory and the draft are kept), and the person is told,
in the new language, what the bot is waiting for."""

from __future__ import annotations

from backend_client.models import Relation
from backend_client.protocol import CODE_LENGTH
from bot.flows.context import FlowContext, Memory
from bot.flows.linking_code import not_sent_yet
from bot.flows.linking_screens import (
    as_relative_rows,
    code_rows,
    scope_screen,
    share_phone_screen,
    term_screen,
    with_menu,
)
from bot.flows.linking_steps import (
    ADULT,
    BIRTH_DATE,
    CODE,
    LABEL,
    PHONE,
    POLICY,
    SCOPE,
    SEND,
    TERM,
    ask_policy,
    draft_of,
    is_linking,
    label_prompt,
    phone_prompt,
)
from bot.flows.linking_texts import too_old_text
from bot.flows.screens import Screen


async def current_step(ctx: FlowContext, memory: Memory) -> list[Screen]:
    """What the step the memory is at asks for; nothing outside linking (or when the draft
    is gone: the next input then says the request is no longer valid)."""
    state = await memory.get_state()
    if not is_linking(state):
        return []
    draft = await draft_of(ctx, memory)
    if draft is None:
        return []
    _ = ctx.gettext
    if state == PHONE:
        return [share_phone_screen(phone_prompt(ctx), ctx)]
    if state == LABEL:
        return [with_menu(ctx, label_prompt(ctx, Relation(draft.relation)))]
    if state == POLICY:
        return [ask_policy(ctx)]
    if state == BIRTH_DATE:
        return [with_menu(ctx, _("Now the birth date, for example 01.02.1980."))]
    if state == SCOPE:
        return [scope_screen(ctx)]
    if state == TERM:
        return [term_screen(ctx)]
    if state == SEND:
        return [await not_sent_yet(ctx, memory)]
    if state == ADULT:
        return [Screen(too_old_text(ctx), as_relative_rows(ctx))]
    assert state == CODE
    said = _("Type the {digits}-digit code from the SMS here.").format(digits=CODE_LENGTH)
    return [Screen(said, code_rows(ctx))]
