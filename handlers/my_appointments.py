"""My appointments: upcoming and past visits per person (or everyone), details, reschedule,
cancel. Every button re-checks the grant and reads the visit fresh from the backend."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.types import User as TgUser
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.models import Appointment
from backend_client.protocol import RecordsBackend
from bot.crypto import FieldCipher
from bot.db.models import User
from bot.keys import AppKeys
from bot.logs import log_event, pseudonym
from bot.services import people as people_service
from bot.services.appointments import listing
from bot.services.appointments.booking import BookingDraft, Mode
from bot.services.appointments.clock import Clock, default_clock
from bot.services.people import AccessRefused
from handlers.access_texts import esc, refusal_text
from handlers.appointment_common import (
    Acting,
    Screen,
    acting_for,
    drop_draft,
    edit_or_send,
    refused,
    save_draft,
)
from handlers.appointment_texts import past_line, visit_line, visit_text
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
        blocks.append(_person_block(acting, visits))
        buttons += [
            (acting.person_id, v.appointment_id, f"{acting.label}: {_plain(v)}")
            if len(ids) > 1
            else (acting.person_id, v.appointment_id, _plain(v))
            for v in visits.upcoming
        ]
    if buttons:
        blocks.append(_("Tap a visit to see it, move or cancel it."))
    return Screen("\n\n".join(blocks), visits_keyboard(buttons) if buttons else None)


def _plain(visit: Appointment) -> str:
    return visit_line(visit, html=False)


def _person_block(acting: Acting, visits: listing.Visits) -> str:
    lines = [f"<b>{esc(acting.label)}</b>"]
    if visits.upcoming:
        lines.append(_("Upcoming:"))
        lines += ["• " + visit_line(v) for v in visits.upcoming]
    else:
        lines.append(_("No upcoming appointments."))
    if visits.past:
        lines.append(_("Past and cancelled:"))
        lines += ["• " + past_line(v) for v in visits.past]
    return "\n".join(lines)


@router.message(F.text == MENU_VISITS)
async def visits_start(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock = default_clock,
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
    await message.answer(screen.text, reply_markup=screen.markup, protect_content=True)


@router.callback_query(WhoCb.filter(F.flow == Flow.LIST))
async def visits_for(
    query: CallbackQuery,
    callback_data: WhoCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock = default_clock,
) -> None:
    try:
        screen = await visits_screen(
            session, keys, user, backend, query.from_user, callback_data.person_id, clock()
        )
    except AccessRefused as error:
        await refused(query, error)
        return
    await query.answer()
    await edit_or_send(query, screen, anew=callback_data.n)


async def _visit(
    query: CallbackQuery,
    callback_data: VisitCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    now: datetime,
) -> tuple[Acting, Appointment] | None:
    try:
        acting = await acting_for(
            session, keys, user, backend, query.from_user, callback_data.person_id, now, "visit"
        )
    except AccessRefused as error:
        await refused(query, error)
        return None
    # NotFound (another patient's or unknown id) is answered by the error handler.
    visit = await backend.get_appointment(
        acting.grant_id, acting.requester_id, callback_data.appointment_id
    )
    return acting, visit


def _visit_screen(acting: Acting, visit: Appointment, now: datetime) -> Screen:
    return Screen(
        visit_text(acting.label, visit),
        visit_keyboard(acting.person_id, visit.appointment_id, listing.changeable(visit, now)),
    )


@router.callback_query(VisitCb.filter(F.action == VisitAction.VIEW))
async def visit_view(
    query: CallbackQuery,
    callback_data: VisitCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock = default_clock,
) -> None:
    found = await _visit(query, callback_data, session, user, keys, backend, clock())
    if found is None:
        return
    await query.answer()
    await edit_or_send(query, _visit_screen(*found, clock()), anew=callback_data.n)


async def _changeable(
    query: CallbackQuery, callback_data: VisitCb, acting: Acting, visit: Appointment, now: datetime
) -> bool:
    """Answers a visit that is cancelled or past with an alert and the visit as it is now (a
    new message when pressed on a notification, which stays as it was)."""
    if listing.changeable(visit, now):
        return True
    await query.answer(
        _("This appointment can no longer be changed: it is cancelled or already past."),
        show_alert=True,
    )
    await edit_or_send(query, _visit_screen(acting, visit, now), anew=callback_data.n)
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
    clock: Clock = default_clock,
) -> None:
    found = await _visit(query, callback_data, session, user, keys, backend, clock())
    if found is None or not await _changeable(query, callback_data, *found, clock()):
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
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock = default_clock,
) -> None:
    found = await _visit(query, callback_data, session, user, keys, backend, clock())
    if found is None or not await _changeable(query, callback_data, *found, clock()):
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
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock = default_clock,
) -> None:
    found = await _visit(query, callback_data, session, user, keys, backend, clock())
    if found is None:
        return
    acting, visit = found
    if not visit.is_active:
        await query.answer(_("This appointment is already cancelled."), show_alert=True)
    elif not await _changeable(query, callback_data, acting, visit, clock()):
        return
    else:
        await backend.cancel_appointment(acting.grant_id, acting.requester_id, visit.appointment_id)
        log_event(logger, "appointment.cancelled", user=pseudonym(user.telegram_id))
        await query.answer(_("The appointment is cancelled."))
    screen = await visits_screen(
        session, keys, user, backend, query.from_user, acting.person_id, clock()
    )
    lead = _("❌ The appointment is cancelled.")
    await edit_or_send(
        query, Screen(lead + "\n\n" + screen.text, screen.markup), anew=callback_data.n
    )


@router.callback_query(VisitCb.filter(F.action == VisitAction.ICS))
async def visit_ics(
    query: CallbackQuery,
    callback_data: VisitCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock = default_clock,
) -> None:
    found = await _visit(query, callback_data, session, user, keys, backend, clock())
    if found is None or not await _changeable(query, callback_data, *found, clock()):
        return
    await query.answer()
    await send_ics(query, found[1], clock())
