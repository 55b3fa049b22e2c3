"""What the appointment flows share: acting for a person (the grant re-checked on every
press), the booking draft in the conversation's memory, and honest answers to stale buttons."""

from __future__ import annotations

from dataclasses import dataclass, replace

from backend_client.models import Scope
from bot.crypto import FieldCipher
from bot.flows.access_texts import refusal_text
from bot.flows.appointment_rows import people_picker_rows
from bot.flows.appointment_texts import Tr, stale_text
from bot.flows.context import FlowContext, Memory
from bot.flows.menu import menu_buttons
from bot.flows.requester import requester_of
from bot.flows.screens import Button, Placement, Screen
from bot.services import people as people_service
from bot.services.appointments.booking import DRAFT_KEY, BookingDraft
from bot.services.people import REMEMBERED_PERSON_KEY, AccessRefused

Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Acting:
    """The checked right to act for one person right now (never stored)."""

    person_id: int
    label: str
    grant_id: str
    requester_id: str


async def acting_for(ctx: FlowContext, person_id: object, action: str) -> Acting:
    """Raises `AccessRefused` unless the user's current grant allows appointments."""
    requester = await requester_of(ctx)
    row = await people_service.check_access(
        ctx.session,
        ctx.backend,
        ctx.user,
        person_id,
        Scope.APPOINTMENTS,
        requester,
        action=action,
        now=ctx.clock(),
    )
    label = people_service.to_person(FieldCipher(ctx.keys), row).label
    return Acting(row.id, label, row.grant_id, requester.id)


async def load_draft(memory: Memory) -> BookingDraft | None:
    return BookingDraft.from_data(await memory.get_data())


async def save_draft(memory: Memory, draft: BookingDraft) -> None:
    await memory.update_data({DRAFT_KEY: draft.to_data(), REMEMBERED_PERSON_KEY: draft.person_id})


async def drop_draft(memory: Memory) -> None:
    await memory.update_data({DRAFT_KEY: None})


async def booking_open(memory: Memory) -> bool:
    """An unfinished booking, rescheduling or watch set-up: its draft lives in the data without
    an FSM state, so "is a state set?" alone misses it (/cancel must see it)."""
    draft = await load_draft(memory)
    return draft is not None and draft.done is None


def step(text: str, rows: Rows = (), *, anew: bool = False) -> Screen:
    """A step of the flow: it replaces the pressed message (the flow moves on in place).

    `anew`: the press came from a notification (its button's `n`). The notification stays in
    the chat as it was, and the flow opens in a message of its own, which its next steps edit.
    Protected: flow screens name people, doctors and visits."""
    placement = Placement.NEW if anew else Placement.EDIT
    return Screen(text, rows, placement=placement, protect=True)


def as_new(screen: Screen, new: bool = True) -> Screen:
    """The same step as a message of its own (pressed on a notification)."""
    return replace(screen, placement=Placement.NEW) if new else screen


def alert(text: str) -> Screen:
    return Screen(text, placement=Placement.ALERT)


def popup(text: str) -> Screen:
    return Screen(text, placement=Placement.POPUP)


def fresh_menu(ctx: FlowContext, text: str) -> list[Screen]:
    """Answer a button that can no longer do what it says, and put the way home in reach."""
    home = Screen(ctx.gettext("Choose what to do from the menu."), menu=menu_buttons(ctx.gettext))
    return [alert(text), home]


def stale(ctx: FlowContext) -> list[Screen]:
    return fresh_menu(ctx, stale_text(ctx))


def refused(ctx: FlowContext, error: AccessRefused) -> list[Screen]:
    return fresh_menu(ctx, refusal_text(ctx.gettext, error))


async def draft_and_acting(
    ctx: FlowContext, memory: Memory
) -> tuple[BookingDraft, Acting] | list[Screen]:
    """The open draft and a fresh check of the grant; else the screens answering the press."""
    draft = await load_draft(memory)
    if draft is None:
        return stale(ctx)
    try:
        acting = await acting_for(ctx, draft.person_id, "book")
    except AccessRefused as error:
        await drop_draft(memory)
        return refused(ctx, error)
    return draft, acting


def nobody_text(t: Tr) -> str:
    return t.gettext(
        "There is nobody whose card you can use for this. Open My people to link a policy."
    )


async def for_whom(ctx: FlowContext, flow: str, *, with_all: bool = False) -> int | list[Screen]:
    """The person to act for when there is only one, else the question "for whom?" (its
    answer comes back as `aw:<flow>:<person id>`), or that there is nobody."""
    people = await people_service.list_people(
        ctx.session, FieldCipher(ctx.keys), ctx.user, ctx.clock()
    )
    choice = people_service.whose_card(people, None, Scope.APPOINTMENTS)
    if not choice.choices:
        return [Screen(nobody_text(ctx))]
    if len(choice.choices) == 1:
        return choice.choices[0].id
    # No remembered person here: a menu tap starts anew, so with several people we ask.
    people_buttons = [(p.id, p.label) for p in choice.choices]
    rows = people_picker_rows(ctx, flow, people_buttons, with_all=with_all)
    # Protected: the screens this message turns into name doctors and visits.
    return [Screen(ctx.gettext("For whom?"), rows, protect=True)]
