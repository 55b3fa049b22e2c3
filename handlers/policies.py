"""Linking cards on Telegram: routes to the channel-neutral `bot.flows.linking` and renders its
replies — deleting the user's message that carried a policy, a birth date, a code or a phone,
the request-contact keyboard for the phone step, and the owner's "someone got access" alert.

Routing stays by state (`LinkFlow`, whose state strings are the flow's own) and by the
CallbackData of `keyboards/policies.py`, so a button of another step or an old one falls
through to the stale-button answer as before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.flows import linking as flow
from bot.flows import linking_child, linking_code
from bot.flows.context import FlowContext
from bot.flows.linking_outputs import Reply, contact_button
from bot.flows.linking_screens import RELATIONS
from bot.flows.screens import Placement, Screen
from handlers.access_texts import delete_sensitive
from handlers.render import send
from keyboards.menu import MENU_HELP, MENU_LANGUAGE, menu_texts
from keyboards.policies import (
    AsRelativeCb,
    CodeAction,
    CodeCb,
    LinkStartCb,
    ScopeCb,
    TermCb,
    share_phone_keyboard,
)

router = Router(name=__name__)
logger = logging.getLogger(__name__)


def not_menu_button(message: Message) -> bool:
    """A tap on a main-menu button or a command leaves the flow (its own handler takes it)
    rather than being read as a policy, a name or a code."""
    text = message.text
    if text is None:
        return True
    return not (text.startswith("/") or text in menu_texts())


def leaves_linking(message: Message) -> bool:
    """A menu button or a command that opens something else (not Help, /cancel or the
    language, as `bot.flows.linking.leaves`): the unfinished linking ends, and the user is
    told so."""
    text = message.text or ""
    if text.startswith("/"):
        command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if text[1:] else ""
        return command not in flow.STAYS
    return text in menu_texts() and text not in (str(MENU_HELP), str(MENU_LANGUAGE))


class LinkFlow(StatesGroup):
    """The flow's steps as aiogram states: `LinkFlow.x.state` is `bot.flows.linking_steps.X`."""

    phone = State()
    label = State()
    policy = State()
    birth_date = State()
    scope = State()
    term = State()
    send = State()
    code = State()
    adult = State()


# --- rendering ------------------------------------------------------------------------------


async def _screen(message: Message, screen: Screen) -> None:
    share = contact_button(screen)
    if share is not None:  # Telegram's own button that sends the user's contact
        await message.answer(screen.text, reply_markup=share_phone_keyboard(share.text))
        return
    await send(message, screen)


async def _reply(
    message: Message, answer: Reply, ctx: FlowContext, *, deleted: bool = False
) -> None:
    """The flow's answer to a message; `deleted`: the message is already gone."""
    if answer.delete_input and not deleted:
        await delete_sensitive(message)
    for screen in answer.screens:
        await _screen(message, screen)
    await ctx.tell_all(answer.notices)


async def _answer(query: CallbackQuery, answer: Reply, ctx: FlowContext) -> None:
    """The flow's answer to a press: its popup (or a plain answer), then the pressed message
    loses its buttons where asked (already without them is fine), then new messages."""
    popup = next(
        (s for s in answer.screens if s.placement in (Placement.POPUP, Placement.ALERT)), None
    )
    if popup is None:
        await query.answer()
    else:
        await query.answer(popup.text, show_alert=popup.placement is Placement.ALERT)
    if isinstance(query.message, Message):
        for screen in answer.screens:
            if screen.placement is Placement.STRIP:
                with contextlib.suppress(TelegramBadRequest):
                    await query.message.edit_reply_markup(reply_markup=None)
            elif screen.placement not in (Placement.POPUP, Placement.ALERT):
                await _screen(query.message, screen)
    await ctx.tell_all(answer.notices)


async def answer_press(query: CallbackQuery, screens: Sequence[Screen], ctx: FlowContext) -> None:
    """Another flow's answer to a press that may end with a linking step (the language chosen
    mid-way): rendered as this flow's, so "share my phone" is Telegram's contact keyboard."""
    await _answer(query, Reply(tuple(screens)), ctx)


def _on_message(query: CallbackQuery) -> bool:
    """A press whose message the bot can still reach; an inaccessible one is only answered
    (nothing changes)."""
    return isinstance(query.message, Message)


async def linking_interrupted(message: Message, state: FSMContext, flow_ctx: FlowContext) -> None:
    """Registered first of all (in `handlers.start`) for `LinkFlow` states and `leaves_linking`:
    ends the linking, says so in one line, then lets the button's own handler answer."""
    for screen in (await flow.interrupted(flow_ctx, state)).screens:
        await send(message, screen)
    raise SkipHandler


# --- start, phone ---------------------------------------------------------------------------


@router.callback_query(LinkStartCb.filter())
async def start_link(
    query: CallbackQuery,
    callback_data: LinkStartCb,
    state: FSMContext,
    flow_ctx: FlowContext,
    bot: Bot,
) -> None:
    if not _on_message(query):
        await query.answer()
        return
    relation = RELATIONS[callback_data.kind.value]
    await _answer(query, await flow.start(flow_ctx, state, relation), flow_ctx)


@router.message(LinkFlow.phone, F.contact)
async def phone_shared(
    message: Message, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    contact = message.contact
    assert contact is not None
    own = message.from_user is not None and contact.user_id == message.from_user.id
    answer = await flow.contact_shared(flow_ctx, state, contact.phone_number, own)
    await _reply(message, answer, flow_ctx)


@router.message(LinkFlow.phone, not_menu_button)
async def phone_expected(message: Message, flow_ctx: FlowContext, bot: Bot) -> None:
    await _reply(message, flow.phone_expected(flow_ctx, message.text), flow_ctx)


# --- label, policy, birth date --------------------------------------------------------------


@router.message(LinkFlow.label, F.text, not_menu_button)
async def label_entered(
    message: Message, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    await _reply(message, await flow.label_entered(flow_ctx, state, message.text or ""), flow_ctx)


@router.message(LinkFlow.policy, F.text, not_menu_button)
async def policy_entered(
    message: Message, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    await delete_sensitive(message)  # first: whatever happens next, it leaves the chat
    answer = await flow.policy_entered(flow_ctx, state, message.text or "")
    await _reply(message, answer, flow_ctx, deleted=True)


@router.message(LinkFlow.birth_date, F.text, not_menu_button)
async def birth_date_entered(
    message: Message, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    await delete_sensitive(message)
    answer = await flow.birth_date_entered(flow_ctx, state, message.text or "")
    await _reply(message, answer, flow_ctx, deleted=True)


# --- scope and term (relatives) -------------------------------------------------------------


@router.callback_query(LinkFlow.scope, ScopeCb.filter())
async def scope_chosen(
    query: CallbackQuery, callback_data: ScopeCb, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    if not _on_message(query):
        await query.answer()
        return
    answer = await flow.scope_chosen(flow_ctx, state, callback_data.scope.value)
    await _answer(query, answer, flow_ctx)


@router.callback_query(LinkFlow.term, TermCb.filter())
async def term_chosen(
    query: CallbackQuery, callback_data: TermCb, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    if not _on_message(query):
        await query.answer()
        return
    answer = await flow.term_chosen(flow_ctx, state, callback_data.term.value)
    await _answer(query, answer, flow_ctx)


# --- the code -------------------------------------------------------------------------------


@router.callback_query(LinkFlow.send, CodeCb.filter(F.action == CodeAction.SEND))
async def send_code_now(
    query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    if not _on_message(query):
        await query.answer()
        return
    await _answer(query, await linking_code.send_pressed(flow_ctx, state), flow_ctx)


@router.message(LinkFlow.send, not_menu_button)
async def code_not_sent_yet(
    message: Message, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    answer = await linking_code.typed_while_paused(flow_ctx, state, message.text)
    await _reply(message, answer, flow_ctx)


@router.message(LinkFlow.code, F.text, not_menu_button)
async def code_entered(
    message: Message, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    await delete_sensitive(message)
    answer = await linking_code.code_entered(flow_ctx, state, message.text or "")
    await _reply(message, answer, flow_ctx, deleted=True)


@router.callback_query(LinkFlow.code, CodeCb.filter(F.action == CodeAction.RESEND))
async def resend(query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext, bot: Bot) -> None:
    if not _on_message(query):
        await query.answer()
        return
    await _answer(query, await linking_code.resend_pressed(flow_ctx, state), flow_ctx)


@router.callback_query(LinkFlow.code, CodeCb.filter(F.action == CodeAction.RESTART))
async def restart(query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext, bot: Bot) -> None:
    if not _on_message(query):
        await query.answer()
        return
    await _answer(query, await linking_code.restart_pressed(flow_ctx, state), flow_ctx)


# --- children -------------------------------------------------------------------------------


@router.callback_query(LinkFlow.adult, AsRelativeCb.filter())
async def go_on_as_relative(
    query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext, bot: Bot
) -> None:
    if not _on_message(query):
        await query.answer()
        return
    await _answer(query, await linking_child.as_relative_pressed(flow_ctx, state), flow_ctx)


# --- fallbacks (registered last: the specific handlers above win) ---------------------------


@router.message(LinkFlow.label, not_menu_button)
@router.message(LinkFlow.policy, not_menu_button)
@router.message(LinkFlow.birth_date, not_menu_button)
@router.message(LinkFlow.code, not_menu_button)
async def text_expected(message: Message, flow_ctx: FlowContext, bot: Bot) -> None:
    await _reply(message, flow.text_expected(flow_ctx), flow_ctx)


@router.message(LinkFlow.scope, not_menu_button)
@router.message(LinkFlow.term, not_menu_button)
@router.message(LinkFlow.adult, not_menu_button)
async def button_expected(message: Message, flow_ctx: FlowContext, bot: Bot) -> None:
    await _reply(message, flow.button_expected(flow_ctx, message.text), flow_ctx)
