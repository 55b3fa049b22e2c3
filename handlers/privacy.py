"""My data on Telegram (/privacy, /forget): routes into `bot.flows.privacy`, renders through
`handlers.render`, and clears the conversation's FSM state where a step ends it."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import privacy as flow
from bot.flows import records as records_flow
from bot.flows.context import FlowContext
from handlers.render import answer_all, send_all
from keyboards.menu import MENU_PRIVACY
from keyboards.privacy import PrivacyAction, PrivacyCb

router = Router(name=__name__)


@router.message(Command("privacy"))
@router.message(F.text == MENU_PRIVACY)
async def privacy(message: Message, flow_ctx: FlowContext) -> None:
    await send_all(message, await flow.summary(flow_ctx))


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.JOURNAL))
async def journal(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    """The journal ("who viewed my card"): the same screen as in the medical record (and, like
    every part of "My data", with or without consent)."""
    await answer_all(query, await records_flow.journal(flow_ctx))


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.WITHDRAW))
async def withdraw_ask(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.withdraw_asked(flow_ctx))


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.WITHDRAW_CONFIRM))
async def withdraw(query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext) -> None:
    await state.clear()  # whatever flow was open ends with consent
    await answer_all(query, await flow.withdraw_confirmed(flow_ctx))


@router.message(Command("forget"))
async def forget_ask(message: Message, flow_ctx: FlowContext) -> None:
    await send_all(message, await flow.forget_asked(flow_ctx, in_place=False))


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.FORGET))
async def forget_ask_button(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.forget_asked(flow_ctx, in_place=True))


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.FORGET_CONFIRM))
async def forget(query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext) -> None:
    screens = await flow.forget_confirmed(flow_ctx)
    await state.clear()  # only once deleted: a backend that is down stops both
    await answer_all(query, screens)


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.KEEP))
async def keep(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, flow.kept(flow_ctx))
