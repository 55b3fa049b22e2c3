"""👀 Slot watches on Telegram: routes to `bot.flows.watches` (the list, a new watch and its
set-up, stopping one, the buttons under a slot-found message) and renders its screens."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import watches as flow
from bot.flows.context import FlowContext
from handlers.render import answer_all, send_all
from keyboards.appointments import (
    HIT_BOOK,
    HIT_STOP,
    BookAction,
    BookCb,
    WatchAction,
    WatchCb,
    WatchHitCb,
    WatchSetupCb,
)
from keyboards.menu import MENU_WATCHES

router = Router(name=__name__)


@router.message(F.text == MENU_WATCHES)
async def watches_start(message: Message, state: FSMContext, flow_ctx: FlowContext) -> None:
    await send_all(message, await flow.show_watches(flow_ctx, state))


@router.callback_query(WatchCb.filter(F.action == WatchAction.STOP))
async def watch_stop(query: CallbackQuery, callback_data: WatchCb, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.watch_stopped(flow_ctx, callback_data.watch_id))


@router.callback_query(WatchCb.filter(F.action == WatchAction.NEW))
async def watch_new(query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext) -> None:
    # The person picked from "for whom": `appointments.choose_for` (shared with booking).
    await answer_all(query, await flow.watch_new(flow_ctx, state))


@router.callback_query(BookCb.filter(F.action == BookAction.WATCH))
async def watch_from_calendar(
    query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.watch_from_calendar(flow_ctx, state))


@router.callback_query(WatchSetupCb.filter())
async def setup_answer(
    query: CallbackQuery, callback_data: WatchSetupCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    cb = callback_data
    await answer_all(query, await flow.setup_answered(flow_ctx, state, cb.step.value, cb.value))


@router.callback_query(WatchHitCb.filter(F.action == HIT_STOP))
async def hit_stop(query: CallbackQuery, callback_data: WatchHitCb, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.hit_stopped(flow_ctx, callback_data.hit_id))


@router.callback_query(WatchHitCb.filter(F.action == HIT_BOOK))
async def hit_book(
    query: CallbackQuery, callback_data: WatchHitCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.hit_book(flow_ctx, state, callback_data.hit_id))
