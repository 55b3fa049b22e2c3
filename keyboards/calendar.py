"""The calendar's buttons on Telegram: the factory that parses what the booking flow's
calendar (`bot.flows.appointment_rows.calendar_rows`) packs."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.flows import booking_actions as ids
from bot.flows.booking_actions import day_value, parse_day, parse_month

__all__ = ["CalAction", "CalendarCb", "day_value", "parse_day", "parse_month"]


class CalAction(StrEnum):
    DAY = ids.CAL_DAY  # a day with free times
    FULL = ids.CAL_FULL  # a day in the window with nothing free: answered honestly, nothing else
    MONTH = ids.CAL_MONTH  # navigate to a month
    NOOP = ids.CAL_NOOP  # headers, padding, days outside the window


class CalendarCb(CallbackData, prefix="cal"):
    """`value`: a day as YYYYMMDD or a month as YYYYMM; never a slot."""

    action: CalAction
    value: str = ""
