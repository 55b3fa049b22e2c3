"""Notification settings on Telegram: routes into `bot.flows.notification_settings`."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.flows import notification_settings as flow
from bot.flows.context import FlowContext
from handlers.render import answer_all, send_all
from keyboards.menu import MENU_NOTIFICATIONS
from keyboards.notifications import NotifySetCb

router = Router(name=__name__)


@router.message(Command("notifications"))
@router.message(F.text == MENU_NOTIFICATIONS)
async def notifications_home(message: Message, flow_ctx: FlowContext) -> None:
    await send_all(message, await flow.home(flow_ctx))


@router.callback_query(NotifySetCb.filter())
async def settings_pressed(
    query: CallbackQuery, callback_data: NotifySetCb, flow_ctx: FlowContext
) -> None:
    await answer_all(query, await flow.press(flow_ctx, callback_data.action, callback_data.value))
