"""🩺 The medical record on Telegram: routes into `bot.flows.records`, rendered by
`handlers.render`. The backend budget (`more_time`) is Telegram-side: the export gets it as
its progress callback."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.backend_budget import more_time
from bot.flows import records as flow
from bot.flows.context import FlowContext
from bot.flows.records import NAV_KEY
from bot.flows.screens import Screen
from handlers.render import answer_all, send_all
from keyboards.menu import MENU_RECORDS
from keyboards.records import (
    DocAction,
    RecDocCb,
    RecExportCb,
    RecHomeCb,
    RecJournalCb,
    RecListCb,
    RecTrendCb,
    RecWhoCb,
)

__all__ = ["NAV_KEY", "router"]

router = Router(name=__name__)


@router.message(Command("records"))
@router.message(F.text == MENU_RECORDS)
async def open_records(message: Message, state: FSMContext, flow_ctx: FlowContext) -> None:
    await send_all(message, await flow.open_records(flow_ctx, state))


@router.callback_query(RecHomeCb.filter())
async def home(
    query: CallbackQuery, callback_data: RecHomeCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.home(flow_ctx, state, callback_data.p))


@router.callback_query(RecWhoCb.filter())
async def who_else(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.who_else(flow_ctx))


@router.callback_query(RecListCb.filter())
async def show_list(
    query: CallbackQuery, callback_data: RecListCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    cb = callback_data
    await answer_all(query, await flow.show_list(flow_ctx, state, cb.p, cb.s, cb.f, cb.n, cb.m))


@router.callback_query(RecDocCb.filter(F.a == DocAction.OPEN))
async def open_document(
    query: CallbackQuery, callback_data: RecDocCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(
        query, await flow.open_document(flow_ctx, state, callback_data.p, callback_data.e)
    )


@router.callback_query(RecDocCb.filter(F.a == DocAction.PDF))
async def document_pdf(
    query: CallbackQuery, callback_data: RecDocCb, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.document_pdf(flow_ctx, callback_data.p, callback_data.e))


@router.callback_query(RecTrendCb.filter())
async def trend(
    query: CallbackQuery, callback_data: RecTrendCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    cb = callback_data
    await answer_all(query, await flow.trend(flow_ctx, state, cb.p, cb.c, cb.e))


@router.callback_query(RecExportCb.filter(F.f.is_(None)))
async def export_ask(
    query: CallbackQuery, callback_data: RecExportCb, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.export_ask(flow_ctx, callback_data.p))


@router.callback_query(RecExportCb.filter(F.f.is_not(None)))
async def export(query: CallbackQuery, callback_data: RecExportCb, flow_ctx: FlowContext) -> None:
    period = callback_data.f
    assert period is not None
    said = False

    async def say(screens: Sequence[Screen]) -> None:
        # The press is answered here (the "preparing" popup), so the rest are new messages.
        nonlocal said
        said = True
        await answer_all(query, screens)

    rest = await flow.export(flow_ctx, callback_data.p, period, progress=more_time, say=say)
    if not said:
        await answer_all(query, rest)
    elif isinstance(query.message, Message):
        await send_all(query.message, rest)


@router.callback_query(RecJournalCb.filter())
async def journal(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.journal(flow_ctx))
