"""My people: the list, one person, removing them, and the whose-card picker for features."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import BackendUnavailable
from backend_client.models import Relation, Scope
from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.crypto import FieldCipher
from bot.db.models import User
from bot.keys import AppKeys
from bot.logs import log_event, pseudonym
from bot.services import linking
from bot.services import people as people_service
from bot.services.people import REMEMBERED_PERSON_KEY, AccessRefused, Person
from handlers.access_texts import (
    esc,
    refusal_text,
    relation_text,
    requester_of,
    scope_text,
    until_text,
)
from keyboards.menu import MENU_PEOPLE
from keyboards.people import (
    PersonAction,
    PersonCb,
    people_keyboard,
    person_keyboard,
    unlink_confirm_keyboard,
    whose_card_keyboard,
)

router = Router(name=__name__)
logger = logging.getLogger(__name__)
# FSM data: the row whose removal the user was just asked about (an id only).
UNLINK_ASKED_KEY = "unlink_asked"


def person_line(person: Person) -> str:
    return _("<b>{label}</b> — {relation}; {scope}; {until}").format(
        label=esc(person.label),
        relation=relation_text(person.relation),
        scope=scope_text(person.scope),
        until=until_text(person.expires_at),
    )


@router.message(Command("people"))
@router.message(F.text == MENU_PEOPLE)
async def my_people(
    message: Message,
    clock: Clock,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    await state.clear()  # a menu tap ends whatever flow was open, and its draft
    await linking.drop_drafts(session, user)
    requester = await requester_of(session, keys, user, message.from_user, clock())
    try:
        # Grants revoked by an owner or ended (a child who turned 15) disappear from the list.
        await people_service.drop_inactive(session, backend, user, requester.id, clock())
    except BackendUnavailable:
        log_event(logger, "people.sync_skipped", logging.WARNING)
    people = await people_service.list_people(session, FieldCipher(keys), user, clock())
    has_own = any(p.relation is Relation.SELF for p in people)
    if people:
        text = _("<b>My people</b>\n") + "\n".join("• " + person_line(p) for p in people)
    else:
        text = _(
            "<b>My people</b>\nNobody yet. Link your own OMS policy, and with their code "
            "a relative's; a parent can add a child under 15."
        )
    await message.answer(
        text, reply_markup=people_keyboard([(p.id, p.label) for p in people], has_own)
    )


async def _checked(
    query: CallbackQuery,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    person_id: int,
    action: str,
    *,
    clock: Clock,
) -> Person | None:
    """The person if the user may act on them right now; otherwise tells the user why."""
    requester = await requester_of(session, keys, user, query.from_user, clock())
    try:
        row = await people_service.check_access(
            session,
            backend,
            user,
            person_id,
            Scope.APPOINTMENTS,
            requester,
            action=action,
            now=clock(),
        )
    except AccessRefused as error:
        await query.answer(refusal_text(error), show_alert=True)
        return None
    return people_service.to_person(FieldCipher(keys), row)


@router.callback_query(PersonCb.filter(F.action == PersonAction.VIEW))
async def view_person(
    query: CallbackQuery,
    clock: Clock,
    callback_data: PersonCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    person = await _checked(
        query, session, user, keys, backend, callback_data.id, "view", clock=clock
    )
    if person is None:
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(person_line(person), reply_markup=person_keyboard(person.id))


@router.callback_query(PersonCb.filter(F.action == PersonAction.UNLINK))
async def unlink_ask(
    query: CallbackQuery,
    clock: Clock,
    callback_data: PersonCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
) -> None:
    await _ask_unlink(query, clock, callback_data.id, state, session, user, keys)


async def _ask_unlink(
    query: CallbackQuery,
    clock: Clock,
    person_id: int,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
) -> None:
    """Asks "Remove ...?"; only then does its "Yes, remove" (for this person) remove."""
    people = await people_service.list_people(session, FieldCipher(keys), user, clock())
    person = next((p for p in people if p.id == person_id), None)
    if person is None:
        people_service.log_denied(user, person_id, AccessRefused.NOT_YOURS, "unlink")
        await query.answer(refusal_text(AccessRefused(AccessRefused.NOT_YOURS)), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _unlink_question(person), reply_markup=unlink_confirm_keyboard(person.id)
        )
        # Recorded once the question is on the screen: a "Yes" is never taken for an
        # answer to a question that was not shown.
        await state.update_data({UNLINK_ASKED_KEY: person.id})


def _unlink_question(person: Person) -> str:
    if person.relation is Relation.CHILD:
        # A child under 15 is added by the parent without a code, and can be added again.
        return _(
            "Remove {label} from My people? The access will be revoked too; you can add the "
            "child again at any time while they are under 15, without a code."
        ).format(label=esc(person.label))
    return _(
        "Remove {label} from My people? The access will be revoked too; to get it back "
        "you will need a new code."
    ).format(label=esc(person.label))


@router.callback_query(PersonCb.filter(F.action == PersonAction.UNLINK_CONFIRM))
async def unlink(
    query: CallbackQuery,
    clock: Clock,
    callback_data: PersonCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    data = await state.get_data()
    if data.get(UNLINK_ASKED_KEY) != callback_data.id:
        # "Yes, remove" without its question: forged data, or a question from before another
        # flow. Removing costs the person a new code, so the question is asked (again) first.
        log_event(logger, "people.unlink_unasked", user=pseudonym(user.telegram_id))
        await _ask_unlink(query, clock, callback_data.id, state, session, user, keys)
        return
    requester = await requester_of(session, keys, user, query.from_user, clock())
    try:
        await people_service.unlink(session, backend, user, callback_data.id, requester)
    except AccessRefused as error:
        await state.update_data({UNLINK_ASKED_KEY: None})
        await query.answer(refusal_text(error), show_alert=True)
        return
    answered: dict[str, object] = {UNLINK_ASKED_KEY: None}  # one question, one removal
    if data.get(REMEMBERED_PERSON_KEY) == callback_data.id:
        answered[REMEMBERED_PERSON_KEY] = None
    await state.update_data(answered)
    log_event(logger, "people.unlinked", user=pseudonym(user.telegram_id))
    await query.answer(_("Removed"))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Removed from My people; the access is revoked."), reply_markup=None
        )


# --- whose card -----------------------------------------------------------------------------


async def ask_whose_card(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    needed: Scope,
    *,
    clock: Clock,
) -> Person | None:
    """For features acting on a patient: the person to act for, or None after asking.

    Asks "for whom?" with a keyboard of people when there is more than one and none was chosen
    in this conversation; the choice comes back through `PersonCb(action=PICK)`. The caller
    must still run `people_service.check_access` before touching the patient.
    """
    people = await people_service.list_people(session, FieldCipher(keys), user, clock())
    remembered = (await state.get_data()).get(REMEMBERED_PERSON_KEY)
    choice = people_service.whose_card(people, remembered, needed)
    if choice.chosen is not None:
        return choice.chosen
    if not choice.choices:
        await message.answer(
            _("There is nobody whose card you can use for this. Open My people to link a policy.")
        )
        return None
    await message.answer(
        _("For whom?"), reply_markup=whose_card_keyboard([(p.id, p.label) for p in choice.choices])
    )
    return None


@router.callback_query(PersonCb.filter(F.action == PersonAction.PICK))
async def person_picked(
    query: CallbackQuery,
    clock: Clock,
    callback_data: PersonCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
) -> None:
    person = await _checked(
        query, session, user, keys, backend, callback_data.id, "pick", clock=clock
    )
    if person is None:
        return
    await state.update_data({REMEMBERED_PERSON_KEY: person.id})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Acting for: <b>{label}</b>.").format(label=esc(person.label)), reply_markup=None
        )
