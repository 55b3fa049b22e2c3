"""🗓 My appointments on Telegram: routes to `bot.flows.visits` (the list, one visit,
reschedule, cancel, the .ics file) and renders its screens."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import visits as flow
from bot.flows.context import FlowContext
from bot.flows.visits import LIST_KEY
from handlers.render import answer_all, send_all
from keyboards.appointments import Flow, VisitAction, VisitCb, WhoCb
from keyboards.menu import MENU_VISITS

router = Router(name=__name__)

__all__ = ["LIST_KEY", "router"]

_ON_VISIT = {
    VisitAction.VIEW: flow.visit_viewed,
    VisitAction.MOVE: flow.move_asked,
    VisitAction.CANCEL: flow.cancel_asked,
    VisitAction.CANCEL_CONFIRM: flow.cancel_confirmed,
    VisitAction.ICS: flow.ics_asked,
    VisitAction.AGAIN: flow.book_again,
    VisitAction.BY_REFERRAL: flow.book_by_referral,
}


@router.message(F.text == MENU_VISITS)
async def visits_start(message: Message, state: FSMContext, flow_ctx: FlowContext) -> None:
    await send_all(message, await flow.show_visits(flow_ctx, state))


@router.callback_query(WhoCb.filter(F.flow == Flow.LIST))
async def visits_for(
    query: CallbackQuery, callback_data: WhoCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    cb = callback_data
    await answer_all(query, await flow.visits_for(flow_ctx, state, cb.person_id, cb.n))


@router.callback_query(VisitCb.filter())
async def visit_pressed(
    query: CallbackQuery, callback_data: VisitCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    cb = callback_data
    on_visit = _ON_VISIT[cb.action]
    await answer_all(query, await on_visit(flow_ctx, state, cb.person_id, cb.appointment_id, cb.n))
