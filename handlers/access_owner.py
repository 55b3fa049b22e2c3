"""The owner in control: who has access to my card, and revoking it (also from the alert).

Two routers. `router` (the /access command and the menu button) sits behind consent with the
other features. `open_router` (the list's and the alert's buttons, and the list opened from
"My data") works with or without consent: revoking someone's access to my own card only takes
rights away, and withdrawing consent must not make that harder (152-FZ). It is still
authorized on every press: the grant is looked up in the presser's own live list, which the
backend answers only for the card's owner.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.flows import owner_access as flow
from bot.flows.context import FlowContext
from handlers.render import answer_all, send_all
from keyboards.menu import MENU_ACCESS
from keyboards.people import AccessAction, AccessCb

router = Router(name=__name__)
open_router = Router(name=__name__ + ".open")


@router.message(Command("access"))
@router.message(F.text == MENU_ACCESS)
async def who_has_access(message: Message, state: FSMContext, flow_ctx: FlowContext) -> None:
    await state.clear()  # a menu tap ends whatever flow was open
    await send_all(message, await flow.show_list(flow_ctx))


@open_router.callback_query(AccessCb.filter(F.action == AccessAction.LIST))
async def who_has_access_button(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.list_pressed(flow_ctx))


@open_router.callback_query(AccessCb.filter(F.action == AccessAction.REVOKE))
async def revoke_ask(query: CallbackQuery, callback_data: AccessCb, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.revoke_asked(flow_ctx, callback_data.ref, callback_data.n))


@open_router.callback_query(AccessCb.filter(F.action == AccessAction.REVOKE_CONFIRM))
async def revoke(query: CallbackQuery, callback_data: AccessCb, flow_ctx: FlowContext) -> None:
    await answer_all(
        query, await flow.revoke_confirmed(flow_ctx, callback_data.ref, callback_data.n)
    )


@open_router.callback_query(AccessCb.filter(F.action == AccessAction.KEEP))
async def keep(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    await answer_all(query, await flow.kept(flow_ctx))
