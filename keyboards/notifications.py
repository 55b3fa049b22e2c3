"""Buttons of notification messages (other features' callbacks) and of the settings screen."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_timedelta

from bot.services.notifications.kinds import Switch
from bot.services.notifications.render import Action, Button
from bot.services.notifications.settings import OFFSET_CHOICES, QUIET_CHOICES, Prefs
from keyboards.appointments import HIT_BOOK, HIT_STOP, Flow, VisitAction, VisitCb, WatchHitCb, WhoCb
from keyboards.records import DocAction, RecDocCb


def _callback(button: Button) -> CallbackData:
    """A notification button is the owning feature's own callback: pressing it goes through
    that feature's handler and its access check, like any other press.

    The notification must stay in the chat as it was: `n=True` makes the appointment handlers
    open their flow in a new message instead of editing the pressed one. An entry's "Open" and
    the watch-hit buttons need no mark: their handlers never replace the pressed message's text.
    """
    if button.action == Action.OPEN_ENTRY:
        return RecDocCb(a=DocAction.OPEN, p=button.person_id, e=button.ref)
    if button.action == Action.RESCHEDULE:
        return VisitCb(
            action=VisitAction.MOVE, person_id=button.person_id, appointment_id=button.ref, n=True
        )
    if button.action == Action.CANCEL:
        return VisitCb(
            action=VisitAction.CANCEL,
            person_id=button.person_id,
            appointment_id=button.ref,
            n=True,
        )
    if button.action == Action.BOOK:
        return WhoCb(flow=Flow.BOOK, person_id=button.person_id, n=True)
    if button.action == Action.WATCH_BOOK:
        return WatchHitCb(hit_id=int(button.ref), action=HIT_BOOK)
    if button.action == Action.WATCH_STOP:
        return WatchHitCb(hit_id=int(button.ref), action=HIT_STOP)
    raise ValueError(f"unknown notification action {button.action!r}")


def notification_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = [[InlineKeyboardButton(text=b.text, callback_data=_callback(b).pack())] for b in buttons]
    return InlineKeyboardMarkup(inline_keyboard=rows)


class SetAction(StrEnum):
    HOME = "h"
    SWITCH = "s"
    QUIET = "q"
    QUIET_TOGGLE = "qt"
    QUIET_START = "qs"
    QUIET_END = "qe"
    OFFSETS = "o"
    OFFSET_TOGGLE = "ot"


class NotifySetCb(CallbackData, prefix="ns"):
    action: SetAction
    value: str = ""


def _mark(on: bool) -> str:
    return "✅" if on else "▫️"


def switch_names() -> dict[Switch, str]:
    return {
        Switch.RESULTS: _("New results"),
        Switch.REMINDERS: _("Visit reminders"),
        Switch.CHANGES: _("Clinic changes to visits"),
        Switch.SLOTS: _("Free slots for my watches"),
    }


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def offset_name(minutes: int, locale: str) -> str:
    return format_timedelta(timedelta(minutes=minutes), threshold=1.0, locale=locale)


def settings_keyboard(prefs: Prefs, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for switch, name in switch_names().items():
        on = bool(getattr(prefs, switch.value))
        builder.button(
            text=f"{_mark(on)} {name}",
            callback_data=NotifySetCb(action=SetAction.SWITCH, value=switch.value),
        )
    quiet = prefs.quiet
    quiet_text = (
        _("🌙 Quiet hours: {start}–{end}").format(start=hhmm(quiet.start), end=hhmm(quiet.end))
        if quiet.enabled
        else _("🌙 Quiet hours: off")
    )
    builder.button(text=quiet_text, callback_data=NotifySetCb(action=SetAction.QUIET))
    offsets = ", ".join(offset_name(m, locale) for m in prefs.offsets) or _("none")
    builder.button(
        text=_("⏰ Remind before a visit: {offsets}").format(offsets=offsets),
        callback_data=NotifySetCb(action=SetAction.OFFSETS),
    )
    builder.adjust(1)
    return builder.as_markup()


def _back(builder: InlineKeyboardBuilder) -> None:
    builder.row(
        InlineKeyboardButton(
            text=_("⬅️ Back"), callback_data=NotifySetCb(action=SetAction.HOME).pack()
        )
    )


def quiet_keyboard(prefs: Prefs, choosing: SetAction | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    quiet = prefs.quiet
    if choosing in (SetAction.QUIET_START, SetAction.QUIET_END):
        current = quiet.start if choosing is SetAction.QUIET_START else quiet.end
        other = quiet.end if choosing is SetAction.QUIET_START else quiet.start
        for minute in QUIET_CHOICES:
            if minute == other:
                continue  # start = end would be no quiet hours at all: that is the off switch
            mark = "• " if minute == current else ""
            builder.button(
                text=f"{mark}{hhmm(minute)}",
                callback_data=NotifySetCb(action=choosing, value=str(minute)),
            )
        builder.adjust(6)
        _back(builder)
        return builder.as_markup()
    builder.button(
        text=_("Turn quiet hours off") if quiet.enabled else _("Turn quiet hours on"),
        callback_data=NotifySetCb(action=SetAction.QUIET_TOGGLE),
    )
    builder.button(
        text=_("Start: {time}").format(time=hhmm(quiet.start)),
        callback_data=NotifySetCb(action=SetAction.QUIET_START),
    )
    builder.button(
        text=_("End: {time}").format(time=hhmm(quiet.end)),
        callback_data=NotifySetCb(action=SetAction.QUIET_END),
    )
    builder.adjust(1, 2)
    _back(builder)
    return builder.as_markup()


def offsets_keyboard(prefs: Prefs, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for minutes in OFFSET_CHOICES:
        builder.button(
            text=f"{_mark(minutes in prefs.offsets)} {offset_name(minutes, locale)}",
            callback_data=NotifySetCb(action=SetAction.OFFSET_TOGGLE, value=str(minutes)),
        )
    builder.adjust(2)
    _back(builder)
    return builder.as_markup()
