"""First conversation: language, consent, main menu."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.models import User
from bot.services import users as users_service
from handlers.policies import LinkFlow, leaves_linking, linking_interrupted
from handlers.texts import consent_text
from keyboards.menu import MENU_LANGUAGE, main_menu
from keyboards.start import (
    ConsentAction,
    ConsentCb,
    LanguageCb,
    consent_keyboard,
    language_keyboard,
)

router = Router(name=__name__)

# Registered before everything else: a menu button or a command in the middle of linking ends
# the linking with one line saying so, then the button's own handler answers (`SkipHandler`).
router.message(StateFilter(LinkFlow), leaves_linking)(linking_interrupted)


async def show_menu(message: Message, text: str | None = None) -> None:
    await message.answer(text or _("Main menu. Choose what to do:"), reply_markup=main_menu())


@router.message(CommandStart())
async def start(message: Message, user: User, state: FSMContext) -> None:
    await state.clear()
    if user.language is None:
        await message.answer(
            "Выберите язык / Choose your language:", reply_markup=language_keyboard()
        )
        return
    if not user.has_consent:
        await message.answer(consent_text(), reply_markup=consent_keyboard())
        return
    await show_menu(message, _("Welcome back! Choose what to do:"))


@router.message(Command("language"))
@router.message(F.text == MENU_LANGUAGE)
async def choose_language(message: Message) -> None:
    await message.answer("Выберите язык / Choose your language:", reply_markup=language_keyboard())


@router.callback_query(LanguageCb.filter())
async def language_chosen(
    query: CallbackQuery, callback_data: LanguageCb, user: User, i18n: I18n
) -> None:
    if callback_data.code not in i18n.available_locales:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    users_service.set_language(user, callback_data.code)
    with i18n.use_locale(callback_data.code):
        await query.answer(_("Language changed"))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            if user.has_consent:
                await show_menu(query.message, _("Done. Choose what to do:"))
            else:
                await query.message.answer(consent_text(), reply_markup=consent_keyboard())


@router.callback_query(ConsentCb.filter(F.action == ConsentAction.ACCEPT))
async def consent_accepted(
    query: CallbackQuery, user: User, session: AsyncSession, clock: Clock
) -> None:
    users_service.give_consent(user, clock())
    await session.flush()
    await query.answer(_("Thank you"))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await show_menu(query.message, _("Consent recorded. Choose what to do:"))


@router.callback_query(ConsentCb.filter(F.action == ConsentAction.DECLINE))
async def consent_declined(query: CallbackQuery, user: User) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        if user.has_consent:
            # An old "Decline" button under a consent already given: nothing changes here;
            # withdrawing is a deliberate step of its own.
            await query.message.answer(
                _(
                    "You have already given your consent, and it stays recorded. To withdraw "
                    "it and delete your data, use /privacy."
                )
            )
            return
        await query.message.answer(
            _(
                "Without consent the bot cannot work with your medical data, so it will not "
                "store anything about you. If you change your mind, send /start."
            )
        )
