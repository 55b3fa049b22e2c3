"""The last steps of booking and rescheduling: a time, its confirmation, and every answer the
backend may give to "confirm".

The confirmation's token (the idempotency key) is in the memory before its button is shown:
a confirmation on screen always has its key, for the first press and any redelivery, and a
second press of a done confirmation shows what the first one booked.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from backend_client.errors import AlreadyBooked, BackendError, NotFound
from backend_client.models import Appointment
from bot.flows.appointment_common import (
    Acting,
    acting_for,
    alert,
    draft_and_acting,
    drop_draft,
    fresh_menu,
    load_draft,
    popup,
    save_draft,
    stale,
    step,
)
from bot.flows.appointment_texts import already_booked_text, failure_text
from bot.flows.booking_screens import (
    confirm_screen,
    days_screen,
    done_text,
    fresh_times,
    restart_screen,
)
from bot.flows.context import FlowContext, Memory
from bot.flows.owner_news import VisitNews, tell_owner
from bot.flows.screens import Screen
from bot.flows.visits_screens import calendar_file, list_screen, visit_screen
from bot.logs import log_event, pseudonym
from bot.services.appointments import booking
from bot.services.appointments import watches as watch_service
from bot.services.appointments.booking import BookingDraft, Failure, Mode
from bot.services.appointments.clock import msk_date
from bot.services.people import AccessRefused

logger = logging.getLogger(__name__)


def taken_text(ctx: FlowContext) -> str:
    return ctx.gettext("That time was just taken. Please choose another one.")


async def confirmation(
    ctx: FlowContext, memory: Memory, acting: Acting, draft: BookingDraft
) -> list[Screen]:
    """The confirmation of the draft's slot, or (taken meanwhile) the free times now; the
    draft, with its new token, is saved before the screen is shown."""
    screen = await confirm_screen(ctx, ctx.backend, acting, draft, ctx.clock())
    if screen is None:
        screens = [
            alert(taken_text(ctx)),
            await fresh_times(ctx, ctx.backend, acting, draft, ctx.clock()),
        ]
    else:
        screens = [screen]
    await save_draft(memory, draft)
    return screens


async def time_chosen(ctx: FlowContext, memory: Memory, index: int) -> list[Screen]:
    found = await draft_and_acting(ctx, memory)
    if isinstance(found, list):
        return found
    draft, acting = found
    if draft.pick(index) is None or draft.doctor_id is None:
        return stale(ctx)  # a time this user was not offered in this message
    return await confirmation(ctx, memory, acting, draft)


async def confirmed(ctx: FlowContext, memory: Memory, token: str) -> list[Screen]:
    _ = ctx.gettext
    draft = await load_draft(memory)
    if draft is not None and draft.done and draft.token == token:
        # The second tap of a double tap, or this update delivered again after the process
        # that booked died before showing it: the first one booked; show what it booked.
        return [alert(_("Already done. See My appointments.")), *await _done_again(ctx, draft)]
    found = await draft_and_acting(ctx, memory)
    if isinstance(found, list):
        return found
    draft, acting = found
    if not token or draft.token != token or draft.slot_id is None:
        return stale(ctx)
    try:
        visit = await booking.commit(
            ctx.backend, acting.grant_id, acting.requester_id, ctx.user.id, draft
        )
    except AlreadyBooked as error:  # one visit per specialty: that one, to reschedule
        log_event(logger, "appointment.refused", logging.INFO, failure="already_booked")
        return await _already_booked(ctx, memory, acting, error.appointment_id)
    except BackendError as error:
        failure = await booking.explain(
            ctx.backend, acting.grant_id, acting.requester_id, draft, error
        )
        log_event(logger, "appointment.refused", logging.INFO, failure=failure.value)
        return await _not_done(ctx, memory, acting, draft, failure)
    draft.done = visit.appointment_id
    await save_draft(memory, draft)
    if draft.watch_id is not None:  # booked from a watch's message: it has done its job
        await watch_service.stop_watch(ctx.session, ctx.user, draft.watch_id)
    moving = draft.mode == Mode.MOVE
    log_event(
        logger,
        "appointment.moved" if moving else "appointment.booked",
        user=pseudonym(ctx.user.messenger_key),
    )
    # A relative's booking or move is news for the card's owner (issue 14, 10).
    await tell_owner(ctx, acting.person_id, VisitNews.MOVED if moving else VisitNews.BOOKED, visit)
    return [
        popup(_("Done")),
        step(done_text(ctx, acting, visit, moving)),
        calendar_file(ctx, visit, ctx.clock()),
    ]


async def already_booked_screens(
    ctx: FlowContext, memory: Memory, acting: Acting, visit: Appointment
) -> list[Screen]:
    """The patient's visit of this specialty with its Reschedule / Cancel buttons, said why;
    the booking ends (its old buttons are stale)."""
    await drop_draft(memory)
    screen = await visit_screen(ctx, memory, acting, visit)
    lead = already_booked_text(ctx, acting.label, visit, msk_date(ctx.clock()))
    return [replace(screen, text=lead + "\n\n" + screen.text)]


async def _already_booked(
    ctx: FlowContext, memory: Memory, acting: Acting, appointment_id: str
) -> list[Screen]:
    text = failure_text(ctx, Failure.ALREADY_BOOKED)
    try:
        visit = await ctx.backend.get_appointment(
            acting.grant_id, acting.requester_id, appointment_id
        )
    except NotFound:
        await drop_draft(memory)
        return [alert(text), await list_screen(ctx, memory, acting)]
    return [alert(text), *await already_booked_screens(ctx, memory, acting, visit)]


async def _done_again(ctx: FlowContext, draft: BookingDraft) -> list[Screen]:
    """The booked visit's screen once more (the same text again is "not modified", harmless);
    the "Already done" alert is shown, so a refusal or an outage here says nothing more."""
    assert draft.done is not None
    try:
        acting = await acting_for(ctx, draft.person_id, "book")
        visit = await ctx.backend.get_appointment(acting.grant_id, acting.requester_id, draft.done)
    except (AccessRefused, BackendError):
        return []
    return [step(done_text(ctx, acting, visit, draft.mode == Mode.MOVE))]


async def _not_done(
    ctx: FlowContext, memory: Memory, acting: Acting, draft: BookingDraft, failure: Failure
) -> list[Screen]:
    """The backend refused the booking or the move: say why, and put the way on in reach."""
    text = failure_text(ctx, failure)
    now = ctx.clock()
    if failure is Failure.UNAVAILABLE:
        # The confirmation stays: tapping it again reuses the same idempotency key.
        return [alert(text)]
    if failure is Failure.NO_ACCESS:
        await drop_draft(memory)
        cancelled = step(ctx.gettext("Cancelled. Nothing was booked or changed."))
        return [cancelled, *fresh_menu(ctx, text)]
    if failure in (Failure.VISIT_GONE, Failure.VISIT_FIXED):
        await drop_draft(memory)
        if failure is Failure.VISIT_FIXED and draft.appointment_id is not None:
            visit = await ctx.backend.get_appointment(
                acting.grant_id, acting.requester_id, draft.appointment_id
            )
            screen = await visit_screen(ctx, memory, acting, visit)
        else:
            screen = await list_screen(ctx, memory, acting)
        return [alert(text), screen]
    if failure is Failure.SLOT_TAKEN:
        screen = await fresh_times(ctx, ctx.backend, acting, draft, now)
    elif failure is Failure.RETRY:
        screen = await fresh_times(ctx, ctx.backend, acting, draft, now, text)
    elif failure is Failure.OTHER_SPECIALTY:
        draft.offer([])
        screen = await days_screen(ctx, ctx.backend, acting, draft, now)
    else:  # the referral or the specialty does not do: the first choice again
        screen = await restart_screen(ctx, ctx.backend, acting, draft, msk_date(now), text)
    await save_draft(memory, draft)
    return [alert(text), screen]
