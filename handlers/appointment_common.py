"""What the appointment handlers share: acting for a person (the grant re-checked on every
tap), the booking draft in FSM data, and honest answers to stale buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.types import User as TgUser
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Scope
from backend_client.protocol import RecordsBackend
from bot.crypto import FieldCipher
from bot.db.models import User
from bot.keys import AppKeys
from bot.services import people as people_service
from bot.services.appointments.booking import DRAFT_KEY, BookingDraft
from bot.services.people import REMEMBERED_PERSON_KEY, AccessRefused
from handlers.access_texts import refusal_text, requester_of
from handlers.appointment_texts import stale_text
from keyboards.menu import main_menu


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class Acting:
    """The checked right to act for one person right now (never stored)."""

    person_id: int
    label: str
    grant_id: str
    requester_id: str


async def acting_for(
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    backend: RecordsBackend,
    tg_user: TgUser | None,
    person_id: object,
    now: datetime,
    action: str,
) -> Acting:
    """Raises `AccessRefused` unless the user's current grant allows appointments."""
    requester = await requester_of(session, keys, user, tg_user, now)
    row = await people_service.check_access(
        session, backend, user, person_id, Scope.APPOINTMENTS, requester, action=action, now=now
    )
    label = people_service.to_person(FieldCipher(keys), row).label
    return Acting(row.id, label, row.grant_id, requester.id)


async def load_draft(state: FSMContext) -> BookingDraft | None:
    return BookingDraft.from_data(await state.get_data())


async def save_draft(state: FSMContext, draft: BookingDraft) -> None:
    await state.update_data({DRAFT_KEY: draft.to_data(), REMEMBERED_PERSON_KEY: draft.person_id})


async def drop_draft(state: FSMContext) -> None:
    await state.update_data({DRAFT_KEY: None})


async def fresh_menu(query: CallbackQuery, text: str) -> None:
    """Answer a button that can no longer do what it says, and put the way home in reach."""
    await query.answer(text, show_alert=True)
    if isinstance(query.message, Message):
        await query.message.answer(_("Choose what to do from the menu."), reply_markup=main_menu())


async def stale(query: CallbackQuery) -> None:
    await fresh_menu(query, stale_text())


async def refused(query: CallbackQuery, error: AccessRefused) -> None:
    await fresh_menu(query, refusal_text(error))


async def edit_or_send(query: CallbackQuery, screen: Screen, *, anew: bool = False) -> None:
    """Replace the pressed message (the flow moves on in place); send anew if it cannot be.

    `anew`: the press came from a notification (its button's `n`). The notification stays in
    the chat as it was, and the flow opens in a message of its own, which its next steps edit.
    """
    message = query.message
    if message is None:
        return
    if anew or not isinstance(message, Message) or message.text is None:
        # Protected: flow screens name people, doctors and visits.
        await message.answer(screen.text, reply_markup=screen.markup, protect_content=True)
        return
    try:
        await message.edit_text(screen.text, reply_markup=screen.markup)
    except TelegramBadRequest as error:
        if "not modified" not in str(error):  # the same screen pressed again is fine
            raise


async def draft_and_acting(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    now: datetime,
) -> tuple[BookingDraft, Acting] | None:
    """The open draft and a fresh check of the grant; None after answering the user."""
    draft = await load_draft(state)
    if draft is None:
        await stale(query)
        return None
    try:
        acting = await acting_for(
            session, keys, user, backend, query.from_user, draft.person_id, now, "book"
        )
    except AccessRefused as error:
        await drop_draft(state)
        await refused(query, error)
        return None
    return draft, acting
