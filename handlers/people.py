"""My people on Telegram: routes to `bot.flows.people` and renders its screens (the list, one
person, removing them, and the whose-card picker for features)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import people as flow
from bot.flows.context import FlowContext
from bot.flows.people import Show
from bot.flows.screens import Screen
from handlers.render import answer_all, send_all
from keyboards.menu import MENU_PEOPLE
from keyboards.people import PersonAction, PersonCb

router = Router(name=__name__)


def _show(query: CallbackQuery) -> Show:
    async def show(screens: Sequence[Screen]) -> bool:
        await answer_all(query, screens)
        return isinstance(query.message, Message)  # else nothing was shown in the chat

    return show


@router.message(Command("people"))
@router.message(F.text == MENU_PEOPLE)
async def my_people(message: Message, state: FSMContext, flow_ctx: FlowContext) -> None:
    await send_all(message, await flow.show_people(flow_ctx, state))


@router.callback_query(PersonCb.filter(F.action == PersonAction.VIEW))
async def view_person(query: CallbackQuery, callback_data: PersonCb, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.person_viewed(flow_ctx, callback_data.id))


@router.callback_query(PersonCb.filter(F.action == PersonAction.UNLINK))
async def unlink_ask(
    query: CallbackQuery, callback_data: PersonCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await flow.unlink_asked(flow_ctx, state, callback_data.id, _show(query))


@router.callback_query(PersonCb.filter(F.action == PersonAction.UNLINK_CONFIRM))
async def unlink(
    query: CallbackQuery, callback_data: PersonCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await flow.unlink_confirmed(flow_ctx, state, callback_data.id, _show(query))


@router.callback_query(PersonCb.filter(F.action == PersonAction.PICK))
async def person_picked(
    query: CallbackQuery, callback_data: PersonCb, state: FSMContext, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.person_picked(flow_ctx, state, callback_data.id))
