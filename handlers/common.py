"""Commands that work in every state and before consent: /help and /cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.flows import free_text
from bot.flows.appointment_common import booking_open
from bot.flows.context import FlowContext
from bot.services import linking
from handlers.render import send_all
from handlers.texts import help_text
from keyboards.menu import MENU_HELP, main_menu

router = Router(name=__name__)


@router.message(Command("help"))
@router.message(F.text == MENU_HELP)
async def help_command(message: Message, flow_ctx: FlowContext | None = None) -> None:
    # What the bot does, and where to turn when something does not work (issue 14).
    if flow_ctx is None:  # no database row for this update: the plain help
        await message.answer(help_text())
        return
    await send_all(message, free_text.help_screens(flow_ctx))


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext, user: User, session: AsyncSession) -> None:
    had_state = await state.get_state() is not None or await booking_open(state)
    await state.clear()
    # A half-finished linking keeps an encrypted policy in a draft; leaving drops it.
    await linking.drop_drafts(session, user)
    text = _("Cancelled.") if had_state else _("Nothing to cancel.")
    if user.has_consent:
        await message.answer(text, reply_markup=main_menu())
    else:
        await message.answer(text + " " + _("Send /start to begin."))
