"""My appointments: upcoming and past visits per person (or everyone), details, reschedule,
cancel. Every button re-checks the grant and reads the visit fresh from the backend."""

from __future__ import annotations

import logging
from datetime import date, datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.types import User as TgUser
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import NotFound
from backend_client.models import Appointment
from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.crypto import FieldCipher
from bot.db.models import User
from bot.keys import AppKeys
from bot.logs import log_event, pseudonym
from bot.services import people as people_service
from bot.services.appointments import booking, listing
from bot.services.appointments.booking import BookingDraft, Failure, Mode
from bot.services.appointments.clock import msk_date
from bot.services.people import AccessRefused
from handlers.access_texts import esc, refusal_text
from handlers.appointment_common import (
    Acting,
    Screen,
    acting_for,
    drop_draft,
    edit_or_send,
    fresh_menu,
    refused,
    save_draft,
)
from handlers.appointment_texts import failure_text, past_line, visit_line, visit_text
from handlers.booking_screens import ask_for_whom, days_screen, send_ics
from keyboards.appointments import (
    Flow,
    VisitAction,
    VisitCb,
    WhoCb,
    cancel_confirm_keyboard,
    visit_keyboard,
    visits_keyboard,
)
from keyboards.menu import MENU_VISITS

router = Router(name=__name__)
logger = logging.getLogger(__name__)

EVERYONE = 0
LIST_KEY = "visits_list"
"""FSM data: whose list My appointments showed last (a person row id, or 0 for everyone): a
visit's "Back" returns to it."""


async def visits_screen(
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    backend: RecordsBackend,
    tg_user: TgUser | None,
    person_id: int,
    now: datetime,
) -> Screen:
    """The list for one person, or for everyone the user may book for (person_id 0)."""
    if person_id == EVERYONE:
        people = await people_service.list_people(session, FieldCipher(keys), user, now)
        ids = [p.id for p in people]
    else:
        ids = [person_id]
    blocks, buttons = [_("<b>My appointments</b>")], []
    for pid in ids:
        try:
            acting = await acting_for(session, keys, user, backend, tg_user, pid, now, "list")
        except AccessRefused:
            if person_id != EVERYONE:
                raise
            continue  # an appointments-less grant among everyone: just not listed
        visits = await listing.visits(backend, acting.grant_id, acting.requester_id)
        today = msk_date(now)
        blocks.append(_person_block(acting, visits, today))
        buttons += [
            (acting.person_id, v.appointment_id, f"{acting.label}: {_plain(v, today)}")
            if len(ids) > 1
            else (acting.person_id, v.appointment_id, _plain(v, today))
            for v in visits.upcoming
        ]
    if buttons:
        blocks.append(_("Tap a visit to see it, move or cancel it."))
    return Screen("\n\n".join(blocks), visits_keyboard(buttons) if buttons else None)


def _plain(visit: Appointment, today: date) -> str:
    return visit_line(visit, today, html=False)


def _person_block(acting: Acting, visits: listing.Visits, today: date) -> str:
    lines = [f"<b>{esc(acting.label)}</b>"]
    if visits.upcoming:
        lines.append(_("Upcoming:"))
        lines += ["• " + visit_line(v, today) for v in visits.upcoming]
    else:
        lines.append(_("No upcoming appointments."))
    if visits.past:
        lines.append(_("Past and cancelled:"))
        lines += ["• " + past_line(v, today) for v in visits.past]
    return "\n".join(lines)


@router.message(F.text == MENU_VISITS)
async def visits_start(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    await state.set_state(None)
    await drop_draft(state)
    person_id = await ask_for_whom(message, session, user, keys, Flow.LIST, clock(), with_all=True)
    if person_id is None:
        return
    try:
        screen = await visits_screen(
            session, keys, user, backend, message.from_user, person_id, clock()
        )
    except AccessRefused as error:
        await message.answer(refusal_text(error))
        return
    await state.update_data({LIST_KEY: person_id})
    await message.answer(screen.text, reply_markup=screen.markup, protect_content=True)


@router.callback_query(WhoCb.filter(F.flow == Flow.LIST))
async def visits_for(
    query: CallbackQuery,
    callback_data: WhoCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    try:
        screen = await visits_screen(
            session, keys, user, backend, query.from_user, callback_data.person_id, clock()
        )
    except AccessRefused as error:
        await refused(query, error)
        return
    await state.update_data({LIST_KEY: callback_data.person_id})
    await query.answer()
    await edit_or_send(query, screen, anew=callback_data.n)


async def _visit(
    query: CallbackQuery,
    callback_data: VisitCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    now: datetime,
) -> tuple[Acting, Appointment] | None:
    """The visit read fresh after the access check; None after answering the user (no access,
    or the visit is no longer this person's: then their list as it is now)."""
    try:
        acting = await acting_for(
            session, keys, user, backend, query.from_user, callback_data.person_id, now, "visit"
        )
    except AccessRefused as error:
        await refused(query, error)
        return None
    try:
        visit = await backend.get_appointment(
            acting.grant_id, acting.requester_id, callback_data.appointment_id
        )
    except NotFound:  # another patient's or an unknown id looks the same: gone
        await query.answer(failure_text(Failure.VISIT_GONE), show_alert=True)
        screen = await list_screen(session, keys, user, backend, query, acting, state, now)
        await edit_or_send(query, screen, anew=callback_data.n)
        return None
    return acting, visit


async def _back_to(state: FSMContext, acting: Acting) -> int:
    """The list a visit's "Back" leads to: the one shown last if this person was in it."""
    shown = (await state.get_data()).get(LIST_KEY)
    return shown if shown in (EVERYONE, acting.person_id) else acting.person_id


async def list_screen(
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    backend: RecordsBackend,
    query: CallbackQuery,
    acting: Acting,
    state: FSMContext,
    now: datetime,
    lead: str = "",
) -> Screen:
    """The list the user came from (or this person's), as it is now, under `lead`."""
    person_id = await _back_to(state, acting)
    try:
        screen = await visits_screen(session, keys, user, backend, query.from_user, person_id, now)
    except AccessRefused:
        screen = await visits_screen(
            session, keys, user, backend, query.from_user, acting.person_id, now
        )
    return Screen((lead + "\n\n" if lead else "") + screen.text, screen.markup)


async def visit_screen(
    state: FSMContext, acting: Acting, visit: Appointment, now: datetime
) -> Screen:
    return Screen(
        visit_text(acting.label, visit),
        visit_keyboard(
            acting.person_id,
            visit.appointment_id,
            listing.changeable(visit, now),
            back_to=await _back_to(state, acting),
        ),
    )


@router.callback_query(VisitCb.filter(F.action == VisitAction.VIEW))
async def visit_view(
    query: CallbackQuery,
    callback_data: VisitCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await _visit(query, callback_data, state, session, user, keys, backend, clock())
    if found is None:
        return
    await query.answer()
    screen = await visit_screen(state, *found, clock())
    await edit_or_send(query, screen, anew=callback_data.n)


async def _changeable(
    query: CallbackQuery,
    callback_data: VisitCb,
    state: FSMContext,
    acting: Acting,
    visit: Appointment,
    now: datetime,
) -> bool:
    """Answers a visit that is cancelled or past with an alert and the visit as it is now (a
    new message when pressed on a notification, which stays as it was)."""
    if listing.changeable(visit, now):
        return True
    await query.answer(failure_text(Failure.VISIT_FIXED), show_alert=True)
    screen = await visit_screen(state, acting, visit, now)
    await edit_or_send(query, screen, anew=callback_data.n)
    return False


@router.callback_query(VisitCb.filter(F.action == VisitAction.MOVE))
async def visit_move(
    query: CallbackQuery,
    callback_data: VisitCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await _visit(query, callback_data, state, session, user, keys, backend, clock())
    if found is None or not await _changeable(query, callback_data, state, *found, clock()):
        return
    acting, visit = found
    await query.answer()
    draft = BookingDraft(
        person_id=acting.person_id,
        mode=Mode.MOVE,
        doctor_id=visit.doctor.doctor_id,
        specialty_code=visit.doctor.specialty.code,
        appointment_id=visit.appointment_id,
    )
    # From a reminder the calendar comes as a new message; the next steps edit that one.
    screen = await days_screen(backend, acting, draft, clock())
    await edit_or_send(query, screen, anew=callback_data.n)
    await save_draft(state, draft)


@router.callback_query(VisitCb.filter(F.action == VisitAction.CANCEL))
async def visit_cancel_ask(
    query: CallbackQuery,
    callback_data: VisitCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await _visit(query, callback_data, state, session, user, keys, backend, clock())
    if found is None or not await _changeable(query, callback_data, state, *found, clock()):
        return
    acting, visit = found
    await query.answer()
    text = visit_text(acting.label, visit) + "\n\n" + _("<b>Cancel this appointment?</b>")
    screen = Screen(text, cancel_confirm_keyboard(acting.person_id, visit.appointment_id))
    await edit_or_send(query, screen, anew=callback_data.n)


@router.callback_query(VisitCb.filter(F.action == VisitAction.CANCEL_CONFIRM))
async def visit_cancel(
    query: CallbackQuery,
    callback_data: VisitCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    now = clock()
    found = await _visit(query, callback_data, state, session, user, keys, backend, now)
    if found is None:
        return
    acting, visit = found
    if not visit.is_active:
        await query.answer(_("This appointment is already cancelled."), show_alert=True)
    elif not await _changeable(query, callback_data, state, acting, visit, now):
        return
    else:
        outcome = await booking.cancel(
            backend, acting.grant_id, acting.requester_id, visit.appointment_id
        )
        if isinstance(outcome, Failure):
            await _cancel_failed(
                query, callback_data, state, session, user, keys, backend, acting, outcome, now
            )
            return
        log_event(logger, "appointment.cancelled", user=pseudonym(user.telegram_id))
        await query.answer(_("The appointment is cancelled."))
    lead = _("❌ The appointment is cancelled.")
    screen = await list_screen(session, keys, user, backend, query, acting, state, now, lead)
    await edit_or_send(query, screen, anew=callback_data.n)


async def _cancel_failed(
    query: CallbackQuery,
    callback_data: VisitCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    acting: Acting,
    failure: Failure,
    now: datetime,
) -> None:
    """The backend refused the cancellation: say why, and show what is true now."""
    text = failure_text(failure)
    if failure in (Failure.UNAVAILABLE, Failure.RETRY):
        # Nothing changed; the "Yes, cancel it" question stays for another try.
        if failure is Failure.UNAVAILABLE:
            text = _(
                "The appointment service is not answering right now. The appointment is not "
                "cancelled yet: please try again in a few minutes."
            )
        else:
            text = _("The appointment could not be cancelled just now. Please try again.")
        await query.answer(text, show_alert=True)
        return
    if failure is Failure.NO_ACCESS:
        await fresh_menu(query, text)
        return
    await query.answer(text, show_alert=True)
    if failure is Failure.VISIT_GONE:
        screen = await list_screen(session, keys, user, backend, query, acting, state, now)
    else:  # past or cancelled meanwhile: the visit as it is now
        visit = await backend.get_appointment(
            acting.grant_id, acting.requester_id, callback_data.appointment_id
        )
        screen = await visit_screen(state, acting, visit, now)
    await edit_or_send(query, screen, anew=callback_data.n)


@router.callback_query(VisitCb.filter(F.action == VisitAction.ICS))
async def visit_ics(
    query: CallbackQuery,
    callback_data: VisitCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await _visit(query, callback_data, state, session, user, keys, backend, clock())
    if found is None or not await _changeable(query, callback_data, state, *found, clock()):
        return
    await query.answer()
    await send_ics(query, found[1], clock())
