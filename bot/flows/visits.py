"""🗓 My appointments, channel-neutral: upcoming and past visits per person (or everyone), one
visit, reschedule (into the booking flow's calendar), cancel (asked first), the .ics file.

Every press re-checks the grant and reads the visit fresh from the backend: another patient's
or an unknown visit id looks the same as a cancelled one (gone). `anew` is a press on a
notification's button (a reminder's "Reschedule"): the screen comes as a new message and the
notification stays as it was.
"""

from __future__ import annotations

import logging

from backend_client.errors import NotFound
from backend_client.models import Appointment
from bot.flows import booking as booking_flow
from bot.flows.access_texts import refusal_text
from bot.flows.appointment_common import (
    Acting,
    acting_for,
    alert,
    as_new,
    drop_draft,
    for_whom,
    fresh_menu,
    popup,
    refused,
    save_draft,
    step,
)
from bot.flows.appointment_rows import cancel_confirm_rows
from bot.flows.appointment_texts import failure_text, visit_text
from bot.flows.booking_actions import FLOW_LIST
from bot.flows.booking_screens import days_screen, doctors_screen
from bot.flows.context import FlowContext, Memory
from bot.flows.owner_news import VisitNews, tell_owner
from bot.flows.screens import Screen
from bot.flows.visits_screens import (
    LIST_KEY,
    calendar_file,
    list_screen,
    visit_screen,
    visits_screen,
)
from bot.logs import log_event, pseudonym
from bot.services.appointments import booking, listing
from bot.services.appointments.booking import BookingDraft, Failure, Mode
from bot.services.people import AccessRefused

logger = logging.getLogger(__name__)

__all__ = [
    "LIST_KEY",
    "book_again",
    "book_by_referral",
    "cancel_asked",
    "cancel_confirmed",
    "ics_asked",
    "move_asked",
    "show_visits",
    "visit_viewed",
    "visits_for",
]


async def show_visits(ctx: FlowContext, memory: Memory) -> list[Screen]:
    """The menu button: a menu tap ends whatever flow was open (and its draft)."""
    await memory.set_state(None)
    await drop_draft(memory)
    person_id = await for_whom(ctx, FLOW_LIST, with_all=True)
    if isinstance(person_id, list):
        return person_id
    try:
        screen = await visits_screen(ctx, person_id)
    except AccessRefused as error:
        return [Screen(refusal_text(ctx.gettext, error))]
    await memory.update_data({LIST_KEY: person_id})
    return [as_new(screen)]


async def visits_for(
    ctx: FlowContext, memory: Memory, person_id: int, anew: bool = False
) -> list[Screen]:
    """A "for whom" answer, or a visit's "Back": that person's (or everyone's) list."""
    try:
        screen = await visits_screen(ctx, person_id)
    except AccessRefused as error:
        return refused(ctx, error)
    await memory.update_data({LIST_KEY: person_id})
    return [as_new(screen, anew)]


async def _visit(
    ctx: FlowContext, memory: Memory, person_id: int, appointment_id: str, anew: bool
) -> tuple[Acting, Appointment] | list[Screen]:
    """The visit read fresh after the access check; else the answer (no access, or the visit
    is no longer this person's: then their list as it is now)."""
    try:
        acting = await acting_for(ctx, person_id, "visit")
    except AccessRefused as error:
        return refused(ctx, error)
    try:
        visit = await ctx.backend.get_appointment(
            acting.grant_id, acting.requester_id, appointment_id
        )
    except NotFound:  # another patient's or an unknown id looks the same: gone
        screen = await list_screen(ctx, memory, acting)
        return [alert(failure_text(ctx, Failure.VISIT_GONE)), as_new(screen, anew)]
    return acting, visit


async def _fixed(
    ctx: FlowContext, memory: Memory, acting: Acting, visit: Appointment, anew: bool
) -> list[Screen]:
    """A visit that is cancelled or past: an alert and the visit as it is now; [] when it can
    still be changed."""
    if listing.changeable(visit, ctx.clock()):
        return []
    screen = await visit_screen(ctx, memory, acting, visit)
    return [alert(failure_text(ctx, Failure.VISIT_FIXED)), as_new(screen, anew)]


async def _changeable_visit(
    ctx: FlowContext, memory: Memory, person_id: int, appointment_id: str, anew: bool
) -> tuple[Acting, Appointment] | list[Screen]:
    """As `_visit`, and only while the visit can still be moved or cancelled."""
    found = await _visit(ctx, memory, person_id, appointment_id, anew)
    if isinstance(found, list):
        return found
    return await _fixed(ctx, memory, *found, anew) or found


async def visit_viewed(
    ctx: FlowContext, memory: Memory, person_id: int, appointment_id: str, anew: bool = False
) -> list[Screen]:
    found = await _visit(ctx, memory, person_id, appointment_id, anew)
    if isinstance(found, list):
        return found
    return [as_new(await visit_screen(ctx, memory, *found), anew)]


async def move_asked(
    ctx: FlowContext, memory: Memory, person_id: int, appointment_id: str, anew: bool = False
) -> list[Screen]:
    """ "Reschedule": the doctor's calendar, in the booking flow's MOVE mode."""
    found = await _changeable_visit(ctx, memory, person_id, appointment_id, anew)
    if isinstance(found, list):
        return found
    acting, visit = found
    draft = BookingDraft(
        person_id=acting.person_id,
        mode=Mode.MOVE,
        doctor_id=visit.doctor.doctor_id,
        specialty_code=visit.doctor.specialty.code,
        appointment_id=visit.appointment_id,
    )
    # From a reminder the calendar comes as a new message; the next steps edit that one.
    screen = await days_screen(ctx, ctx.backend, acting, draft, ctx.clock())
    await save_draft(memory, draft)
    return [as_new(screen, anew)]


async def book_again(
    ctx: FlowContext, memory: Memory, person_id: int, appointment_id: str, anew: bool = False
) -> list[Screen]:
    """ "Book again" on a clinic's cancellation: the same doctor's calendar (a new booking of
    the same specialty); the first choice when that doctor cannot be booked so (a referral
    specialty, or the doctor no longer accepts)."""
    found = await _visit(ctx, memory, person_id, appointment_id, anew)
    if isinstance(found, list):
        return found
    acting, visit = found
    doctor = visit.doctor
    draft = BookingDraft(
        person_id=acting.person_id,
        doctor_id=doctor.doctor_id,
        specialty_code=doctor.specialty.code,
    )
    known = None
    if not doctor.specialty.needs_referral:
        known = await booking.find_doctor(ctx.backend, acting.grant_id, acting.requester_id, draft)
    if known is None:
        return await booking_flow.start_choosing(ctx, memory, acting.person_id, Mode.BOOK, anew)
    screen = await days_screen(ctx, ctx.backend, acting, draft, ctx.clock())
    await save_draft(memory, draft)
    return [as_new(screen, anew)]


async def book_by_referral(
    ctx: FlowContext, memory: Memory, person_id: int, referral_id: str, anew: bool = False
) -> list[Screen]:
    """ "Book by this referral" on the referral's card: that referral's doctors (its target
    clinic's), in a new message; the first choice when it is used up or closed."""
    try:
        acting = await acting_for(ctx, person_id, "book")
    except AccessRefused as error:
        return refused(ctx, error)
    draft = BookingDraft(person_id=acting.person_id, referral_id=referral_id)
    screen = await doctors_screen(ctx, ctx.backend, acting, draft, ctx.clock())
    await save_draft(memory, draft)
    return [as_new(screen, anew)]


async def cancel_asked(
    ctx: FlowContext, memory: Memory, person_id: int, appointment_id: str, anew: bool = False
) -> list[Screen]:
    found = await _changeable_visit(ctx, memory, person_id, appointment_id, anew)
    if isinstance(found, list):
        return found
    acting, visit = found
    text = (
        visit_text(ctx, acting.label, visit)
        + "\n\n"
        + ctx.gettext("<b>Cancel this appointment?</b>")
    )
    rows = cancel_confirm_rows(ctx, acting.person_id, visit.appointment_id)
    return [step(text, rows, anew=anew)]


async def cancel_confirmed(
    ctx: FlowContext, memory: Memory, person_id: int, appointment_id: str, anew: bool = False
) -> list[Screen]:
    """ "Yes, cancel it": an already cancelled visit is said so (a double tap); the list as it
    is now follows."""
    _ = ctx.gettext
    found = await _visit(ctx, memory, person_id, appointment_id, anew)
    if isinstance(found, list):
        return found
    acting, visit = found
    if not visit.is_active:
        notice = alert(_("This appointment is already cancelled."))
    elif fixed := await _fixed(ctx, memory, acting, visit, anew):
        return fixed
    else:
        outcome = await booking.cancel(
            ctx.backend, acting.grant_id, acting.requester_id, visit.appointment_id
        )
        if isinstance(outcome, Failure):
            return await _cancel_failed(ctx, memory, acting, appointment_id, outcome, anew)
        log_event(logger, "appointment.cancelled", user=pseudonym(ctx.user.messenger_key))
        notice = popup(_("The appointment is cancelled."))
        await tell_owner(ctx, acting.person_id, VisitNews.CANCELLED, visit)
    screen = await list_screen(ctx, memory, acting, _("❌ The appointment is cancelled."))
    return [notice, as_new(screen, anew)]


async def _cancel_failed(
    ctx: FlowContext,
    memory: Memory,
    acting: Acting,
    appointment_id: str,
    failure: Failure,
    anew: bool,
) -> list[Screen]:
    """The backend refused the cancellation: say why, and show what is true now."""
    _ = ctx.gettext
    text = failure_text(ctx, failure)
    if failure is Failure.UNAVAILABLE:
        # Nothing changed; the "Yes, cancel it" question stays for another try.
        return [
            alert(
                _(
                    "The appointment service is not answering right now. The appointment is "
                    "not cancelled yet: please try again in a few minutes."
                )
            )
        ]
    if failure is Failure.RETRY:
        return [alert(_("The appointment could not be cancelled just now. Please try again."))]
    if failure is Failure.NO_ACCESS:
        return fresh_menu(ctx, text)
    if failure is Failure.VISIT_GONE:
        screen = await list_screen(ctx, memory, acting)
    else:  # past or cancelled meanwhile: the visit as it is now
        visit = await ctx.backend.get_appointment(
            acting.grant_id, acting.requester_id, appointment_id
        )
        screen = await visit_screen(ctx, memory, acting, visit)
    return [alert(text), as_new(screen, anew)]


async def ics_asked(
    ctx: FlowContext, memory: Memory, person_id: int, appointment_id: str, anew: bool = False
) -> list[Screen]:
    """ "Add to calendar": the visit as an .ics file (a new message; the visit stays)."""
    found = await _visit(ctx, memory, person_id, appointment_id, anew)
    if isinstance(found, list):
        return found
    if fixed := await _fixed(ctx, memory, *found, anew):
        return fixed
    return [calendar_file(ctx, found[1], ctx.clock())]
