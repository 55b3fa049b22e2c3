"""Slot watches: the list, a new watch (set up in a few taps), stopping one, and the buttons
under a slot-found message ("Book it" carries only a hit id)."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.types import User as TgUser
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import BackendError
from backend_client.protocol import RecordsBackend
from bot.clock import Clock
from bot.db.appointments_models import SlotWatch
from bot.db.models import User
from bot.keys import AppKeys
from bot.logs import log_event, pseudonym
from bot.services.appointments import booking
from bot.services.appointments import watches as watch_service
from bot.services.appointments.booking import BookingDraft, Mode
from bot.services.appointments.clock import msk_date
from bot.services.people import AccessRefused
from handlers.access_texts import esc
from handlers.appointment_common import (
    Acting,
    Screen,
    acting_for,
    draft_and_acting,
    drop_draft,
    edit_or_send,
    fresh_menu,
    refused,
    save_draft,
    stale,
)
from handlers.appointment_texts import short_day, specialty_name
from handlers.booking_screens import (
    ask_for_whom,
    confirm_screen,
    draft_doctor,
    fresh_times,
    referral_gone_screen,
    start_choosing,
)
from handlers.watch_setup import (
    ORDER,
    SETUP_KEY,
    Target,
    accepts,
    build_spec,
    next_screen,
    target_screen,
)
from keyboards.appointments import (
    HIT_BOOK,
    HIT_STOP,
    BookAction,
    BookCb,
    Flow,
    WatchAction,
    WatchCb,
    WatchHitCb,
    WatchSetupCb,
    watches_keyboard,
)
from keyboards.menu import MENU_WATCHES

router = Router(name=__name__)
logger = logging.getLogger(__name__)


# --- the list -------------------------------------------------------------------------------


def _hours(watch: SlotWatch) -> str:
    if watch.minute_from == 0 and watch.minute_to >= 1440:
        return _("any time")
    start = f"{watch.minute_from // 60:02d}:{watch.minute_from % 60:02d}"
    end = f"{watch.minute_to // 60:02d}:{watch.minute_to % 60:02d}"
    if watch.minute_to >= 1440:
        return _("after {time}").format(time=start)
    if watch.minute_from == 0:
        return _("before {time}").format(time=end)
    return f"{start}–{end}"


def _weekdays(watch: SlotWatch) -> str:
    return {
        watch_service.ALL_WEEKDAYS: _("any day"),
        0b0011111: _("Mon–Fri"),
        0b1100000: _("weekends"),
    }.get(watch.weekdays, _("some days"))


async def _target_name(
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    backend: RecordsBackend,
    tg_user: TgUser | None,
    watch: SlotWatch,
    now: datetime,
) -> str:
    """ "Терапевт, Иванов И. И." or "Терапевт, any doctor" — from the backend, never stored."""
    draft = BookingDraft(
        person_id=watch.person_id,
        specialty_code=None if watch.referral_id else watch.specialty_code,
        referral_id=watch.referral_id,
    )
    try:
        acting = await acting_for(
            session, keys, user, backend, tg_user, watch.person_id, now, "watch"
        )
        found = await booking.doctors(backend, acting.grant_id, acting.requester_id, draft)
    except (AccessRefused, BackendError):
        return _("(no access any more)")
    doctor = next((d for d in found if d.doctor_id == watch.doctor_id), None)
    if doctor is not None:
        return f"{acting.label}: {specialty_name(doctor.specialty)}, {doctor.full_name}"
    specialty = specialty_name(found[0].specialty) if found else watch.specialty_code
    return _("{label}: {specialty}, any doctor").format(label=acting.label, specialty=specialty)


async def list_screen(
    session: AsyncSession,
    keys: AppKeys,
    user: User,
    backend: RecordsBackend,
    tg_user: TgUser | None,
    now: datetime,
    lead: str = "",
) -> Screen:
    active = await watch_service.user_watches(session, user)
    lines = [lead] if lead else []
    lines.append(_("<b>Slot watches</b>"))
    buttons: list[tuple[int, str]] = []
    for number, watch in enumerate(active, 1):
        name = await _target_name(session, keys, user, backend, tg_user, watch, now)
        mode = _("books by itself") if watch.auto_book else _("tells you")
        lines.append(
            f"{number}. {esc(name)} · "
            + _("until {date}").format(date=short_day(watch.date_to, msk_date(now)))
            + f" · {_hours(watch)} · {_weekdays(watch)} · {mode}"
        )
        buttons.append((watch.id, str(number)))
    if not active:
        lines.append(
            _(
                "No watches. When no time suits you, a watch tells you (or books for you) "
                "the moment a slot frees up."
            )
        )
    may_add = len(active) < watch_service.MAX_ACTIVE_WATCHES
    if not may_add:
        lines.append(_("That is the maximum of {n} watches.").format(n=len(active)))
    return Screen("\n".join(lines), watches_keyboard(buttons, may_add))


@router.message(F.text == MENU_WATCHES)
async def watches_start(
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
    screen = await list_screen(session, keys, user, backend, message.from_user, clock())
    await message.answer(screen.text, reply_markup=screen.markup, protect_content=True)


@router.callback_query(WatchCb.filter(F.action == WatchAction.STOP))
async def watch_stop(
    query: CallbackQuery,
    callback_data: WatchCb,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    if not await watch_service.stop_watch(session, user, callback_data.watch_id):
        await stale(query)
        return
    await query.answer(_("Stopped."))
    screen = await list_screen(
        session, keys, user, backend, query.from_user, clock(), _("🔕 The watch is stopped.")
    )
    await edit_or_send(query, screen)


@router.callback_query(WatchCb.filter(F.action == WatchAction.NEW))
async def watch_new(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    if await watch_service.active_count(session, user) >= watch_service.MAX_ACTIVE_WATCHES:
        await query.answer(_("You already have 5 watches. Stop one first."), show_alert=True)
        return
    if not isinstance(query.message, Message):
        await query.answer()
        return
    person_id = await ask_for_whom(query.message, session, user, keys, Flow.WATCH, clock())
    if person_id is None:
        await query.answer()
        return
    await start_choosing(query, person_id, Mode.WATCH, state, session, user, keys, backend, clock)
    # The person picked from the question above: `appointments.choose_for` (shared with booking).


# --- set-up ---------------------------------------------------------------------------------


@router.callback_query(BookCb.filter(F.action == BookAction.WATCH))
async def watch_from_calendar(
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
    try:
        doctor = await draft_doctor(backend, acting, draft) if draft.doctor_id else None
    except booking.ReferralGone:
        await _referral_gone(query, state, backend, acting, draft, clock())
        return
    if doctor is None:
        await stale(query)
        return
    if await watch_service.active_count(session, user) >= watch_service.MAX_ACTIVE_WATCHES:
        await query.answer(_("You already have 5 watches. Stop one first."), show_alert=True)
        return
    await query.answer()
    draft.mode = Mode.WATCH
    draft.offer([])
    await save_draft(state, draft)
    await state.update_data({SETUP_KEY: {}})
    await edit_or_send(query, target_screen(doctor))


@router.callback_query(WatchSetupCb.filter())
async def setup_answer(
    query: CallbackQuery,
    callback_data: WatchSetupCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    answers = (await state.get_data()).get(SETUP_KEY)
    if not isinstance(answers, dict) or not accepts(
        answers, callback_data.step, callback_data.value
    ):
        await stale(query)
        return
    found = await draft_and_acting(query, state, session, user, keys, backend, clock())
    if found is None:
        return
    draft, acting = found
    answers[callback_data.step.value] = callback_data.value
    await state.update_data({SETUP_KEY: answers})
    if len(answers) < len(ORDER):
        await query.answer()
        await edit_or_send(query, next_screen(callback_data.step))
        return
    try:
        doctor = await draft_doctor(backend, acting, draft)
    except booking.ReferralGone:
        await state.update_data({SETUP_KEY: None})
        await _referral_gone(query, state, backend, acting, draft, clock())
        return
    if doctor is None:
        await stale(query)
        return
    spec = build_spec(
        Target(acting.person_id, doctor, draft.referral_id), answers, msk_date(clock())
    )
    try:
        await watch_service.create_watch(session, user, spec, clock())
    except watch_service.WatchLimitReached:
        await query.answer(_("You already have 5 watches. Stop one first."), show_alert=True)
        return
    await drop_draft(state)
    await state.update_data({SETUP_KEY: None})
    log_event(logger, "watch.created", user=pseudonym(user.telegram_id), auto=spec.auto_book)
    await query.answer(_("Watching."))
    lead = _(
        "🔔 <b>Watching.</b> You will get a message the moment a matching slot frees up. "
        "The watch ends on {date}, or when you stop it or book."
    ).format(date=short_day(spec.date_to, msk_date(clock())))
    await edit_or_send(
        query, await list_screen(session, keys, user, backend, query.from_user, clock(), lead)
    )


async def _referral_gone(
    query: CallbackQuery,
    state: FSMContext,
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    now: datetime,
) -> None:
    """The watch's referral was used up meanwhile: the first choice again, saying why."""
    screen = await referral_gone_screen(backend, acting, draft, msk_date(now))
    await query.answer()
    await edit_or_send(query, screen)
    await save_draft(state, draft)


# --- the buttons under a slot-found message ---------------------------------------------------


@router.callback_query(WatchHitCb.filter(F.action == HIT_STOP))
async def hit_stop(
    query: CallbackQuery, callback_data: WatchHitCb, session: AsyncSession, user: User
) -> None:
    found = await watch_service.own_hit(session, user, callback_data.hit_id)
    if found is None:
        await stale(query)
        return
    await watch_service.stop_watch(session, user, found[1].id)
    await query.answer(_("Stopped."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


@router.callback_query(WatchHitCb.filter(F.action == HIT_BOOK))
async def hit_book(
    query: CallbackQuery,
    callback_data: WatchHitCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
) -> None:
    found = await watch_service.own_hit(session, user, callback_data.hit_id)
    if found is None:
        await stale(query)  # forged, or another user's hit
        return
    hit, watch = found
    now = clock()
    if hit.appointment_id is not None:
        await query.answer(_("Already done. See My appointments."), show_alert=True)
        return
    if hit.starts_at <= now:
        await fresh_menu(query, _("This time has already passed."))
        return
    try:
        acting = await acting_for(
            session, keys, user, backend, query.from_user, watch.person_id, now, "book"
        )
    except AccessRefused as error:
        await refused(query, error)
        return
    draft = BookingDraft(
        person_id=acting.person_id,
        specialty_code=None if watch.referral_id else watch.specialty_code,
        referral_id=watch.referral_id,
        doctor_id=hit.doctor_id,
        day=msk_date(hit.starts_at).isoformat(),
        offered=[hit.slot_id],
        slot_id=hit.slot_id,
        watch_id=watch.id,
    )
    screen = await confirm_screen(backend, acting, draft, now)
    if screen is None:
        await query.answer(
            _("That time was just taken. Please choose another one."), show_alert=True
        )
        screen = await fresh_times(backend, acting, draft, now)
    else:
        await query.answer()
    await save_draft(state, draft)
    if isinstance(query.message, Message):
        await query.message.answer(screen.text, reply_markup=screen.markup, protect_content=True)
