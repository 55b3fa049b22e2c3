"""Booking a doctor on Telegram: routes the menu button and the booking buttons to
`bot.flows.booking` / `bot.flows.booking_steps` and renders their screens.

The callback factories (`keyboards/appointments.py`, `keyboards/calendar.py`) parse what the
flows' ids pack; a press the factories cannot parse reaches no handler here. Rescheduling
(from My appointments) and "Book it" (from a watch) reuse the day/time/confirm steps.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import booking as flow
from bot.flows import booking_steps as steps
from bot.flows.context import FlowContext
from handlers.render import answer_all, send_all
from keyboards.appointments import BookAction, BookCb, Flow, PickCb, TimeCb, WhoCb
from keyboards.calendar import CalAction, CalendarCb
from keyboards.menu import MENU_BOOK

router = Router(name=__name__)


@router.message(F.text == MENU_BOOK)
async def book_start(message: Message, state: FSMContext, flow_ctx: FlowContext) -> None:
    await send_all(message, await flow.book_start(flow_ctx, state))


@router.callback_query(WhoCb.filter(F.flow.in_((Flow.BOOK, Flow.WATCH))))
async def choose_for(
    query: CallbackQuery, callback_data: WhoCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    """For whom, and then a specialty or referral: for a booking, or for a watch (watches.py)."""
    cb = callback_data
    await answer_all(query, await flow.chosen_for(flow_ctx, state, cb.flow, cb.person_id, cb.n))


@router.callback_query(PickCb.filter())
async def picked(
    query: CallbackQuery, callback_data: PickCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    cb = callback_data
    await answer_all(query, await flow.picked(flow_ctx, state, cb.kind.value, cb.ref))


# --- days ------------------------------------------------------------------------------------


@router.callback_query(CalendarCb.filter(F.action == CalAction.NOOP))
async def calendar_noop(query: CallbackQuery) -> None:
    await answer_all(query, flow.calendar_noop())


@router.callback_query(CalendarCb.filter(F.action == CalAction.FULL))
async def full_day(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, flow.full_day(flow_ctx))


@router.callback_query(CalendarCb.filter(F.action == CalAction.MONTH))
async def month_shown(
    query: CallbackQuery, callback_data: CalendarCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.month_shown(flow_ctx, state, callback_data.value))


@router.callback_query(CalendarCb.filter(F.action == CalAction.DAY))
async def day_chosen(
    query: CallbackQuery, callback_data: CalendarCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.day_chosen(flow_ctx, state, callback_data.value))


@router.callback_query(BookCb.filter(F.action == BookAction.DAYS))
async def back_to_days(query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.back_to_days(flow_ctx, state))


@router.callback_query(BookCb.filter(F.action == BookAction.OTHER_DOCTORS))
async def other_doctors(query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.other_doctors(flow_ctx, state))


@router.callback_query(BookCb.filter(F.action == BookAction.ABORT))
async def abort(query: CallbackQuery, state: FSMContext, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.aborted(flow_ctx, state))


# --- time and confirmation -------------------------------------------------------------------


@router.callback_query(TimeCb.filter())
async def time_chosen(
    query: CallbackQuery, callback_data: TimeCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await steps.time_chosen(flow_ctx, state, callback_data.index))


@router.callback_query(BookCb.filter(F.action == BookAction.CONFIRM))
async def confirmed(
    query: CallbackQuery, callback_data: BookCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await steps.confirmed(flow_ctx, state, callback_data.token))
