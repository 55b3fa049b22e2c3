"""The buttons of booking and My appointments as neutral rows (`bot.flows.screens`): the ids
are `bot.flows.booking_actions`'; Telegram renders them as inline keyboards unchanged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from babel.dates import format_date, get_day_names

from bot.flows import booking_actions as ids
from bot.flows.appointment_texts import Tr
from bot.flows.screens import Button, column
from bot.services.appointments.calendar import CalendarMonth, DayState

Rows = tuple[tuple[Button, ...], ...]


def people_picker_rows(
    t: Tr, flow: str, people: Sequence[tuple[int, str]], *, with_all: bool = False
) -> Rows:
    buttons = [Button(label, ids.who_id(flow, person_id)) for person_id, label in people]
    if with_all:
        buttons.append(
            Button(t.gettext("👨‍👩‍👧 Everyone together"), ids.who_id(flow, ids.EVERYONE))
        )
    return column(*buttons)


def _abort(t: Tr) -> Button:
    return Button(t.gettext("✖ Cancel"), ids.book_id(ids.BOOK_ABORT))


def picks_rows(t: Tr, items: Sequence[tuple[str, str, str]], *, abort: bool = True) -> Rows:
    """(kind, ref, text) per button, one per row."""
    buttons = [Button(text, ids.pick_id(kind, ref)) for kind, ref, text in items]
    return column(*buttons, *([_abort(t)] if abort else []))


def _noop(text: str) -> Button:
    return Button(text, ids.cal_id(ids.CAL_NOOP))


def _day_button(day_state: str, day: date, is_today: bool) -> Button:
    label = str(day.day)
    if is_today:
        label = f"[{label}]"  # today is marked whatever its state
    if day_state == DayState.FREE:
        return Button(label, ids.cal_id(ids.CAL_DAY, ids.day_value(day)))
    if day_state == DayState.FULL:
        return Button(f"{label}✕", ids.cal_id(ids.CAL_FULL, ids.day_value(day)))
    return _noop(label if is_today else "·")


def calendar_rows(t: Tr, view: CalendarMonth) -> list[tuple[Button, ...]]:
    """A month of bookable days: free days pressable, full days shown with ✕ (pressing one
    is answered), the rest inert."""
    title = format_date(view.first_day, format="LLLL y", locale=t.locale).capitalize()

    def nav(target: tuple[int, int] | None, arrow: str) -> Button:
        if target is None:
            return _noop(" ")
        return Button(arrow, ids.cal_id(ids.CAL_MONTH, ids.month_value(*target)))

    names = get_day_names("abbreviated", context="stand-alone", locale=t.locale)
    rows = [
        (nav(view.prev_month, "◀"), _noop(title), nav(view.next_month, "▶")),
        tuple(_noop(names[i]) for i in range(7)),
    ]
    for week in view.weeks:
        rows.append(
            tuple(
                _noop(" ") if d is None else _day_button(d.state, d.day, d.is_today) for d in week
            )
        )
    return rows


def days_rows(t: Tr, view: CalendarMonth, *, may_watch: bool, other_doctors: bool = False) -> Rows:
    _ = t.gettext
    rows = calendar_rows(t, view)
    if other_doctors:
        rows.append(
            (Button(_("👥 Another doctor of this specialty"), ids.book_id(ids.BOOK_OTHER_DOCTORS)),)
        )
    if may_watch:
        rows.append((Button(_("🔔 Nothing suits? Watch for a slot"), ids.book_id(ids.BOOK_WATCH)),))
    rows.append((_abort(t),))
    return tuple(rows)


def times_rows(t: Tr, times: Sequence[str]) -> Rows:
    """`times` are labels ("09:30") in the order of the offered slot ids; four a row."""
    buttons = [Button(label, ids.time_id(index)) for index, label in enumerate(times)]
    rows = [tuple(buttons[i : i + 4]) for i in range(0, len(buttons), 4)]
    rows.append((Button(t.gettext("◀ Other days"), ids.book_id(ids.BOOK_DAYS)),))
    rows.append((_abort(t),))
    return tuple(rows)


def confirm_rows(t: Tr, token: str) -> Rows:
    _ = t.gettext
    return column(
        Button(_("✅ Confirm"), ids.book_id(ids.BOOK_CONFIRM, token)),
        Button(_("◀ Other times"), ids.book_id(ids.BOOK_DAYS)),
        _abort(t),
    )


def visits_rows(items: Sequence[tuple[int, str, str]]) -> Rows:
    """(person id, appointment id, label) per upcoming visit."""
    return column(
        *(Button(label, ids.visit_id(ids.VISIT_VIEW, pid, aid)) for pid, aid, label in items)
    )


def visit_rows(
    t: Tr, person_id: int, appointment_id: str, changeable: bool, *, back_to: int | None = None
) -> Rows:
    """`back_to`: the list "Back" returns to (a person row id, 0 = everyone's)."""
    _ = t.gettext

    def button(text: str, action: str) -> Button:
        return Button(text, ids.visit_id(action, person_id, appointment_id))

    buttons = (
        [
            button(_("🔁 Reschedule"), ids.VISIT_MOVE),
            button(_("❌ Cancel the appointment"), ids.VISIT_CANCEL),
            button(_("📆 Add to calendar"), ids.VISIT_ICS),
        ]
        if changeable
        else []
    )
    back = person_id if back_to is None else back_to
    return column(*buttons, Button(_("⬅️ Back"), ids.who_id(ids.FLOW_LIST, back)))


def cancel_confirm_rows(t: Tr, person_id: int, appointment_id: str) -> Rows:
    return column(
        Button(
            t.gettext("Yes, cancel it"),
            ids.visit_id(ids.VISIT_CANCEL_CONFIRM, person_id, appointment_id),
        ),
        Button(t.gettext("No, keep it"), ids.visit_id(ids.VISIT_VIEW, person_id, appointment_id)),
    )
