"""Booking a doctor: for whom → specialty or referral → doctor → day → time → confirm.

Thin: the draft and backend steps live in `bot.services.appointments.booking`. Every button
re-checks the current grant; a pressed time must be one this user was offered.
Rescheduling (from My appointments) and "Book it" (from a watch) reuse the day/time/confirm steps.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import BackendError
from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.db.models import User
from bot.keys import AppKeys
from bot.logs import log_event, pseudonym
from bot.services.appointments import booking, calendar
from bot.services.appointments import watches as watch_service
from bot.services.appointments.booking import BookingDraft, Failure, Mode
from bot.services.appointments.clock import msk_date
from bot.services.people import AccessRefused
from handlers.access_texts import refusal_text
from handlers.appointment_common import (
    Acting,
    Screen,
    acting_for,
    draft_and_acting,
    drop_draft,
    edit_or_send,
    fresh_menu,
    load_draft,
    save_draft,
    stale,
)
from handlers.appointment_texts import failure_text
from handlers.booking_screens import (
    ask_for_whom,
    confirm_screen,
    days_screen,
    doctors_screen,
    done_text,
    fresh_times,
    restart_screen,
    send_ics,
    start_choosing,
    times_screen,
    watch_target,
    what_screen,
)
from handlers.my_appointments import list_screen, visit_screen
from keyboards.appointments import (
    BookAction,
    BookCb,
    Flow,
    PickCb,
    PickKind,
    TimeCb,
    WhoCb,
)
from keyboards.calendar import CalAction, CalendarCb, parse_day, parse_month
from keyboards.menu import MENU_BOOK

router = Router(name=__name__)
logger = logging.getLogger(__name__)


# --- for whom -------------------------------------------------------------------------------


@router.message(F.text == MENU_BOOK)
async def book_start(
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
    person_id = await ask_for_whom(message, session, user, keys, Flow.BOOK, clock())
    if person_id is None:
        return
    try:
        acting = await acting_for(
            session, keys, user, backend, message.from_user, person_id, clock(), "book"
        )
    except AccessRefused as error:
        await message.answer(refusal_text(error))
        return
    draft = BookingDraft(person_id=acting.person_id)
    screen = await what_screen(backend, acting, draft, msk_date(clock()))
    await message.answer(screen.text, reply_markup=screen.markup, protect_content=True)
    await save_draft(state, draft)


_CHOOSING = {Flow.BOOK: Mode.BOOK, Flow.WATCH: Mode.WATCH}
"""For whom, and then a specialty or referral: for a booking, or for a watch (watches.py)."""


@router.callback_query(WhoCb.filter(F.flow.in_(_CHOOSING)))
async def choose_for(
    query: CallbackQuery,
    callback_data: WhoCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    mode = _CHOOSING[callback_data.flow]
    await start_choosing(
        query,
        callback_data.person_id,
        mode,
        state,
        session,
        user,
        keys,
        backend,
        clock,
        anew=callback_data.n,
    )


# --- the draft behind every button -----------------------------------------------------------


@router.callback_query(PickCb.filter())
async def picked(
    query: CallbackQuery,
    callback_data: PickCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await draft_and_acting(query, state, session, user, keys, backend, clock())
    if found is None:
        return
    draft, acting = found
    if f"{callback_data.kind.value}:{callback_data.ref}" not in draft.choices:
        await stale(query)  # not on the screen this user was shown
        return
    await query.answer()
    today = msk_date(clock())
    if callback_data.kind is PickKind.DOCTOR:
        draft.doctor_id = callback_data.ref
        if draft.mode == Mode.WATCH:
            await edit_or_send(query, await watch_target(backend, acting, draft, state, today))
        else:
            await edit_or_send(query, await days_screen(backend, acting, draft, clock()))
    else:
        if callback_data.kind is PickKind.REFERRAL:
            draft.referral_id, draft.specialty_code = callback_data.ref, None
        else:
            draft.specialty_code, draft.referral_id = callback_data.ref, None
        await edit_or_send(query, await doctors_screen(backend, acting, draft, today))
    await save_draft(state, draft)


# --- days ------------------------------------------------------------------------------------


@router.callback_query(CalendarCb.filter(F.action == CalAction.NOOP))
async def calendar_noop(query: CallbackQuery) -> None:
    await query.answer()


@router.callback_query(CalendarCb.filter(F.action == CalAction.FULL))
async def full_day(query: CallbackQuery) -> None:
    await query.answer(
        _("There are no free times on this day. Choose a day without ✕."), show_alert=True
    )


@router.callback_query(CalendarCb.filter(F.action == CalAction.MONTH))
async def month_shown(
    query: CallbackQuery,
    callback_data: CalendarCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await draft_and_acting(query, state, session, user, keys, backend, clock())
    if found is None:
        return
    draft, acting = found
    month = parse_month(callback_data.value)
    if month is None or draft.doctor_id is None:
        await stale(query)
        return
    await query.answer()
    await edit_or_send(query, await days_screen(backend, acting, draft, clock(), month))
    await save_draft(state, draft)


@router.callback_query(CalendarCb.filter(F.action == CalAction.DAY))
async def day_chosen(
    query: CallbackQuery,
    callback_data: CalendarCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await draft_and_acting(query, state, session, user, keys, backend, clock())
    if found is None:
        return
    draft, acting = found
    day = parse_day(callback_data.value)
    now = clock()
    start, end = calendar.window(msk_date(now))
    if day is None or draft.doctor_id is None or not start <= day <= end:
        await stale(query)  # a day from an old calendar, or a forged one
        return
    screen = await times_screen(backend, acting, draft, day, now)
    if not draft.offered and draft.doctor_id is not None:  # (no doctor: the referral is used up)
        await query.answer(_("The last free time of this day was just taken."), show_alert=True)
        screen = await days_screen(backend, acting, draft, now)
    else:
        await query.answer()
    await edit_or_send(query, screen)
    await save_draft(state, draft)


@router.callback_query(BookCb.filter(F.action == BookAction.DAYS))
async def back_to_days(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await draft_and_acting(query, state, session, user, keys, backend, clock())
    if found is None:
        return
    draft, acting = found
    if draft.doctor_id is None:
        await stale(query)
        return
    await query.answer()
    draft.offer([])
    await edit_or_send(query, await days_screen(backend, acting, draft, clock()))
    await save_draft(state, draft)


@router.callback_query(BookCb.filter(F.action == BookAction.OTHER_DOCTORS))
async def other_doctors(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await draft_and_acting(query, state, session, user, keys, backend, clock())
    if found is None:
        return
    draft, acting = found
    if draft.mode != Mode.MOVE or draft.specialty_code is None:
        await stale(query)
        return
    await query.answer()
    draft.offer([])
    await edit_or_send(query, await doctors_screen(backend, acting, draft, msk_date(clock())))
    await save_draft(state, draft)


@router.callback_query(BookCb.filter(F.action == BookAction.ABORT))
async def abort(query: CallbackQuery, state: FSMContext) -> None:
    await drop_draft(state)
    await query.answer()
    await edit_or_send(query, Screen(_("Cancelled. Nothing was booked or changed.")))


# --- time and confirmation -------------------------------------------------------------------


@router.callback_query(TimeCb.filter())
async def time_chosen(
    query: CallbackQuery,
    callback_data: TimeCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await draft_and_acting(query, state, session, user, keys, backend, clock())
    if found is None:
        return
    draft, acting = found
    slot_id = draft.pick(callback_data.index)
    if slot_id is None or draft.doctor_id is None:
        await stale(query)  # a time this user was not offered in this message
        return
    screen = await confirm_screen(backend, acting, draft, clock())
    if screen is None:
        await query.answer(
            _("That time was just taken. Please choose another one."), show_alert=True
        )
        screen = await fresh_times(backend, acting, draft, clock())
    else:
        await query.answer()
    # The token (the idempotency key) is stored before its button is shown: a confirmation
    # on screen always has its key in the FSM, for the first press and any redelivery.
    await save_draft(state, draft)
    await edit_or_send(query, screen)


@router.callback_query(BookCb.filter(F.action == BookAction.CONFIRM))
async def confirmed(
    query: CallbackQuery,
    callback_data: BookCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    draft = await load_draft(state)
    if draft is not None and draft.done and draft.token == callback_data.token:
        # The second tap of a double tap, or this update delivered again after the process
        # that booked died before showing it: the first one booked; show what it booked.
        await query.answer(_("Already done. See My appointments."), show_alert=True)
        await _show_done_again(query, state, session, user, keys, backend, draft, clock())
        return
    found = await draft_and_acting(query, state, session, user, keys, backend, clock())
    if found is None:
        return
    draft, acting = found
    if not callback_data.token or draft.token != callback_data.token or draft.slot_id is None:
        await stale(query)
        return
    try:
        visit = await booking.commit(backend, acting.grant_id, acting.requester_id, user.id, draft)
    except BackendError as error:
        failure = await booking.explain(backend, acting.grant_id, acting.requester_id, draft, error)
        log_event(logger, "appointment.refused", logging.INFO, failure=failure.value)
        await _not_done(query, state, session, user, keys, backend, acting, draft, failure, clock())
        return
    draft.done = visit.appointment_id
    await save_draft(state, draft)
    if draft.watch_id is not None:  # booked from a watch's message: it has done its job
        await watch_service.stop_watch(session, user, draft.watch_id)
    moving = draft.mode == Mode.MOVE
    log_event(
        logger,
        "appointment.moved" if moving else "appointment.booked",
        user=pseudonym(user.telegram_id),
    )
    await query.answer(_("Done"))
    await edit_or_send(query, Screen(done_text(acting, visit, moving)))
    await send_ics(query, visit, clock())


async def _show_done_again(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    draft: BookingDraft,
    now: datetime,
) -> None:
    """The booked visit's screen once more (the same text again is "not modified", harmless);
    the "Already done" alert has been shown, so a refusal or an outage here says nothing more."""
    assert draft.done is not None
    try:
        acting = await acting_for(
            session, keys, user, backend, query.from_user, draft.person_id, now, "book"
        )
        visit = await backend.get_appointment(acting.grant_id, acting.requester_id, draft.done)
    except (AccessRefused, BackendError):
        return
    await edit_or_send(query, Screen(done_text(acting, visit, draft.mode == Mode.MOVE)))


async def _not_done(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    failure: Failure,
    now: datetime,
) -> None:
    """The backend refused the booking or the move: say why, and put the way on in reach."""
    text = failure_text(failure)
    if failure is Failure.UNAVAILABLE:
        # The confirmation stays: tapping it again reuses the same idempotency key.
        await query.answer(text, show_alert=True)
        return
    if failure is Failure.NO_ACCESS:
        await drop_draft(state)
        await edit_or_send(query, Screen(_("Cancelled. Nothing was booked or changed.")))
        await fresh_menu(query, text)
        return
    await query.answer(text, show_alert=True)
    if failure in (Failure.VISIT_GONE, Failure.VISIT_FIXED):
        await drop_draft(state)
        if failure is Failure.VISIT_FIXED and draft.appointment_id is not None:
            visit = await backend.get_appointment(
                acting.grant_id, acting.requester_id, draft.appointment_id
            )
            screen = await visit_screen(state, acting, visit, now)
        else:
            screen = await list_screen(session, keys, user, backend, query, acting, state, now)
        await edit_or_send(query, screen)
        return
    if failure is Failure.SLOT_TAKEN:
        screen = await fresh_times(backend, acting, draft, now)
    elif failure is Failure.RETRY:
        screen = await fresh_times(backend, acting, draft, now, text)
    elif failure is Failure.OTHER_SPECIALTY:
        draft.offer([])
        screen = await days_screen(backend, acting, draft, now)
    else:  # the referral or the specialty does not do: the first choice again
        screen = await restart_screen(backend, acting, draft, msk_date(now), text)
    await edit_or_send(query, screen)
    await save_draft(state, draft)
