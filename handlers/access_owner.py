"""The owner in control: who has access to my card, and revoking it (also from the alert)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.protocol import MAX_RECIPIENTS, RecordsBackend
from bot.crypto import FieldCipher
from bot.db.models import User
from bot.keys import AppKeys
from bot.services import people as people_service
from bot.services.people import AccessRefused
from handlers.access_texts import esc, refusal_text, requester_of, scope_text, until_text
from keyboards.menu import MENU_ACCESS
from keyboards.people import AccessAction, AccessCb, revoke_keyboard

router = Router(name=__name__)


@router.message(Command("access"))
@router.message(F.text == MENU_ACCESS)
async def who_has_access(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    await state.clear()  # a menu tap ends whatever flow was open
    requester = await requester_of(session, keys, user, message.from_user)
    try:
        grants = await people_service.grants_given(session, backend, user, requester)
    except AccessRefused as error:
        await message.answer(refusal_text(error))
        return
    if not grants:
        await message.answer(
            _("<b>Who has access to my card</b>\nNobody but you.")
            + "\n"
            + _("At most {limit} people can have access at a time.").format(limit=MAX_RECIPIENTS)
        )
        return
    cipher = FieldCipher(keys)
    lines = [
        "• "
        + _("<b>{name}</b> — {scope}; {until}").format(
            name=esc(g.requester_name), scope=scope_text(g.scope), until=until_text(g.expires_at)
        )
        for g in grants
    ]
    text = (
        _("<b>Who has access to my card</b>\n")
        + "\n".join(lines)
        + "\n\n"
        + _("{count} of {limit} places taken. You can revoke access at any time.").format(
            count=len(grants), limit=MAX_RECIPIENTS
        )
    )
    buttons = [(people_service.grant_ref(cipher, g.grant_id), g.requester_name) for g in grants]
    await message.answer(text, reply_markup=revoke_keyboard(buttons))


@router.callback_query(AccessCb.filter(F.action == AccessAction.REVOKE))
async def revoke(
    query: CallbackQuery,
    callback_data: AccessCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    requester = await requester_of(session, keys, user, query.from_user)
    try:
        revoked = await people_service.revoke_given(
            session, backend, FieldCipher(keys), user, requester, callback_data.ref
        )
    except AccessRefused as error:
        people_service.log_denied(user, None, error.reason, "revoke_given")
        await query.answer(refusal_text(error), show_alert=True)
        return
    if revoked is None:
        await query.answer(_("This access has already ended."), show_alert=True)
        return
    await query.answer(_("Access revoked"))
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Access for {name} is revoked. They can no longer use your card.").format(
                name=esc(revoked.requester_name)
            )
        )
