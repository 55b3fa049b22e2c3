"""Buttons of notification messages (other features' callbacks) and of the settings screen."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.flows.notification_settings import PREFIX, SetAction
from bot.services.notifications.render import Action, Button
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
        if not button.ref:  # no visit to start from: the first choice
            return WhoCb(flow=Flow.BOOK, person_id=button.person_id, n=True)
        # After a clinic cancellation: the same doctor's calendar (issue 14, 11d).
        return VisitCb(
            action=VisitAction.AGAIN, person_id=button.person_id, appointment_id=button.ref, n=True
        )
    if button.action == Action.WATCH_BOOK:
        return WatchHitCb(hit_id=int(button.ref), action=HIT_BOOK)
    if button.action == Action.WATCH_STOP:
        return WatchHitCb(hit_id=int(button.ref), action=HIT_STOP)
    raise ValueError(f"unknown notification action {button.action!r}")


def button_action(button: Button) -> str:
    """The button's id as every channel carries it (Telegram's callback data, MAX's payload)."""
    return _callback(button).pack()


def notification_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = [[InlineKeyboardButton(text=b.text, callback_data=button_action(b))] for b in buttons]
    return InlineKeyboardMarkup(inline_keyboard=rows)


class NotifySetCb(CallbackData, prefix=PREFIX):
    """The route of the settings buttons `bot.flows.notification_settings` shows."""

    action: SetAction
    value: str = ""
