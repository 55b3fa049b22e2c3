"""What the bot keeps about me; who has access to my card and who viewed it; withdrawing
consent; deleting my data (/forget).

Withdrawing consent stops the bot working with one's data but ends nobody's access: the people
one gave access to one's card keep it until it is revoked (which works without consent, see
`handlers.access_owner.open_router`). /forget ends all access the bot set up, both ways.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.types import User as TgUser
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.db.models import User
from bot.flows import privacy as privacy_flow
from bot.flows import records as records_flow
from bot.flows.context import FlowContext
from bot.keys import AppKeys
from bot.services import people as people_service
from bot.services import privacy as privacy_service
from bot.services import users as users_service
from bot.services.privacy import AccessGiven
from handlers import render
from handlers.access_texts import esc, requester_of
from handlers.render import answer_all
from keyboards.menu import MENU_PRIVACY
from keyboards.privacy import (
    PrivacyAction,
    PrivacyCb,
    access_keyboard,
    confirm_keyboard,
)

router = Router(name=__name__)


@router.message(Command("privacy"))
@router.message(F.text == MENU_PRIVACY)
async def privacy(message: Message, clock: Clock, user: User, session: AsyncSession) -> None:
    summary = await privacy_service.stored_summary(session, user, clock())
    await render.send(message, privacy_flow.summary_screen(summary, _))


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.JOURNAL))
async def journal(query: CallbackQuery, flow_ctx: FlowContext) -> None:
    """The journal ("who viewed my card"): the same screen as in the medical record (and, like
    every part of "My data", with or without consent)."""
    await answer_all(query, await records_flow.journal(flow_ctx))


async def _access_given(
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    backend: RecordsBackend,
    tg_user: TgUser | None,
    *,
    clock: Clock,
) -> AccessGiven:
    requester = await requester_of(session, keys, user, tg_user, clock())
    return await privacy_service.access_given(session, backend, user, requester, clock())


def _names(given: AccessGiven) -> str:
    return ", ".join(esc(name) for name in given.names or ())


def _withdraw_question(given: AccessGiven, has_people: bool) -> str:
    parts = [
        _(
            "Withdraw consent? The bot will stop working with your medical data, and the menu "
            "will close until you agree again (/start). What the bot keeps stays stored until "
            "you delete it with /forget."
        )
    ]
    if given.names:
        parts.append(
            _(
                "Access to your card that you gave stays until you revoke it: {names}. You can "
                "revoke it now or later, also without consent: “🔑 Who has access to my card” "
                "in /privacy."
            ).format(names=_names(given))
        )
    elif given.names is None:
        parts.append(
            _(
                "If you gave anyone access to your card, they keep it until you revoke it. You "
                "can do that now or later, also without consent: “🔑 Who has access to my "
                "card” in /privacy."
            )
        )
    if has_people:
        parts.append(
            _(
                "/forget deletes everything the bot keeps and ends all access it set up: yours "
                "to the cards in My people, and other people's to your card."
            )
        )
    return "\n\n".join(parts)


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.WITHDRAW))
async def withdraw_ask(
    query: CallbackQuery,
    clock: Clock,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    given = await _access_given(session, keys, user, backend, query.from_user, clock=clock)
    has_people = await people_service.count_people(session, user) > 0
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _withdraw_question(given, has_people),
            reply_markup=confirm_keyboard(
                PrivacyAction.WITHDRAW_CONFIRM, _("Yes, withdraw"), with_access=given.has_own_card
            ),
        )


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.WITHDRAW_CONFIRM))
async def withdraw(
    query: CallbackQuery,
    user: User,
    state: FSMContext,
    session: AsyncSession,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    users_service.withdraw_consent(user, clock())
    await state.clear()
    await query.answer(_("Consent withdrawn"))
    given = await _access_given(session, keys, user, backend, query.from_user, clock=clock)
    text = _("Consent withdrawn. To use the bot again, send /start.")
    if given.names:
        text += "\n\n" + _(
            "Access to your card stays: {names}. To revoke it, use the button below or, later, "
            "/privacy."
        ).format(names=_names(given))
    elif given.names is None:
        text += "\n\n" + _(
            "If you gave anyone access to your card, they keep it. To revoke it, use the button "
            "below or, later, /privacy."
        )
    markup = access_keyboard() if given.names is None or given.names else None
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
        await query.message.answer(_("The menu is hidden."), reply_markup=ReplyKeyboardRemove())


async def _forget_question(
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    backend: RecordsBackend,
    tg_user: TgUser | None,
    *,
    clock: Clock,
) -> str:
    text = _("Delete everything the bot keeps about you? This cannot be undone.")
    people = await people_service.count_people(session, user)
    if people == 0:
        return text
    given = await _access_given(session, keys, user, backend, tg_user, clock=clock)
    ends = [
        ngettext(
            "your access to {count} card in My people",
            "your access to {count} cards in My people",
            people,
        ).format(count=people)
    ]
    if given.names:
        ends.append(_("the access to your card that you gave: {names}").format(names=_names(given)))
    elif given.names is None:
        ends.append(_("any access to your card that you gave to others"))
    text += "\n\n" + _("This also ends:") + "".join(f"\n• {line}" for line in ends)
    if given.names or given.names is None:
        text += "\n\n" + _(
            "If you want them to keep it, withdraw consent instead (/privacy): the access you "
            "gave then stays."
        )
    return text


@router.message(Command("forget"))
async def forget_ask(
    message: Message,
    clock: Clock,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    text = await _forget_question(session, keys, user, backend, message.from_user, clock=clock)
    await message.answer(
        text, reply_markup=confirm_keyboard(PrivacyAction.FORGET_CONFIRM, _("Yes, delete"))
    )


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.FORGET))
async def forget_ask_button(
    query: CallbackQuery,
    clock: Clock,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    text = await _forget_question(session, keys, user, backend, query.from_user, clock=clock)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            text, reply_markup=confirm_keyboard(PrivacyAction.FORGET_CONFIRM, _("Yes, delete"))
        )


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.FORGET_CONFIRM))
async def forget(
    query: CallbackQuery,
    clock: Clock,
    user: User,
    session: AsyncSession,
    state: FSMContext,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    # Grants are revoked at the backend first (others' to the user's card, then the user's
    # own), so nobody keeps access the user could no longer see or revoke.
    requester = await requester_of(session, keys, user, query.from_user, clock())
    await privacy_service.forget_user(session, user, clock(), backend, requester)
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
