"""Commands that work in every state and before consent: /help and /cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.services import linking
from handlers.texts import help_text
from keyboards.menu import MENU_HELP, main_menu

router = Router(name=__name__)


@router.message(Command("help"))
@router.message(F.text == MENU_HELP)
async def help_command(message: Message) -> None:
    await message.answer(help_text())


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext, user: User, session: AsyncSession) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    # A half-finished linking keeps an encrypted policy in a draft; leaving drops it.
    await linking.drop_drafts(session, user)
    text = _("Cancelled.") if had_state else _("Nothing to cancel.")
    if user.has_consent:
        await message.answer(text, reply_markup=main_menu())
    else:
        await message.answer(text + " " + _("Send /start to begin."))
