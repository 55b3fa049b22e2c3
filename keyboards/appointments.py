"""Buttons of booking, My appointments and slot watches: short ids only, never slot details.

The factories parse what `bot.flows.booking_actions` packs: the flows build the buttons,
channel-neutral (`bot.flows.appointment_rows`, `watches_screens`, `watch_setup`); Telegram
routes a press by these classes, so a stale or forged id reaches no handler or is refused by
its step."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from aiogram.filters.callback_data import CallbackData

from bot.flows import booking_actions as ids


class Flow(StrEnum):
    BOOK = ids.FLOW_BOOK
    LIST = ids.FLOW_LIST
    WATCH = ids.FLOW_WATCH


def _before_the_mark(cls: type[CallbackData], value: str) -> str:
    """Data packed before `n` existed (buttons already in chats) has one part fewer: it reads as
    `n` = 0, a press on an ordinary screen."""
    if value.count(cls.__separator__) == len(cls.model_fields) - 1:
        return value + cls.__separator__ + "0"
    return value


class WhoCb(CallbackData, prefix="aw"):
    """`person_id` is the bot's linked-person row id; 0 = all my people (lists only).
    `n`: 1 on a notification's button: the flow opens in a new message, the notification stays."""

    flow: Flow
    person_id: int
    n: bool = False

    @classmethod
    def unpack(cls, value: str) -> Self:
        return super().unpack(_before_the_mark(cls, value))


class PickKind(StrEnum):
    SPECIALTY = ids.PICK_SPECIALTY
    REFERRAL = ids.PICK_REFERRAL
    DOCTOR = ids.PICK_DOCTOR


class PickCb(CallbackData, prefix="ap"):
    """A specialty code, referral id or doctor id from the list the user was shown."""

    kind: PickKind
    ref: str


class TimeCb(CallbackData, prefix="at"):
    """The position of a time in the list offered (and remembered) for this user."""

    index: int


class BookAction(StrEnum):
    CONFIRM = ids.BOOK_CONFIRM
    DAYS = ids.BOOK_DAYS  # back to the calendar
    ABORT = ids.BOOK_ABORT
    WATCH = ids.BOOK_WATCH  # nothing suits: watch for a slot
    OTHER_DOCTORS = ids.BOOK_OTHER_DOCTORS  # rescheduling: another doctor of the same specialty


class BookCb(CallbackData, prefix="ab"):
    """`token`: the confirmation screen's token (only with CONFIRM)."""

    action: BookAction
    token: str = ""


class VisitAction(StrEnum):
    VIEW = ids.VISIT_VIEW
    MOVE = ids.VISIT_MOVE
    CANCEL = ids.VISIT_CANCEL
    CANCEL_CONFIRM = ids.VISIT_CANCEL_CONFIRM
    ICS = ids.VISIT_ICS
    BY_REFERRAL = ids.VISIT_BY_REFERRAL  # a referral's card: `appointment_id` is the referral
    AGAIN = ids.VISIT_AGAIN  # "Book again": the cancelled visit's doctor


class VisitCb(CallbackData, prefix="av"):
    """`n`: 1 on a notification's button (a reminder's "Reschedule", "Cancel"): the screen comes
    as a new message and the notification stays as it was."""

    action: VisitAction
    person_id: int
    appointment_id: str
    n: bool = False

    @classmethod
    def unpack(cls, value: str) -> Self:
        return super().unpack(_before_the_mark(cls, value))


class WatchHitCb(CallbackData, prefix="wh"):
    """The "Book it" / "Stop watching" buttons under a slot-found message."""

    hit_id: int
    action: str  # "book" or "stop"


HIT_BOOK = ids.HIT_BOOK
HIT_STOP = ids.HIT_STOP


class WatchAction(StrEnum):
    NEW = ids.WATCH_NEW
    STOP = ids.WATCH_STOP


class WatchCb(CallbackData, prefix="wt"):
    action: WatchAction
    watch_id: int = 0


class WatchStep(StrEnum):
    TARGET = ids.STEP_TARGET
    RANGE = ids.STEP_RANGE
    HOURS = ids.STEP_HOURS
    DAYS = ids.STEP_DAYS
    MODE = ids.STEP_MODE


class WatchSetupCb(CallbackData, prefix="ws"):
    """One answer of the watch set-up; `value` is a preset name (`bot.flows.watch_setup`)."""

    step: WatchStep
    value: str
