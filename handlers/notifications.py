"""Notification settings on Telegram: routes into `bot.flows.notification_settings`."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.models import User
from bot.flows import notification_settings as flow
from handlers.flow_context import flow_context
from handlers.render import answer_all, send_all
from keyboards.menu import MENU_NOTIFICATIONS
from keyboards.notifications import NotifySetCb

router = Router(name=__name__)


@router.message(Command("notifications"))
@router.message(F.text == MENU_NOTIFICATIONS)
async def notifications_home(
    message: Message, user: User, session: AsyncSession, clock: Clock, i18n: I18n
) -> None:
    await send_all(message, await flow.home(flow_context(user, session, clock, i18n)))


@router.callback_query(NotifySetCb.filter())
async def settings_pressed(
    query: CallbackQuery,
    callback_data: NotifySetCb,
    user: User,
    session: AsyncSession,
    clock: Clock,
    i18n: I18n,
) -> None:
    ctx = flow_context(user, session, clock, i18n)
    await answer_all(query, await flow.press(ctx, callback_data.action, callback_data.value))
