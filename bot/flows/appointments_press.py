"""A pressed booking, My appointments or slot watches button by its id alone, for a messenger without
Telegram's CallbackData routing (MAX): the id is parsed as `bot.flows.booking_actions` packs
it (and as `keyboards/appointments.py` reads it, older ids without `n` included) and sent to
its step of `bot.flows.booking`, `booking_steps`, `visits` or `watches`.

An id that is not a well-formed button of these flows is not ours: `None`, and the caller
tries its other routes. A well-formed id is
still checked by the step: a choice not offered, another person's visit, a revoked grant is
an alert.
"""

from __future__ import annotations

from bot.flows import booking as booking_flow
from bot.flows import booking_actions as ids
from bot.flows import booking_steps as steps
from bot.flows import visits as visits_flow
from bot.flows import watches as watches_flow
from bot.flows.context import FlowContext, Memory
from bot.flows.screens import Screen

_FLAGS = {"0": False, "1": True}
_VISIT_STEPS = {
    ids.VISIT_VIEW: visits_flow.visit_viewed,
    ids.VISIT_MOVE: visits_flow.move_asked,
    ids.VISIT_CANCEL: visits_flow.cancel_asked,
    ids.VISIT_CANCEL_CONFIRM: visits_flow.cancel_confirmed,
    ids.VISIT_ICS: visits_flow.ics_asked,
    ids.VISIT_AGAIN: visits_flow.book_again,
    ids.VISIT_BY_REFERRAL: visits_flow.book_by_referral,
}
_PICKS = (ids.PICK_SPECIALTY, ids.PICK_REFERRAL, ids.PICK_DOCTOR)


def _number(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _flag(fields: tuple[str, ...], at: int) -> bool | None:
    return _FLAGS.get(fields[at]) if len(fields) > at else False


async def press(ctx: FlowContext, memory: Memory, action: str) -> list[Screen] | None:
    """The screens a booking or My appointments button leads to, or `None` for another id."""
    parsed = ids.parse(action)
    if parsed is None:
        return None
    fields = parsed.fields
    if parsed.prefix == "aw":
        return await _who(ctx, memory, fields)
    if parsed.prefix == "av":
        return await _visit(ctx, memory, fields)
    if parsed.prefix == "ap":
        if fields[0] not in _PICKS:
            return None
        return await booking_flow.picked(ctx, memory, fields[0], fields[1])
    if parsed.prefix == "at":
        index = _number(fields[0])
        return None if index is None else await steps.time_chosen(ctx, memory, index)
    if parsed.prefix == "cal":
        return await _calendar(ctx, memory, fields)
    if parsed.prefix == "ab":
        return await _book(ctx, memory, fields)
    return await _watch(ctx, memory, parsed.prefix, fields)


async def _who(ctx: FlowContext, memory: Memory, fields: tuple[str, ...]) -> list[Screen] | None:
    person_id, anew = _number(fields[1]), _flag(fields, 2)
    if person_id is None or anew is None:
        return None
    if fields[0] == ids.FLOW_LIST:
        return await visits_flow.visits_for(ctx, memory, person_id, anew)
    if fields[0] in booking_flow.MODE_OF_FLOW:
        return await booking_flow.chosen_for(ctx, memory, fields[0], person_id, anew)
    return None


async def _visit(ctx: FlowContext, memory: Memory, fields: tuple[str, ...]) -> list[Screen] | None:
    visit_step = _VISIT_STEPS.get(fields[0])
    person_id, anew = _number(fields[1]), _flag(fields, 3)
    if visit_step is None or person_id is None or anew is None or not fields[2]:
        return None
    return await visit_step(ctx, memory, person_id, fields[2], anew)


async def _calendar(
    ctx: FlowContext, memory: Memory, fields: tuple[str, ...]
) -> list[Screen] | None:
    value = fields[1] if len(fields) > 1 else ""
    if fields[0] == ids.CAL_NOOP:
        return booking_flow.calendar_noop()
    if fields[0] == ids.CAL_FULL:
        return booking_flow.full_day(ctx)
    if fields[0] == ids.CAL_MONTH:
        return await booking_flow.month_shown(ctx, memory, value)
    if fields[0] == ids.CAL_DAY:
        return await booking_flow.day_chosen(ctx, memory, value)
    return None


async def _book(ctx: FlowContext, memory: Memory, fields: tuple[str, ...]) -> list[Screen] | None:
    token = fields[1] if len(fields) > 1 else ""
    if fields[0] == ids.BOOK_CONFIRM:
        return await steps.confirmed(ctx, memory, token)
    if fields[0] == ids.BOOK_DAYS:
        return await booking_flow.back_to_days(ctx, memory)
    if fields[0] == ids.BOOK_OTHER_DOCTORS:
        return await booking_flow.other_doctors(ctx, memory)
    if fields[0] == ids.BOOK_ABORT:
        return await booking_flow.aborted(ctx, memory)
    if fields[0] == ids.BOOK_WATCH:
        return await watches_flow.watch_from_calendar(ctx, memory)
    return None


async def _watch(
    ctx: FlowContext, memory: Memory, prefix: str, fields: tuple[str, ...]
) -> list[Screen] | None:
    if prefix == "ws":
        return await watches_flow.setup_answered(ctx, memory, fields[0], fields[1])
    if prefix == "wh":
        hit = _number(fields[0])
        if hit is None:
            return None
        if fields[1] == ids.HIT_BOOK:
            return await watches_flow.hit_book(ctx, memory, hit)
        if fields[1] == ids.HIT_STOP:
            return await watches_flow.hit_stopped(ctx, hit)
        return None
    watch = _number(fields[1]) if len(fields) > 1 else 0  # "wt"
    if watch is None:
        return None
    if fields[0] == ids.WATCH_NEW:
        return await watches_flow.watch_new(ctx, memory)
    if fields[0] == ids.WATCH_STOP:
        return await watches_flow.watch_stopped(ctx, watch)
    return None
