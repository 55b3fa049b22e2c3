"""What the bot keeps about me; withdrawing consent; deleting my data (/forget)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.protocol import RecordsBackend
from bot.db.models import User
from bot.keys import AppKeys
from bot.services import privacy as privacy_service
from bot.services import users as users_service
from handlers.access_texts import requester_of
from keyboards.menu import MENU_PRIVACY
from keyboards.privacy import PrivacyAction, PrivacyCb, confirm_keyboard, privacy_keyboard

router = Router(name=__name__)


@router.message(Command("privacy"))
@router.message(F.text == MENU_PRIVACY)
async def privacy(message: Message, user: User, session: AsyncSession) -> None:
    summary = await privacy_service.stored_summary(session, user)
    text = _(
        "<b>What the bot keeps about you</b>\n"
        "• Telegram id and language\n"
        "• consent given: {consent}\n"
        "• linked people: {people}\n\n"
        "Your medical records are not stored: they are read from the EMK when you open them."
    ).format(
        consent=_("yes") if summary.has_consent else _("no"),
        people=summary.linked_people,
    )
    await message.answer(text, reply_markup=privacy_keyboard())


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.WITHDRAW))
async def withdraw_ask(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Withdraw consent? The bot will stop working with your medical data."),
            reply_markup=confirm_keyboard(PrivacyAction.WITHDRAW_CONFIRM, _("Yes, withdraw")),
        )


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.WITHDRAW_CONFIRM))
async def withdraw(query: CallbackQuery, user: User, state: FSMContext) -> None:
    users_service.withdraw_consent(user)
    await state.clear()
    await query.answer(_("Consent withdrawn"))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Consent withdrawn. To use the bot again, send /start."), reply_markup=None
        )
        await query.message.answer(_("The menu is hidden."), reply_markup=ReplyKeyboardRemove())


@router.message(Command("forget"))
async def forget_ask(message: Message) -> None:
    await message.answer(
        _("Delete everything the bot keeps about you? This cannot be undone."),
        reply_markup=confirm_keyboard(PrivacyAction.FORGET_CONFIRM, _("Yes, delete")),
    )


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.FORGET))
async def forget_ask_button(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Delete everything the bot keeps about you? This cannot be undone."),
            reply_markup=confirm_keyboard(PrivacyAction.FORGET_CONFIRM, _("Yes, delete")),
        )


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.FORGET_CONFIRM))
async def forget(
    query: CallbackQuery,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    # Grants are revoked at the backend first, so nobody keeps access the user can't see.
    requester = await requester_of(session, keys, user, query.from_user)
    await privacy_service.forget_user(session, user, backend, requester)
    await state.clear()
    await query.answer(_("Deleted"))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Everything the bot kept about you has been deleted. Send /start to begin again."),
            reply_markup=None,
        )
        await query.message.answer(_("The menu is hidden."), reply_markup=ReplyKeyboardRemove())


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.KEEP))
async def keep(query: CallbackQuery) -> None:
    await query.answer(_("Nothing changed"))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
