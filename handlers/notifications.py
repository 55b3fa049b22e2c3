"""Notification settings: a switch per kind, quiet hours, reminder times (all per user)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.models import User
from bot.services.notifications import settings as prefs_service
from bot.services.notifications.kinds import Switch
from keyboards.menu import MENU_NOTIFICATIONS
from keyboards.notifications import (
    NotifySetCb,
    SetAction,
    offsets_keyboard,
    quiet_keyboard,
    settings_keyboard,
)

router = Router(name=__name__)


def _home_text() -> str:
    return _(
        "<b>🔔 Notifications</b>\n"
        "Choose what the bot tells you about: for your own card and for the people you "
        "manage. Results come only for cards where you may view the record.\n\n"
        "During quiet hours the bot waits with news; visit reminders are sent before the "
        "quiet hours start, and clinic cancellations come at once."
    )


async def _show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


@router.message(Command("notifications"))
@router.message(F.text == MENU_NOTIFICATIONS)
async def notifications_home(message: Message, user: User, session: AsyncSession) -> None:
    prefs = await prefs_service.load_prefs(session, user.id)
    await message.answer(_home_text(), reply_markup=settings_keyboard(prefs, _locale()))


def _locale() -> str:
    return get_i18n().current_locale


@router.callback_query(NotifySetCb.filter(F.action == SetAction.HOME))
async def back_home(query: CallbackQuery, user: User, session: AsyncSession) -> None:
    prefs = await prefs_service.load_prefs(session, user.id)
    await _show(query, _home_text(), settings_keyboard(prefs, _locale()))


@router.callback_query(NotifySetCb.filter(F.action == SetAction.SWITCH))
async def toggle_switch(
    query: CallbackQuery,
    callback_data: NotifySetCb,
    user: User,
    session: AsyncSession,
    clock: Clock,
) -> None:
    try:
        switch = Switch(callback_data.value)
    except ValueError:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    prefs = await prefs_service.toggle_switch(session, user.id, switch, now=clock())
    await _show(query, _home_text(), settings_keyboard(prefs, _locale()))


def _quiet_text() -> str:
    return _(
        "<b>🌙 Quiet hours</b> (Moscow time)\n"
        "News waits until they end; visit reminders that would fall inside them are sent "
        "before they start."
    )


@router.callback_query(NotifySetCb.filter(F.action == SetAction.QUIET))
async def quiet(query: CallbackQuery, user: User, session: AsyncSession) -> None:
    prefs = await prefs_service.load_prefs(session, user.id)
    await _show(query, _quiet_text(), quiet_keyboard(prefs))


@router.callback_query(NotifySetCb.filter(F.action == SetAction.QUIET_TOGGLE))
async def quiet_toggle(
    query: CallbackQuery, user: User, session: AsyncSession, clock: Clock
) -> None:
    prefs = await prefs_service.toggle_quiet(session, user.id, now=clock())
    await _show(query, _quiet_text(), quiet_keyboard(prefs))


@router.callback_query(
    NotifySetCb.filter(F.action.in_({SetAction.QUIET_START, SetAction.QUIET_END}))
)
async def quiet_bound(
    query: CallbackQuery,
    callback_data: NotifySetCb,
    user: User,
    session: AsyncSession,
    clock: Clock,
) -> None:
    start = callback_data.action is SetAction.QUIET_START
    if not callback_data.value:  # the picker itself
        prefs = await prefs_service.load_prefs(session, user.id)
        prompt = _("When do quiet hours start?") if start else _("When do quiet hours end?")
        await _show(query, prompt, quiet_keyboard(prefs, callback_data.action))
        return
    try:
        prefs = await prefs_service.set_quiet_bound(
            session, user.id, start=start, minute=int(callback_data.value), now=clock()
        )
    except prefs_service.EmptyQuietHours:
        await query.answer(
            _("Quiet hours cannot start and end at the same time. To have none, turn them off."),
            show_alert=True,
        )
        return
    except ValueError:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await _show(query, _quiet_text(), quiet_keyboard(prefs))


def _offsets_text() -> str:
    return _(
        "<b>⏰ Visit reminders</b>\n"
        "When to remind you before each visit (up to four times). Turn all off to get no "
        "reminders."
    )


@router.callback_query(NotifySetCb.filter(F.action == SetAction.OFFSETS))
async def offsets(query: CallbackQuery, user: User, session: AsyncSession) -> None:
    prefs = await prefs_service.load_prefs(session, user.id)
    await _show(query, _offsets_text(), offsets_keyboard(prefs, _locale()))


@router.callback_query(NotifySetCb.filter(F.action == SetAction.OFFSET_TOGGLE))
async def offset_toggle(
    query: CallbackQuery,
    callback_data: NotifySetCb,
    user: User,
    session: AsyncSession,
    clock: Clock,
) -> None:
    try:
        prefs = await prefs_service.toggle_offset(
            session, user.id, int(callback_data.value), now=clock()
        )
    except ValueError:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await _show(query, _offsets_text(), offsets_keyboard(prefs, _locale()))
