"""The screens of booking and rescheduling, built from the draft and fresh backend reads.

Shared by the booking handlers, My appointments (reschedule) and slot watches ("Book it").
Each builder that offers choices records them in the draft: a pressed button must be one of them.
"""

from __future__ import annotations

from datetime import date, datetime

from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from backend_client.errors import NotFound
from backend_client.models import Appointment, Doctor, Scope
from backend_client.protocol import RecordsBackend
from bot.crypto import FieldCipher
from bot.db.models import User
from bot.keys import AppKeys
from bot.services import people as people_service
from bot.services.appointments import booking, calendar, ics
from bot.services.appointments.booking import BookingDraft, Mode, ReferralGone
from bot.services.appointments.clock import Clock, msk_date
from bot.services.people import AccessRefused
from handlers.access_texts import esc
from handlers.appointment_common import (
    Acting,
    Screen,
    acting_for,
    edit_or_send,
    refused,
    save_draft,
)
from handlers.appointment_texts import (
    confirmation_text,
    day_title,
    doctor_button,
    doctor_lines,
    ics_location,
    ics_summary,
    moving_from_line,
    referral_button,
    referral_gone_text,
    specialty_name,
    time_label,
    when_text,
    who_line,
)
from handlers.watch_setup import SETUP_KEY, target_screen
from keyboards.appointments import (
    Flow,
    PickKind,
    confirm_keyboard,
    days_keyboard,
    people_picker,
    picks_keyboard,
    times_keyboard,
)


def nobody_text() -> str:
    return _("There is nobody whose card you can use for this. Open My people to link a policy.")


async def ask_for_whom(
    message: Message,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    flow: Flow,
    now: datetime,
    *,
    with_all: bool = False,
) -> int | None:
    """The person to act for when there is only one, else None after asking "for whom?"."""
    people = await people_service.list_people(session, FieldCipher(keys), user, now)
    choice = people_service.whose_card(people, None, Scope.APPOINTMENTS)
    if not choice.choices:
        await message.answer(nobody_text())
        return None
    if len(choice.choices) == 1:
        return choice.choices[0].id
    # No remembered person here: a menu tap starts anew, so with several people we ask.
    people_buttons = [(p.id, p.label) for p in choice.choices]
    # Protected: the screens this message turns into name doctors and visits.
    await message.answer(
        _("For whom?"),
        reply_markup=people_picker(flow, people_buttons, with_all=with_all),
        protect_content=True,
    )
    return None


async def what_screen(
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    today: date,
    lead: str = "",
) -> Screen:
    what = await booking.what_to_book(backend, acting.grant_id, acting.requester_id)
    items = [(PickKind.REFERRAL, r.referral_id, referral_button(r, today)) for r in what.referrals]
    named = sorted((specialty_name(s), s.code) for s in what.specialties)
    items += [(PickKind.SPECIALTY, code, name) for name, code in named]
    draft.choices = [f"{kind.value}:{ref}" for kind, ref, _text in items]
    head = (lead + "\n\n" if lead else "") + who_line(acting.label)
    if not items:
        return Screen(head + "\n" + _("There is nothing to book right now."))
    text = _("Which doctor do you need? Choose a specialty, or one of your referrals.")
    return Screen(head + "\n" + text, picks_keyboard(items))


async def restart_screen(
    backend: RecordsBackend, acting: Acting, draft: BookingDraft, today: date, lead: str
) -> Screen:
    """Back to the first choice (specialty or referral) with `lead` saying why; the draft
    forgets its doctor, referral and times."""
    draft.specialty_code = draft.referral_id = draft.doctor_id = None
    draft.day = None
    draft.offer([])
    return await what_screen(backend, acting, draft, today, lead)


async def referral_gone_screen(
    backend: RecordsBackend, acting: Acting, draft: BookingDraft, today: date
) -> Screen:
    return await restart_screen(backend, acting, draft, today, referral_gone_text())


async def doctors_screen(
    backend: RecordsBackend, acting: Acting, draft: BookingDraft, today: date
) -> Screen:
    try:
        found = await booking.doctors(backend, acting.grant_id, acting.requester_id, draft)
    except ReferralGone:
        return await referral_gone_screen(backend, acting, draft, today)
    draft.choices = [f"{PickKind.DOCTOR.value}:{d.doctor_id}" for d in found]
    if not found:
        return Screen(_("No doctor of this specialty accepts at your clinics now."))
    items = [(PickKind.DOCTOR, d.doctor_id, doctor_button(d)) for d in found]
    return Screen(_("Choose a doctor and a clinic:"), picks_keyboard(items))


async def watch_target(
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    state: FSMContext,
    today: date,
) -> Screen:
    """A new watch: the doctor is chosen; the set-up questions follow (handlers.watches)."""
    try:
        doctor = await draft_doctor(backend, acting, draft)
    except ReferralGone:
        return await referral_gone_screen(backend, acting, draft, today)
    if doctor is None:
        return Screen(_("This doctor no longer accepts. Please start again."))
    await state.update_data({SETUP_KEY: {}})
    return target_screen(doctor)


async def draft_visit(
    backend: RecordsBackend, acting: Acting, draft: BookingDraft
) -> Appointment | None:
    """The visit being rescheduled, read fresh (None when not rescheduling or it is gone)."""
    if draft.mode != Mode.MOVE or draft.appointment_id is None:
        return None
    try:
        return await backend.get_appointment(
            acting.grant_id, acting.requester_id, draft.appointment_id
        )
    except NotFound:
        return None


async def draft_doctor(
    backend: RecordsBackend, acting: Acting, draft: BookingDraft
) -> Doctor | None:
    """The chosen doctor, read fresh; raises `ReferralGone` when the referral is used up."""
    if draft.appointment_id is not None:  # rescheduling: the visit knows its doctor
        visit = await backend.get_appointment(
            acting.grant_id, acting.requester_id, draft.appointment_id
        )
        if visit.doctor.doctor_id == draft.doctor_id:
            return visit.doctor
    return await booking.find_doctor(backend, acting.grant_id, acting.requester_id, draft)


async def _header(
    backend: RecordsBackend, acting: Acting, draft: BookingDraft, doctor: Doctor, today: date
) -> list[str]:
    """Who, which doctor, and (when rescheduling) the visit's time now."""
    lines = [who_line(acting.label), *doctor_lines(doctor)]
    visit = await draft_visit(backend, acting, draft)
    if visit is not None:
        lines.append(moving_from_line(visit.starts_at, today))
    return lines


async def days_screen(
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    now: datetime,
    month: tuple[int, int] | None = None,
) -> Screen:
    today = msk_date(now)
    try:
        doctor = await draft_doctor(backend, acting, draft)
    except ReferralGone:
        return await referral_gone_screen(backend, acting, draft, today)
    if doctor is None or draft.doctor_id is None:
        return Screen(_("This doctor no longer accepts. Please start again."))
    slots = await booking.window_slots(
        backend, acting.grant_id, acting.requester_id, draft.doctor_id, now
    )
    counts = calendar.free_by_day(slots)
    year, mon = month or calendar.first_bookable_month(today, counts)
    view = calendar.month_view(today, counts, year, mon)
    lines = [*await _header(backend, acting, draft, doctor, today), ""]
    if counts:
        lines.append(_("Choose a day (days marked ✕ are fully booked):"))
    else:
        lines.append(_("No free times in the next 14 days."))
    # Moving to another doctor of the same specialty is allowed where no referral is needed
    # (a used referral cannot list doctors again).
    others = draft.mode == Mode.MOVE and not doctor.specialty.needs_referral
    keyboard = days_keyboard(view, may_watch=draft.mode == Mode.BOOK, other_doctors=others)
    return Screen("\n".join(lines), keyboard)


async def times_screen(
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    day: date,
    now: datetime,
    lead: str = "",
) -> Screen:
    """Offers the day's free times and remembers exactly these slot ids in the draft.

    When the referral is used up meanwhile, the first choice comes back instead (and the draft
    has no doctor any more)."""
    assert draft.doctor_id is not None
    today = msk_date(now)
    try:
        doctor = await draft_doctor(backend, acting, draft)
    except ReferralGone:
        return await referral_gone_screen(backend, acting, draft, today)
    slots = await booking.day_slots(
        backend, acting.grant_id, acting.requester_id, draft.doctor_id, day, now
    )
    draft.day = day.isoformat()
    draft.offer(slots)
    lines = [lead, ""] if lead else []
    if doctor is not None:
        lines += [*await _header(backend, acting, draft, doctor, today), ""]
    else:
        lines += [who_line(acting.label), ""]
    lines.append(_("{day}: choose a time (Moscow time).").format(day=day_title(day, today)))
    return Screen("\n".join(lines), times_keyboard([time_label(s.starts_at) for s in slots]))


async def confirm_screen(
    backend: RecordsBackend, acting: Acting, draft: BookingDraft, now: datetime
) -> Screen | None:
    """Everything about the chosen slot, read fresh; None if it is no longer free (and the
    first choice again if the referral is used up)."""
    assert draft.doctor_id is not None and draft.slot_id is not None
    today = msk_date(now)
    slot = await booking.fresh_slot(
        backend, acting.grant_id, acting.requester_id, draft.doctor_id, draft.slot_id, now
    )
    try:
        doctor = await draft_doctor(backend, acting, draft) if slot is not None else None
    except ReferralGone:
        return await referral_gone_screen(backend, acting, draft, today)
    if slot is None or doctor is None:
        return None
    moving = draft.mode == Mode.MOVE
    visit = await draft_visit(backend, acting, draft)
    token = draft.mint_token()
    text = confirmation_text(
        acting.label,
        doctor,
        slot.starts_at,
        today,
        moving=moving,
        moving_from=visit.starts_at if visit is not None else None,
    )
    return Screen(text, confirm_keyboard(token))


async def fresh_times(
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    now: datetime,
    lead: str | None = None,
) -> Screen:
    """After a lost race (or a refused confirmation, said by `lead`): the day's times as they
    are now (or the calendar if none are left)."""
    if lead is None:
        lead = _("That time was just taken. Here are the free times now.")
    day = date.fromisoformat(draft.day) if draft.day else msk_date(now)
    screen = await times_screen(backend, acting, draft, day, now, lead)
    if draft.offered or draft.doctor_id is None:  # times, or the first choice again
        return screen
    return await days_screen(backend, acting, draft, now)


def done_text(acting: Acting, visit: Appointment, moving: bool) -> str:
    """Names the patient: booking for a relative, "you are booked" would be wrong."""
    label = esc(acting.label)
    if moving:
        head = _("✅ <b>The appointment is moved:</b> {label}").format(label=label)
    else:
        head = _("✅ <b>Appointment booked:</b> {label}").format(label=label)
    lines = [head, *doctor_lines(visit.doctor)]
    lines.append(_("When: {when}").format(when=when_text(visit.starts_at)))
    if moving and visit.previous_starts_at is not None:
        lines.append(_("Was: {when}").format(when=when_text(visit.previous_starts_at)))
    lines.append(_("To change or cancel it, open 🗓 My appointments."))
    return "\n".join(lines)


async def send_ics(query: CallbackQuery, visit: Appointment, now: datetime) -> None:
    if not isinstance(query.message, Message):
        return
    data = ics.appointment_ics(visit, ics_summary(visit), ics_location(visit.doctor), now)
    await query.message.answer_document(
        BufferedInputFile(data, filename=f"appointment-{visit.appointment_id}.ics"),
        caption=_("📆 Add to calendar"),
        protect_content=True,
    )


async def start_choosing(
    query: CallbackQuery,
    person_id: int,
    mode: str,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    keys: AppKeys,
    backend: RecordsBackend,
    clock: Clock,
    *,
    anew: bool = False,
) -> None:
    """Specialty or referral for a booking (`Mode.BOOK`) or a watch (`Mode.WATCH`); `anew`
    when pressed on a notification ("Book again"): the screen comes as a new message."""
    try:
        acting = await acting_for(
            session, keys, user, backend, query.from_user, person_id, clock(), mode
        )
    except AccessRefused as error:
        await refused(query, error)
        return
    await query.answer()
    draft = BookingDraft(person_id=acting.person_id, mode=mode)
    screen = await what_screen(backend, acting, draft, msk_date(clock()))
    await edit_or_send(query, screen, anew=anew)
    await save_draft(state, draft)
