"""The owner in control: who has access to my card, and revoking it (also from the alert).

Two routers. `router` (the /access command and the menu button) sits behind consent with the
other features. `open_router` (the list's and the alert's buttons, and the list opened from
"My data") works with or without consent: revoking someone's access to my own card only takes
rights away, and withdrawing consent must not make that harder (152-FZ). It is still
authorized on every press: the grant is looked up in the presser's own live list, which the
backend answers only for the card's owner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Grant, Requester
from backend_client.protocol import MAX_RECIPIENTS, RecordsBackend
from bot.clock import Clock
from bot.crypto import FieldCipher
from bot.db.models import User
from bot.keys import AppKeys
from bot.services import people as people_service
from bot.services.people import AccessRefused
from handlers.access_texts import esc, refusal_text, requester_of, scope_text, until_text
from keyboards.menu import MENU_ACCESS
from keyboards.people import AccessAction, AccessCb, revoke_confirm_keyboard, revoke_keyboard

router = Router(name=__name__)
open_router = Router(name=__name__ + ".open")


@dataclass(frozen=True, slots=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None


def _grant_line(grant: Grant) -> str:
    return _("<b>{name}</b> — {scope}; {until}").format(
        name=esc(grant.requester_name),
        scope=scope_text(grant.scope),
        until=until_text(grant.expires_at),
    )


async def _list_screen(
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    requester: Requester,
    backend: RecordsBackend,
    *,
    clock: Clock,
) -> Screen:
    """The owner's live list with a revoke button per person; `AccessRefused` without a card."""
    grants = await people_service.grants_given(session, backend, user, requester, clock())
    if not grants:
        return Screen(
            _("<b>Who has access to my card</b>\nNobody but you.")
            + "\n"
            + _("At most {limit} people can have access at a time.").format(limit=MAX_RECIPIENTS),
            None,
        )
    cipher = FieldCipher(keys)
    text = (
        _("<b>Who has access to my card</b>\n")
        + "\n".join("• " + _grant_line(g) for g in grants)
        + "\n\n"
        + _("{count} of {limit} places taken. You can revoke access at any time.").format(
            count=len(grants), limit=MAX_RECIPIENTS
        )
    )
    buttons = [(people_service.grant_ref(cipher, g.grant_id), g.requester_name) for g in grants]
    return Screen(text, revoke_keyboard(buttons, in_place=True))


async def _show(query: CallbackQuery, screen: Screen, *, anew: bool = False) -> None:
    """Replace the pressed message; a new one when it came from a notification (`anew`) or
    cannot be edited any more."""
    message = query.message
    if not isinstance(message, Message):
        return
    if not anew and message.text is not None:
        try:
            await message.edit_text(screen.text, reply_markup=screen.markup)
            return
        except TelegramBadRequest as error:
            if "not modified" in str(error):
                return
    await message.answer(screen.text, reply_markup=screen.markup)


@router.message(Command("access"))
@router.message(F.text == MENU_ACCESS)
async def who_has_access(
    message: Message,
    clock: Clock,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    await state.clear()  # a menu tap ends whatever flow was open
    requester = await requester_of(session, keys, user, message.from_user, clock())
    try:
        screen = await _list_screen(session, keys, user, requester, backend, clock=clock)
    except AccessRefused as error:
        await message.answer(refusal_text(error))
        return
    await message.answer(screen.text, reply_markup=screen.markup)


@open_router.callback_query(AccessCb.filter(F.action == AccessAction.LIST))
async def who_has_access_button(
    query: CallbackQuery,
    clock: Clock,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    """The list from "My data" or the withdraw question, as a message of its own."""
    requester = await requester_of(session, keys, user, query.from_user, clock())
    try:
        screen = await _list_screen(session, keys, user, requester, backend, clock=clock)
    except AccessRefused as error:
        await query.answer(refusal_text(error), show_alert=True)
        return
    await query.answer()
    await _show(query, screen, anew=True)


async def _refresh_list(
    query: CallbackQuery,
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    requester: Requester,
    backend: RecordsBackend,
    *,
    before: str = "",
    anew: bool = False,
    clock: Clock,
) -> None:
    """Show the list as it is now (a revoked person's button gone), after `before`."""
    try:
        screen = await _list_screen(session, keys, user, requester, backend, clock=clock)
    except AccessRefused as error:
        screen = Screen(refusal_text(error), None)
    text = f"{before}\n\n{screen.text}" if before else screen.text
    await _show(query, Screen(text, screen.markup), anew=anew)


GrantLookup = Callable[
    [AsyncSession, RecordsBackend, FieldCipher, User, Requester, str, datetime],
    Awaitable[Grant | None],
]
"""`find_given` or `revoke_given`: the owner's live grant named by a button's reference."""


async def _own_grant(
    query: CallbackQuery,
    callback_data: AccessCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    lookup: GrantLookup,
    action: str,
    *,
    clock: Clock,
) -> tuple[Requester, Grant] | None:
    """The grant the button names, through `lookup` (the backend asked now); None after
    answering the press: no own card any more, or the access has already ended (then the list
    as it is now, unless pressed on the alert, which stays as it was)."""
    requester = await requester_of(session, keys, user, query.from_user, clock())
    try:
        grant = await lookup(
            session, backend, FieldCipher(keys), user, requester, callback_data.ref, clock()
        )
    except AccessRefused as error:
        people_service.log_denied(user, None, error.reason, action)
        await query.answer(refusal_text(error), show_alert=True)
        return None
    if grant is None:
        await query.answer(_("This access has already ended."), show_alert=True)
        if not callback_data.n:
            await _refresh_list(query, session, keys, user, requester, backend, clock=clock)
        return None
    return requester, grant


@open_router.callback_query(AccessCb.filter(F.action == AccessAction.REVOKE))
async def revoke_ask(
    query: CallbackQuery,
    clock: Clock,
    callback_data: AccessCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    """Nothing is revoked yet: getting access back takes a new code from the owner's SMS."""
    found = await _own_grant(
        query,
        callback_data,
        session,
        user,
        keys,
        backend,
        people_service.find_given,
        "revoke_ask",
        clock=clock,
    )
    if found is None:
        return
    grant = found[1]
    await query.answer()
    text = _(
        "<b>Revoke access to your medical card?</b>\n"
        "{line}\n\n"
        "The access ends at once. To get it back, this person will need a new code from the "
        "SMS sent to your phone."
    ).format(line=_grant_line(grant))
    await _show(
        query, Screen(text, revoke_confirm_keyboard(callback_data.ref)), anew=callback_data.n
    )


@open_router.callback_query(AccessCb.filter(F.action == AccessAction.REVOKE_CONFIRM))
async def revoke(
    query: CallbackQuery,
    clock: Clock,
    callback_data: AccessCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    found = await _own_grant(
        query,
        callback_data,
        session,
        user,
        keys,
        backend,
        people_service.revoke_given,
        "revoke_given",
        clock=clock,
    )
    if found is None:
        return
    requester, revoked = found
    await query.answer(_("Access revoked"))
    # "Access revoked: Anna S." — a label is "Name I.", which Russian cannot decline; it also
    # ends with a dot, so nothing follows it on its line.
    done = _("✅ Access revoked: {name}\nThey can no longer use your card.").format(
        name=esc(revoked.requester_name)
    )
    await _refresh_list(query, session, keys, user, requester, backend, before=done, clock=clock)


@open_router.callback_query(AccessCb.filter(F.action == AccessAction.KEEP))
async def keep(
    query: CallbackQuery,
    clock: Clock,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    await query.answer(_("Nothing changed"))
    requester = await requester_of(session, keys, user, query.from_user, clock())
    await _refresh_list(query, session, keys, user, requester, backend, clock=clock)
