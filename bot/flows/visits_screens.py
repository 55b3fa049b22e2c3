"""My appointments' screens: the list (one person's or everyone's) and one visit; every
read goes through a fresh check of the grant."""

from __future__ import annotations

from datetime import date, datetime

from backend_client.models import Appointment
from bot.crypto import FieldCipher
from bot.flows.access_texts import esc
from bot.flows.appointment_common import Acting, acting_for, step
from bot.flows.appointment_rows import visit_rows, visits_rows
from bot.flows.appointment_texts import (
    Tr,
    ics_location,
    ics_summary,
    past_line,
    visit_line,
    visit_text,
)
from bot.flows.booking_actions import EVERYONE
from bot.flows.context import FlowContext, Memory
from bot.flows.screens import FileOut, Screen
from bot.services import people as people_service
from bot.services.appointments import ics, listing
from bot.services.appointments.clock import msk_date
from bot.services.people import AccessRefused


def calendar_file(t: Tr, visit: Appointment, now: datetime) -> Screen:
    """The visit as an .ics file: a file to keep and open in a calendar app, so it is sent
    saveable (not protected), with a word that it is medical."""
    data = ics.appointment_ics(visit, ics_summary(t, visit), ics_location(t, visit.doctor), now)
    caption = (
        t.gettext("📆 Add to calendar")
        + "\n"
        + t.gettext("🔒 This file contains medical data. Share it only with people you trust.")
    )
    return Screen(
        caption, file=FileOut(f"appointment-{visit.appointment_id}.ics", data, "text/calendar")
    )


LIST_KEY = "visits_list"
"""Memory: whose list My appointments showed last (a person row id, or 0 for everyone): a
visit's "Back" returns to it."""


async def visits_screen(ctx: FlowContext, person_id: int) -> Screen:
    """The list for one person, or for everyone the user may book for (person_id 0); raises
    `AccessRefused` for one person the user may not act for now."""
    _ = ctx.gettext
    now = ctx.clock()
    if person_id == EVERYONE:
        people = await people_service.list_people(ctx.session, FieldCipher(ctx.keys), ctx.user, now)
        person_ids = [p.id for p in people]
    else:
        person_ids = [person_id]
    blocks, buttons = [_("<b>My appointments</b>")], []
    today = msk_date(now)
    for pid in person_ids:
        try:
            acting = await acting_for(ctx, pid, "list")
        except AccessRefused:
            if person_id != EVERYONE:
                raise
            continue  # an appointments-less grant among everyone: just not listed
        visits = await listing.visits(ctx.backend, acting.grant_id, acting.requester_id)
        blocks.append(_person_block(ctx, acting, visits, today))
        buttons += [
            (acting.person_id, v.appointment_id, f"{acting.label}: {_plain(ctx, v, today)}")
            if len(person_ids) > 1
            else (acting.person_id, v.appointment_id, _plain(ctx, v, today))
            for v in visits.upcoming
        ]
    if buttons:
        blocks.append(_("Tap a visit to see it, move or cancel it."))
    return step("\n\n".join(blocks), visits_rows(buttons))


def _plain(t: Tr, visit: Appointment, today: date) -> str:
    return visit_line(t, visit, today, html=False)


def _person_block(t: Tr, acting: Acting, visits: listing.Visits, today: date) -> str:
    _ = t.gettext
    lines = [f"<b>{esc(acting.label)}</b>"]
    if visits.upcoming:
        lines.append(_("Upcoming:"))
        lines += ["• " + visit_line(t, v, today) for v in visits.upcoming]
    else:
        lines.append(_("No upcoming appointments."))
    if visits.past:
        lines.append(_("Past and cancelled:"))
        lines += ["• " + past_line(t, v, today) for v in visits.past]
    return "\n".join(lines)


async def back_to(memory: Memory, acting: Acting) -> int:
    """The list a visit's "Back" leads to: the one shown last if this person was in it."""
    shown = (await memory.get_data()).get(LIST_KEY)
    return shown if shown in (EVERYONE, acting.person_id) else acting.person_id


async def list_screen(ctx: FlowContext, memory: Memory, acting: Acting, lead: str = "") -> Screen:
    """The list the user came from (or this person's), as it is now, under `lead`."""
    person_id = await back_to(memory, acting)
    try:
        screen = await visits_screen(ctx, person_id)
    except AccessRefused:
        screen = await visits_screen(ctx, acting.person_id)
    return step((lead + "\n\n" if lead else "") + screen.text, screen.rows)


async def visit_screen(
    ctx: FlowContext, memory: Memory, acting: Acting, visit: Appointment
) -> Screen:
    rows = visit_rows(
        ctx,
        acting.person_id,
        visit.appointment_id,
        listing.changeable(visit, ctx.clock()),
        back_to=await back_to(memory, acting),
    )
    return step(visit_text(ctx, acting.label, visit), rows)
