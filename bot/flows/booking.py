"""📅 Booking a doctor, channel-neutral: for whom → specialty or referral → doctor → day (a
calendar) → time → confirm (`booking_steps`).

The draft (`bot.services.appointments.booking.BookingDraft`) lives in the conversation's
memory; its `mode` says what the choosing is for: a booking, a rescheduling (from My
appointments, `visits`) or a new slot watch (from Slot watches). Every press re-checks the
current grant, and a pressed specialty, doctor, day or time must be one this user was offered.
"""

from __future__ import annotations

from dataclasses import replace

from bot.flows import booking_actions as ids
from bot.flows.access_texts import refusal_text
from bot.flows.appointment_common import (
    Acting,
    acting_for,
    alert,
    as_new,
    draft_and_acting,
    drop_draft,
    for_whom,
    refused,
    save_draft,
    stale,
    step,
)
from bot.flows.appointment_texts import already_booked_warning
from bot.flows.booking_screens import (
    days_screen,
    doctors_screen,
    draft_doctor,
    referral_gone_screen,
    times_screen,
    what_screen,
)
from bot.flows.context import FlowContext, Memory
from bot.flows.screens import Button, Screen
from bot.flows.watch_setup import SETUP_KEY, target_screen
from bot.services.appointments import booking, calendar
from bot.services.appointments.booking import BookingDraft, Mode, ReferralGone
from bot.services.appointments.clock import msk_date
from bot.services.people import AccessRefused

MODE_OF_FLOW = {ids.FLOW_BOOK: Mode.BOOK, ids.FLOW_WATCH: Mode.WATCH}
"""For whom, and then a specialty or referral: for a booking, or for a watch."""


# --- for whom -------------------------------------------------------------------------------


async def book_start(ctx: FlowContext, memory: Memory) -> list[Screen]:
    """The menu button: a menu tap ends whatever flow was open (and its draft)."""
    await memory.set_state(None)
    await drop_draft(memory)
    person_id = await for_whom(ctx, ids.FLOW_BOOK)
    if isinstance(person_id, list):
        return person_id
    try:
        acting = await acting_for(ctx, person_id, "book")
    except AccessRefused as error:
        return [Screen(refusal_text(ctx.gettext, error))]
    draft = BookingDraft(person_id=acting.person_id)
    screen = await what_screen(ctx, ctx.backend, acting, draft, msk_date(ctx.clock()))
    await save_draft(memory, draft)
    return [as_new(screen)]


async def start_choosing(
    ctx: FlowContext, memory: Memory, person_id: int, mode: str, anew: bool = False
) -> list[Screen]:
    """Specialty or referral for a booking (`Mode.BOOK`) or a watch (`Mode.WATCH`); `anew`
    when pressed on a notification ("Book again"): the screen comes as a new message."""
    try:
        acting = await acting_for(ctx, person_id, mode)
    except AccessRefused as error:
        return refused(ctx, error)
    draft = BookingDraft(person_id=acting.person_id, mode=mode)
    screen = await what_screen(ctx, ctx.backend, acting, draft, msk_date(ctx.clock()))
    await save_draft(memory, draft)
    return [as_new(screen, anew)]


async def chosen_for(
    ctx: FlowContext, memory: Memory, flow: str, person_id: int, anew: bool = False
) -> list[Screen]:
    """A "for whom" answer of booking (`b`) or of a new watch (`w`)."""
    mode = MODE_OF_FLOW.get(flow)
    if mode is None:
        return stale(ctx)
    return await start_choosing(ctx, memory, person_id, mode, anew)


# --- specialty, referral, doctor -------------------------------------------------------------


async def picked(ctx: FlowContext, memory: Memory, kind: str, ref: str) -> list[Screen]:
    """A specialty, referral or doctor from the list this user was shown."""
    found = await draft_and_acting(ctx, memory)
    if isinstance(found, list):
        return found
    draft, acting = found
    if f"{kind}:{ref}" not in draft.choices:
        return stale(ctx)  # not on the screen this user was shown
    if kind == ids.PICK_DOCTOR:
        draft.doctor_id = ref
        if draft.mode == Mode.WATCH:
            screen = await _watch_target(ctx, memory, acting, draft)
        else:
            screen = await days_screen(ctx, ctx.backend, acting, draft, ctx.clock())
    else:
        if kind == ids.PICK_REFERRAL:
            draft.referral_id, draft.specialty_code = ref, None
        else:
            draft.specialty_code, draft.referral_id = ref, None
        screen = await doctors_screen(ctx, ctx.backend, acting, draft, ctx.clock())
        if kind == ids.PICK_SPECIALTY and draft.mode == Mode.BOOK:
            screen = await _warn_of_a_visit(ctx, acting, ref, screen)
    await save_draft(memory, draft)
    return [screen]


async def _warn_of_a_visit(ctx: FlowContext, acting: Acting, code: str, screen: Screen) -> Screen:
    """One visit per specialty (EMIAS refuses a second): warned before choosing a doctor, with
    the visit's Reschedule on top."""
    visit = await booking.active_visit_of(ctx.backend, acting.grant_id, acting.requester_id, code)
    if visit is None:
        return screen
    text = already_booked_warning(ctx, acting.label, visit, msk_date(ctx.clock()))
    move = Button(
        ctx.gettext("🔁 Reschedule that appointment"),
        ids.visit_id(ids.VISIT_MOVE, acting.person_id, visit.appointment_id),
    )
    return replace(screen, text=text + "\n\n" + screen.text, rows=((move,), *screen.rows))


async def _watch_target(
    ctx: FlowContext, memory: Memory, acting: Acting, draft: BookingDraft
) -> Screen:
    """A new watch: the doctor is chosen; the set-up questions follow (Slot watches)."""
    try:
        doctor = await draft_doctor(ctx.backend, acting, draft)
    except ReferralGone:
        return await referral_gone_screen(ctx, ctx.backend, acting, draft, msk_date(ctx.clock()))
    if doctor is None:
        return step(ctx.gettext("This doctor no longer accepts. Please start again."))
    await memory.update_data({SETUP_KEY: {}})
    return target_screen(ctx, doctor)


# --- days ------------------------------------------------------------------------------------


def calendar_noop() -> list[Screen]:
    """A header, padding or a day outside the window: nothing happens."""
    return []


def full_day(ctx: FlowContext) -> list[Screen]:
    return [alert(ctx.gettext("There are no free times on this day. Choose a day without ✕."))]


async def month_shown(ctx: FlowContext, memory: Memory, value: str) -> list[Screen]:
    found = await draft_and_acting(ctx, memory)
    if isinstance(found, list):
        return found
    draft, acting = found
    month = ids.parse_month(value)
    if month is None or draft.doctor_id is None:
        return stale(ctx)
    screen = await days_screen(ctx, ctx.backend, acting, draft, ctx.clock(), month)
    await save_draft(memory, draft)
    return [screen]


async def day_chosen(ctx: FlowContext, memory: Memory, value: str) -> list[Screen]:
    found = await draft_and_acting(ctx, memory)
    if isinstance(found, list):
        return found
    draft, acting = found
    day = ids.parse_day(value)
    now = ctx.clock()
    start, end = calendar.window(msk_date(now))
    if day is None or draft.doctor_id is None or not start <= day <= end:
        return stale(ctx)  # a day from an old calendar, or a forged one
    screens = [await times_screen(ctx, ctx.backend, acting, draft, day, now)]
    if not draft.offered and draft.doctor_id is not None:  # (no doctor: the referral is used up)
        screens = [
            alert(ctx.gettext("The last free time of this day was just taken.")),
            await days_screen(ctx, ctx.backend, acting, draft, now),
        ]
    await save_draft(memory, draft)
    return screens


async def back_to_days(ctx: FlowContext, memory: Memory) -> list[Screen]:
    found = await draft_and_acting(ctx, memory)
    if isinstance(found, list):
        return found
    draft, acting = found
    if draft.doctor_id is None:
        return stale(ctx)
    draft.offer([])
    screen = await days_screen(ctx, ctx.backend, acting, draft, ctx.clock())
    await save_draft(memory, draft)
    return [screen]


async def other_doctors(ctx: FlowContext, memory: Memory) -> list[Screen]:
    """Rescheduling: another doctor of the same specialty."""
    found = await draft_and_acting(ctx, memory)
    if isinstance(found, list):
        return found
    draft, acting = found
    if draft.mode != Mode.MOVE or draft.specialty_code is None:
        return stale(ctx)
    draft.offer([])
    screen = await doctors_screen(ctx, ctx.backend, acting, draft, ctx.clock())
    await save_draft(memory, draft)
    return [screen]


async def aborted(ctx: FlowContext, memory: Memory) -> list[Screen]:
    await drop_draft(memory)
    return [step(ctx.gettext("Cancelled. Nothing was booked or changed."))]
