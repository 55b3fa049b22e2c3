"""The screens of booking and rescheduling, built from the draft and fresh backend reads.

Shared by the booking flow, My appointments (reschedule) and slot watches ("Book it"). Each
builder that offers choices records them in the draft: a pressed button must be one of them.
Builders take the reader's language (`t`: a `FlowContext`, or the Telegram handlers' adapter)
and the backend; every screen is a protected step that replaces the pressed message.
"""

from __future__ import annotations

from datetime import date, datetime

from backend_client.errors import NotFound
from backend_client.models import Appointment, Doctor
from backend_client.protocol import RecordsBackend
from bot.flows import booking_actions as ids
from bot.flows.access_texts import esc
from bot.flows.appointment_common import Acting, step
from bot.flows.appointment_rows import confirm_rows, days_rows, picks_rows, times_rows
from bot.flows.appointment_texts import (
    Tr,
    confirmation_text,
    day_title,
    doctor_button,
    doctor_choice_line,
    doctor_lines,
    moving_from_line,
    referral_button,
    referral_gone_text,
    specialty_name,
    time_label,
    when_text,
    who_line,
)
from bot.flows.screens import Screen
from bot.services.appointments import booking, calendar
from bot.services.appointments.booking import BookingDraft, Mode, ReferralGone
from bot.services.appointments.clock import msk_date


async def what_screen(
    t: Tr,
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    today: date,
    lead: str = "",
) -> Screen:
    what = await booking.what_to_book(backend, acting.grant_id, acting.requester_id)
    items = [
        (ids.PICK_REFERRAL, r.referral_id, referral_button(t, r, today)) for r in what.referrals
    ]
    named = sorted((specialty_name(t, s), s.code) for s in what.specialties)
    items += [(ids.PICK_SPECIALTY, code, name) for name, code in named]
    draft.choices = [f"{kind}:{ref}" for kind, ref, _text in items]
    head = (lead + "\n\n" if lead else "") + who_line(t, acting.label)
    if not items:
        return step(head + "\n" + t.gettext("There is nothing to book right now."))
    text = t.gettext("Which doctor do you need? Choose a specialty, or one of your referrals.")
    return step(head + "\n" + text, picks_rows(t, items))


async def restart_screen(
    t: Tr, backend: RecordsBackend, acting: Acting, draft: BookingDraft, today: date, lead: str
) -> Screen:
    """Back to the first choice (specialty or referral) with `lead` saying why; the draft
    forgets its doctor, referral and times."""
    draft.specialty_code = draft.referral_id = draft.doctor_id = None
    draft.day = None
    draft.offer([])
    return await what_screen(t, backend, acting, draft, today, lead)


async def referral_gone_screen(
    t: Tr, backend: RecordsBackend, acting: Acting, draft: BookingDraft, today: date
) -> Screen:
    return await restart_screen(t, backend, acting, draft, today, referral_gone_text(t))


async def doctors_screen(
    t: Tr, backend: RecordsBackend, acting: Acting, draft: BookingDraft, now: datetime
) -> Screen:
    """Short doctor buttons with each one's nearest free time, the district doctor first; the
    clinics and addresses are in the text."""
    today = msk_date(now)
    try:
        found = await booking.doctors(backend, acting.grant_id, acting.requester_id, draft)
    except ReferralGone:
        return await referral_gone_screen(t, backend, acting, draft, today)
    draft.choices = [f"{ids.PICK_DOCTOR}:{d.doctor_id}" for d in found]
    if not found:
        return step(t.gettext("No doctor of this specialty accepts at your clinics now."))
    nearest = await booking.nearest_times(backend, acting.grant_id, acting.requester_id, found, now)
    items = [
        (ids.PICK_DOCTOR, d.doctor_id, doctor_button(t, d, nearest.get(d.doctor_id), today))
        for d in found
    ]
    lines = [t.gettext("Choose a doctor and a clinic:"), ""]
    lines += [doctor_choice_line(t, d) for d in found]
    if any(d.district for d in found):
        lines += ["", t.gettext("🏠 — your district doctor.")]
    return step("\n".join(lines), picks_rows(t, items))


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
    t: Tr,
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    doctor: Doctor,
    today: date,
) -> list[str]:
    """Who, which doctor, and (when rescheduling) the visit's time now."""
    lines = [who_line(t, acting.label), *doctor_lines(t, doctor)]
    visit = await draft_visit(backend, acting, draft)
    if visit is not None:
        lines.append(moving_from_line(t, visit.starts_at, today))
    return lines


def _gone(t: Tr) -> Screen:
    return step(t.gettext("This doctor no longer accepts. Please start again."))


async def days_screen(
    t: Tr,
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
        return await referral_gone_screen(t, backend, acting, draft, today)
    if doctor is None or draft.doctor_id is None:
        return _gone(t)
    slots = await booking.window_slots(
        backend, acting.grant_id, acting.requester_id, draft.doctor_id, now
    )
    counts = calendar.free_by_day(slots)
    year, mon = month or calendar.first_bookable_month(today, counts)
    view = calendar.month_view(today, counts, year, mon)
    lines = [*await _header(t, backend, acting, draft, doctor, today), ""]
    if counts:
        lines.append(t.gettext("Choose a day (days marked ✕ are fully booked):"))
    else:
        lines.append(t.gettext("No free times in the next 14 days."))
    # Moving to another doctor of the same specialty is allowed where no referral is needed
    # (a used referral cannot list doctors again).
    others = draft.mode == Mode.MOVE and not doctor.specialty.needs_referral
    rows = days_rows(t, view, may_watch=draft.mode == Mode.BOOK, other_doctors=others)
    return step("\n".join(lines), rows)


async def times_screen(
    t: Tr,
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
        return await referral_gone_screen(t, backend, acting, draft, today)
    slots = await booking.day_slots(
        backend, acting.grant_id, acting.requester_id, draft.doctor_id, day, now
    )
    draft.day = day.isoformat()
    draft.offer(slots)
    lines = [lead, ""] if lead else []
    if doctor is not None:
        lines += [*await _header(t, backend, acting, draft, doctor, today), ""]
    else:
        lines += [who_line(t, acting.label), ""]
    title = day_title(t, day, today)
    lines.append(t.gettext("{day}: choose a time (Moscow time).").format(day=title))
    return step("\n".join(lines), times_rows(t, [time_label(t, s.starts_at) for s in slots]))


async def confirm_screen(
    t: Tr, backend: RecordsBackend, acting: Acting, draft: BookingDraft, now: datetime
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
        return await referral_gone_screen(t, backend, acting, draft, today)
    if slot is None or doctor is None:
        return None
    moving = draft.mode == Mode.MOVE
    visit = await draft_visit(backend, acting, draft)
    token = draft.mint_token()
    text = confirmation_text(
        t,
        acting.label,
        doctor,
        slot.starts_at,
        today,
        moving=moving,
        moving_from=visit.starts_at if visit is not None else None,
    )
    return step(text, confirm_rows(t, token))


async def fresh_times(
    t: Tr,
    backend: RecordsBackend,
    acting: Acting,
    draft: BookingDraft,
    now: datetime,
    lead: str | None = None,
) -> Screen:
    """After a lost race (or a refused confirmation, said by `lead`): the day's times as they
    are now (or the calendar if none are left)."""
    if lead is None:
        lead = t.gettext("That time was just taken. Here are the free times now.")
    day = date.fromisoformat(draft.day) if draft.day else msk_date(now)
    screen = await times_screen(t, backend, acting, draft, day, now, lead)
    if draft.offered or draft.doctor_id is None:  # times, or the first choice again
        return screen
    return await days_screen(t, backend, acting, draft, now)


def done_text(t: Tr, acting: Acting, visit: Appointment, moving: bool) -> str:
    """Names the patient: booking for a relative, "you are booked" would be wrong."""
    _ = t.gettext
    label = esc(acting.label)
    if moving:
        head = _("✅ <b>The appointment is moved:</b> {label}").format(label=label)
    else:
        head = _("✅ <b>Appointment booked:</b> {label}").format(label=label)
    lines = [head, *doctor_lines(t, visit.doctor)]
    lines.append(_("When: {when}").format(when=when_text(t, visit.starts_at)))
    if moving and visit.previous_starts_at is not None:
        lines.append(_("Was: {when}").format(when=when_text(t, visit.previous_starts_at)))
    lines.append(_("To change or cancel it, open 🗓 My appointments."))
    return "\n".join(lines)
