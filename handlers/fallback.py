"""The catch-all, registered last: nothing goes unanswered."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.db.models import User
from handlers.texts import consent_text
from keyboards.menu import main_menu
from keyboards.start import consent_keyboard

router = Router(name=__name__)


@router.message()
async def unknown_message(message: Message, user: User) -> None:
    if not user.has_consent:
        if user.language is None:
            await message.answer(_("Send /start to begin."))
        else:
            await message.answer(consent_text(), reply_markup=consent_keyboard())
        return
    await message.answer(
        _("I did not understand that. Use the menu below, or /help."), reply_markup=main_menu()
    )


@router.callback_query()
async def unknown_callback(query: CallbackQuery, user: User) -> None:
    # Stale buttons from old messages, buttons of a closed flow, forged data.
    if not user.has_consent:
        await query.answer(_("Please give consent first: send /start."), show_alert=True)
        return
    await query.answer(_("This button is out of date. Use the menu."), show_alert=True)
