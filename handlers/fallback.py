"""The catch-all, registered last: nothing goes unanswered."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.db.models import User
from bot.flows import free_text
from bot.flows.context import FlowContext
from bot.flows.screens import Screen
from bot.flows.start import consent_screen
from bot.services import linking
from handlers.access_texts import delete_sensitive, sensitive_deleted_text
from handlers.render import send, send_all
from keyboards.menu import main_menu

router = Router(name=__name__)


def _is_media(message: Message) -> bool:
    return any(
        (message.voice, message.audio, message.video_note, message.sticker, message.video,
         message.photo, message.document, message.animation)
    )  # fmt: skip


@router.message()
async def unknown_message(
    message: Message, user: User, state: FSMContext, flow_ctx: FlowContext | None = None
) -> None:
    # A policy number or a code that nothing was waiting for does not stay in the chat.
    kind = linking.looks_sensitive(message.text)
    if kind is not None:
        await delete_sensitive(message)
    if not user.has_consent:
        lead = sensitive_deleted_text(kind) + "\n\n" if kind is not None else ""
        if user.language is None:
            await message.answer(lead + _("Send /start to begin."))
        else:
            consent = consent_screen(_)
            await send(message, Screen(lead + consent.text, consent.rows))
        return
    if flow_ctx is not None and kind is None:
        # Free words («к окулисту», «помогите»), a voice message, a sticker: issue 14, 7.
        if _is_media(message):
            await message.answer(free_text.media_screen(flow_ctx).text, reply_markup=main_menu())
            return
        understood = await free_text.answer(flow_ctx, state, message.text or "")
        if understood is not None:
            await send_all(message, understood)
            return
    if kind is linking.Sensitive.POLICY:
        text = sensitive_deleted_text(kind) + " " + _("To link a policy, open My people.")
    elif kind is linking.Sensitive.CODE:
        text = (
            sensitive_deleted_text(kind)
            + " "
            + _("If you were linking a policy, please start again from My people.")
        )
    else:
        text = _("I did not understand that. Use the menu below, or /help.")
    await message.answer(text, reply_markup=main_menu())


@router.callback_query()
async def unknown_callback(query: CallbackQuery, user: User) -> None:
    # Stale buttons from old messages, buttons of a closed flow, forged data.
    if not user.has_consent:
        await query.answer(_("Please give consent first: send /start."), show_alert=True)
        return
    await query.answer(_("This button is out of date. Use the menu."), show_alert=True)
