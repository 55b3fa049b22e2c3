"""👀 Slot watches, channel-neutral: the list, a new watch (set up in a few presses), stopping
one, and the buttons under a slot-found message ("Book it" carries only a hit id).

A new watch is chosen like a booking (for whom → specialty or referral → doctor, the draft in
`Mode.WATCH`, `bot.flows.booking`), or from a booking's calendar ("Nothing suits? Watch for a
slot"); its questions follow (`watch_setup`). Every press re-checks the grant; a hit or a
watch id is looked up for the presser (another user's is out of date).
"""

from __future__ import annotations

import logging

from bot.flows import booking_actions as ids
from bot.flows.appointment_common import (
    Acting,
    acting_for,
    alert,
    as_new,
    draft_and_acting,
    drop_draft,
    for_whom,
    fresh_menu,
    popup,
    refused,
    save_draft,
    stale,
)
from bot.flows.appointment_texts import short_day
from bot.flows.booking import start_choosing
from bot.flows.booking_screens import draft_doctor, referral_gone_screen
from bot.flows.booking_steps import confirmation
from bot.flows.context import FlowContext, Memory
from bot.flows.screens import Placement, Screen
from bot.flows.watch_setup import ORDER, SETUP_KEY, Target, accepts, build_spec, next_screen
from bot.flows.watch_setup import target_screen as setup_target_screen
from bot.flows.watches_screens import list_screen
from bot.logs import log_event, pseudonym
from bot.services.appointments import booking
from bot.services.appointments import watches as watch_service
from bot.services.appointments.booking import BookingDraft, Mode
from bot.services.appointments.clock import msk_date
from bot.services.people import AccessRefused

logger = logging.getLogger(__name__)


def _too_many(ctx: FlowContext) -> list[Screen]:
    return [alert(ctx.gettext("You already have 5 watches. Stop one first."))]


async def _full(ctx: FlowContext) -> bool:
    count = await watch_service.active_count(ctx.session, ctx.user)
    return count >= watch_service.MAX_ACTIVE_WATCHES


# --- the list -------------------------------------------------------------------------------


async def show_watches(ctx: FlowContext, memory: Memory) -> list[Screen]:
    """The menu button: a menu tap ends whatever flow was open (and its draft)."""
    await memory.set_state(None)
    await drop_draft(memory)
    return [as_new(await list_screen(ctx))]


async def watch_stopped(ctx: FlowContext, watch_id: int) -> list[Screen]:
    if not await watch_service.stop_watch(ctx.session, ctx.user, watch_id):
        return stale(ctx)
    _ = ctx.gettext
    return [popup(_("Stopped.")), await list_screen(ctx, _("🔕 The watch is stopped."))]


async def watch_new(ctx: FlowContext, memory: Memory) -> list[Screen]:
    """ "New watch": for whom (asked in a message of its own), then what to watch."""
    if await _full(ctx):
        return _too_many(ctx)
    person_id = await for_whom(ctx, ids.FLOW_WATCH)
    if isinstance(person_id, list):
        return person_id  # the answer comes back as `aw:w:<person>` (the booking flow's)
    return await start_choosing(ctx, memory, person_id, Mode.WATCH)


# --- set-up ---------------------------------------------------------------------------------


async def watch_from_calendar(ctx: FlowContext, memory: Memory) -> list[Screen]:
    """ "Nothing suits? Watch for a slot" under a booking's calendar: this doctor's watch."""
    found = await draft_and_acting(ctx, memory)
    if isinstance(found, list):
        return found
    draft, acting = found
    try:
        doctor = await draft_doctor(ctx.backend, acting, draft) if draft.doctor_id else None
    except booking.ReferralGone:
        return await _referral_gone(ctx, memory, acting, draft)
    if doctor is None:
        return stale(ctx)
    if await _full(ctx):
        return _too_many(ctx)
    draft.mode = Mode.WATCH
    draft.offer([])
    await save_draft(memory, draft)
    await memory.update_data({SETUP_KEY: {}})
    return [setup_target_screen(ctx, doctor)]


async def setup_answered(
    ctx: FlowContext, memory: Memory, answered: str, value: str
) -> list[Screen]:
    """One answer of the set-up: the next question, or (the last) the watch is created."""
    _ = ctx.gettext
    answers = (await memory.get_data()).get(SETUP_KEY)
    if not isinstance(answers, dict) or not accepts(answers, answered, value):
        return stale(ctx)
    found = await draft_and_acting(ctx, memory)
    if isinstance(found, list):
        return found
    draft, acting = found
    answers[answered] = value
    await memory.update_data({SETUP_KEY: answers})
    if len(answers) < len(ORDER):
        return [next_screen(ctx, answered)]
    try:
        doctor = await draft_doctor(ctx.backend, acting, draft)
    except booking.ReferralGone:
        await memory.update_data({SETUP_KEY: None})
        return await _referral_gone(ctx, memory, acting, draft)
    if doctor is None:
        return stale(ctx)
    today = msk_date(ctx.clock())
    spec = build_spec(Target(acting.person_id, doctor, draft.referral_id), answers, today)
    try:
        await watch_service.create_watch(ctx.session, ctx.user, spec, ctx.clock())
    except watch_service.WatchLimitReached:
        return _too_many(ctx)
    await drop_draft(memory)
    await memory.update_data({SETUP_KEY: None})
    log_event(logger, "watch.created", user=pseudonym(ctx.user.messenger_key), auto=spec.auto_book)
    lead = _(
        "🔔 <b>Watching.</b> You will get a message the moment a matching slot frees up. "
        "The watch ends on {date}, or when you stop it or book."
    ).format(date=short_day(ctx, spec.date_to, today))
    return [popup(_("Watching.")), await list_screen(ctx, lead)]


async def _referral_gone(
    ctx: FlowContext, memory: Memory, acting: Acting, draft: BookingDraft
) -> list[Screen]:
    """The watch's referral was used up meanwhile: the first choice again, saying why."""
    today = msk_date(ctx.clock())
    screen = await referral_gone_screen(ctx, ctx.backend, acting, draft, today)
    await save_draft(memory, draft)
    return [screen]


# --- the buttons under a slot-found message ---------------------------------------------------


async def hit_stopped(ctx: FlowContext, hit_id: int) -> list[Screen]:
    found = await watch_service.own_hit(ctx.session, ctx.user, hit_id)
    if found is None:
        return stale(ctx)
    await watch_service.stop_watch(ctx.session, ctx.user, found[1].id)
    return [popup(ctx.gettext("Stopped.")), Screen("", placement=Placement.STRIP)]


async def hit_book(ctx: FlowContext, memory: Memory, hit_id: int) -> list[Screen]:
    """ "Book it": the slot's confirmation in a message of its own (the notification stays)."""
    _ = ctx.gettext
    found = await watch_service.own_hit(ctx.session, ctx.user, hit_id)
    if found is None:
        return stale(ctx)  # forged, or another user's hit
    hit, watch = found
    if hit.appointment_id is not None:
        return [alert(_("Already done. See My appointments."))]
    if hit.starts_at <= ctx.clock():
        return fresh_menu(ctx, _("This time has already passed."))
    try:
        acting = await acting_for(ctx, watch.person_id, "book")
    except AccessRefused as error:
        return refused(ctx, error)
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
    screens = await confirmation(ctx, memory, acting, draft)
    return [as_new(s) if s.placement is Placement.EDIT else s for s in screens]
