"""Slot watches' screens: the list of active watches (each named from the backend, never from
stored names) and the buttons under a slot-found message."""

from __future__ import annotations

from collections.abc import Sequence

from backend_client.errors import BackendError
from bot.db.appointments_models import SlotWatch
from bot.flows import booking_actions as ids
from bot.flows.access_texts import esc
from bot.flows.appointment_common import acting_for, step
from bot.flows.appointment_texts import Tr, short_day, specialty_name
from bot.flows.context import FlowContext
from bot.flows.screens import Button, Screen, column
from bot.services.appointments import booking
from bot.services.appointments import watches as watch_service
from bot.services.appointments.booking import BookingDraft
from bot.services.appointments.clock import msk_date
from bot.services.people import AccessRefused

Rows = tuple[tuple[Button, ...], ...]


def _hours(t: Tr, watch: SlotWatch) -> str:
    if watch.minute_from == 0 and watch.minute_to >= 1440:
        return t.gettext("any time")
    start = f"{watch.minute_from // 60:02d}:{watch.minute_from % 60:02d}"
    end = f"{watch.minute_to // 60:02d}:{watch.minute_to % 60:02d}"
    if watch.minute_to >= 1440:
        return t.gettext("after {time}").format(time=start)
    if watch.minute_from == 0:
        return t.gettext("before {time}").format(time=end)
    return f"{start}–{end}"


def _weekdays(t: Tr, watch: SlotWatch) -> str:
    _ = t.gettext
    return {
        watch_service.ALL_WEEKDAYS: _("any day"),
        0b0011111: _("Mon–Fri"),
        0b1100000: _("weekends"),
    }.get(watch.weekdays, _("some days"))


async def target_name(ctx: FlowContext, watch: SlotWatch) -> str:
    """ "Терапевт, Иванов И. И." or "Терапевт, any doctor" — from the backend, never stored."""
    draft = BookingDraft(
        person_id=watch.person_id,
        specialty_code=None if watch.referral_id else watch.specialty_code,
        referral_id=watch.referral_id,
    )
    try:
        acting = await acting_for(ctx, watch.person_id, "watch")
        found = await booking.doctors(ctx.backend, acting.grant_id, acting.requester_id, draft)
    except (AccessRefused, BackendError):
        return ctx.gettext("(no access any more)")
    doctor = next((d for d in found if d.doctor_id == watch.doctor_id), None)
    if doctor is not None:
        return f"{acting.label}: {specialty_name(ctx, doctor.specialty)}, {doctor.full_name}"
    specialty = specialty_name(ctx, found[0].specialty) if found else watch.specialty_code
    return ctx.gettext("{label}: {specialty}, any doctor").format(
        label=acting.label, specialty=specialty
    )


def watches_rows(t: Tr, items: Sequence[tuple[int, str]], may_add: bool) -> Rows:
    _ = t.gettext
    stops = [
        Button(_("🔕 Stop: {label}").format(label=label), ids.watch_id(ids.WATCH_STOP, watch))
        for watch, label in items
    ]
    new = [Button(_("➕ New watch"), ids.watch_id(ids.WATCH_NEW))] if may_add else []
    return column(*stops, *new)


def hit_rows(t: Tr, hit: int, booked: bool) -> Rows:
    """ "Book it" and "Stop watching" under a slot-found message (none once it booked)."""
    if booked:
        return ()
    return column(
        Button(t.gettext("✅ Book it"), ids.hit_id(hit, ids.HIT_BOOK)),
        Button(t.gettext("🔕 Stop watching"), ids.hit_id(hit, ids.HIT_STOP)),
    )


async def list_screen(ctx: FlowContext, lead: str = "") -> Screen:
    _ = ctx.gettext
    active = await watch_service.user_watches(ctx.session, ctx.user)
    today = msk_date(ctx.clock())
    lines = [lead] if lead else []
    lines.append(_("<b>Slot watches</b>"))
    buttons: list[tuple[int, str]] = []
    for number, watch in enumerate(active, 1):
        name = await target_name(ctx, watch)
        mode = _("books by itself") if watch.auto_book else _("tells you")
        lines.append(
            f"{number}. {esc(name)} · "
            + _("until {date}").format(date=short_day(ctx, watch.date_to, today))
            + f" · {_hours(ctx, watch)} · {_weekdays(ctx, watch)} · {mode}"
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
    return step("\n".join(lines), watches_rows(ctx, buttons, may_add))
