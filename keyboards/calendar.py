"""A month calendar of bookable days: free days clickable, full days shown but inert."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import get_i18n
from babel.dates import format_date, get_day_names

from bot.services.appointments.calendar import CalendarMonth, DayState


class CalAction(StrEnum):
    DAY = "d"  # a day with free times
    FULL = "f"  # a day in the window with nothing free: answered honestly, nothing else
    MONTH = "m"  # navigate to a month
    NOOP = "n"  # headers, padding, days outside the window


class CalendarCb(CallbackData, prefix="cal"):
    """`value`: a day as YYYYMMDD or a month as YYYYMM; never a slot."""

    action: CalAction
    value: str = ""


def day_value(day: date) -> str:
    return day.strftime("%Y%m%d")


def parse_day(value: str) -> date | None:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8])) if len(value) == 8 else None
    except ValueError:
        return None


def parse_month(value: str) -> tuple[int, int] | None:
    if len(value) != 6 or not value.isdigit() or not 1 <= int(value[4:]) <= 12:
        return None
    return int(value[:4]), int(value[4:])


def _noop(text: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=CalendarCb(action=CalAction.NOOP).pack())


def _day_button(day_state: str, day: date, is_today: bool) -> InlineKeyboardButton:
    label = str(day.day)
    if is_today:
        label = f"[{label}]"  # today is marked whatever its state
    if day_state == DayState.FREE:
        return InlineKeyboardButton(
            text=label, callback_data=CalendarCb(action=CalAction.DAY, value=day_value(day)).pack()
        )
    if day_state == DayState.FULL:
        return InlineKeyboardButton(
            text=f"{label}✕",
            callback_data=CalendarCb(action=CalAction.FULL, value=day_value(day)).pack(),
        )
    return _noop(label if is_today else "·")


def calendar_rows(view: CalendarMonth) -> list[list[InlineKeyboardButton]]:
    locale = get_i18n().current_locale
    title = format_date(view.first_day, format="LLLL y", locale=locale).capitalize()

    def nav(target: tuple[int, int] | None, arrow: str) -> InlineKeyboardButton:
        if target is None:
            return _noop(" ")
        value = f"{target[0]:04d}{target[1]:02d}"
        return InlineKeyboardButton(
            text=arrow, callback_data=CalendarCb(action=CalAction.MONTH, value=value).pack()
        )

    names = get_day_names("abbreviated", context="stand-alone", locale=locale)
    rows = [
        [nav(view.prev_month, "◀"), _noop(title), nav(view.next_month, "▶")],
        [_noop(names[i]) for i in range(7)],
    ]
    for week in view.weeks:
        rows.append(
            [_noop(" ") if d is None else _day_button(d.state, d.day, d.is_today) for d in week]
        )
    return rows
