"""Buttons of booking, My appointments and slot watches: short ids only, never slot details."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Self

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.services.appointments.calendar import CalendarMonth
from keyboards.calendar import calendar_rows


class Flow(StrEnum):
    BOOK = "b"
    LIST = "l"
    WATCH = "w"


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
    SPECIALTY = "s"
    REFERRAL = "r"
    DOCTOR = "d"


class PickCb(CallbackData, prefix="ap"):
    """A specialty code, referral id or doctor id from the list the user was shown."""

    kind: PickKind
    ref: str


class TimeCb(CallbackData, prefix="at"):
    """The position of a time in the list offered (and remembered) for this user."""

    index: int


class BookAction(StrEnum):
    CONFIRM = "ok"
    DAYS = "days"  # back to the calendar
    ABORT = "x"
    WATCH = "w"  # nothing suits: watch for a slot
    OTHER_DOCTORS = "od"  # rescheduling: another doctor of the same specialty


class BookCb(CallbackData, prefix="ab"):
    """`token`: the confirmation screen's token (only with CONFIRM)."""

    action: BookAction
    token: str = ""


class VisitAction(StrEnum):
    VIEW = "v"
    MOVE = "m"
    CANCEL = "c"
    CANCEL_CONFIRM = "cc"
    ICS = "i"


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


HIT_BOOK = "book"
HIT_STOP = "stop"


class WatchAction(StrEnum):
    NEW = "n"
    STOP = "s"


class WatchCb(CallbackData, prefix="wt"):
    action: WatchAction
    watch_id: int = 0


class WatchStep(StrEnum):
    TARGET = "t"
    RANGE = "r"
    HOURS = "h"
    DAYS = "d"
    MODE = "m"


class WatchSetupCb(CallbackData, prefix="ws"):
    """One answer of the watch set-up; `value` is a preset name (see handlers.watches)."""

    step: WatchStep
    value: str


# --- builders -------------------------------------------------------------------------------


def people_picker(
    flow: Flow, people: Sequence[tuple[int, str]], *, with_all: bool = False
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for person_id, label in people:
        builder.button(text=label, callback_data=WhoCb(flow=flow, person_id=person_id))
    if with_all:
        builder.button(
            text=_("👨‍👩‍👧 Everyone together"), callback_data=WhoCb(flow=flow, person_id=0)
        )
    builder.adjust(1)
    return builder.as_markup()


def picks_keyboard(
    items: Sequence[tuple[PickKind, str, str]], *, abort: bool = True
) -> InlineKeyboardMarkup:
    """(kind, ref, text) per button, one per row."""
    builder = InlineKeyboardBuilder()
    for kind, ref, text in items:
        builder.button(text=text, callback_data=PickCb(kind=kind, ref=ref))
    if abort:
        builder.button(text=_("✖ Cancel"), callback_data=BookCb(action=BookAction.ABORT))
    builder.adjust(1)
    return builder.as_markup()


def days_keyboard(
    view: CalendarMonth, *, may_watch: bool, other_doctors: bool = False
) -> InlineKeyboardMarkup:
    rows = calendar_rows(view)
    if other_doctors:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("👥 Another doctor of this specialty"),
                    callback_data=BookCb(action=BookAction.OTHER_DOCTORS).pack(),
                )
            ]
        )
    if may_watch:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("🔔 Nothing suits? Watch for a slot"),
                    callback_data=BookCb(action=BookAction.WATCH).pack(),
                )
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("✖ Cancel"), callback_data=BookCb(action=BookAction.ABORT).pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def times_keyboard(times: Sequence[str]) -> InlineKeyboardMarkup:
    """`times` are labels ("09:30") in the order of the offered slot ids."""
    builder = InlineKeyboardBuilder()
    for index, label in enumerate(times):
        builder.button(text=label, callback_data=TimeCb(index=index))
    builder.adjust(4)
    builder.row(
        InlineKeyboardButton(
            text=_("◀ Other days"), callback_data=BookCb(action=BookAction.DAYS).pack()
        )
    )
    builder.row(
        InlineKeyboardButton(
            text=_("✖ Cancel"), callback_data=BookCb(action=BookAction.ABORT).pack()
        )
    )
    return builder.as_markup()


def confirm_keyboard(token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Confirm"), callback_data=BookCb(action=BookAction.CONFIRM, token=token)
    )
    builder.button(text=_("◀ Other times"), callback_data=BookCb(action=BookAction.DAYS))
    builder.button(text=_("✖ Cancel"), callback_data=BookCb(action=BookAction.ABORT))
    builder.adjust(1)
    return builder.as_markup()


def visits_keyboard(items: Sequence[tuple[int, str, str]]) -> InlineKeyboardMarkup:
    """(person id, appointment id, label) per upcoming visit."""
    builder = InlineKeyboardBuilder()
    for person_id, appointment_id, label in items:
        builder.button(
            text=label,
            callback_data=VisitCb(
                action=VisitAction.VIEW, person_id=person_id, appointment_id=appointment_id
            ),
        )
    builder.adjust(1)
    return builder.as_markup()


def visit_keyboard(
    person_id: int, appointment_id: str, changeable: bool, *, back_to: int | None = None
) -> InlineKeyboardMarkup:
    """`back_to`: the list "Back" returns to (a person row id, 0 = everyone's)."""
    builder = InlineKeyboardBuilder()

    def add(text: str, action: VisitAction) -> None:
        builder.button(
            text=text,
            callback_data=VisitCb(
                action=action, person_id=person_id, appointment_id=appointment_id
            ),
        )

    if changeable:
        add(_("🔁 Reschedule"), VisitAction.MOVE)
        add(_("❌ Cancel the appointment"), VisitAction.CANCEL)
        add(_("📆 Add to calendar"), VisitAction.ICS)
    builder.button(
        text=_("⬅️ Back"),
        callback_data=WhoCb(flow=Flow.LIST, person_id=person_id if back_to is None else back_to),
    )
    builder.adjust(1)
    return builder.as_markup()


def cancel_confirm_keyboard(person_id: int, appointment_id: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, cancel it"),
        callback_data=VisitCb(
            action=VisitAction.CANCEL_CONFIRM, person_id=person_id, appointment_id=appointment_id
        ),
    )
    builder.button(
        text=_("No, keep it"),
        callback_data=VisitCb(
            action=VisitAction.VIEW, person_id=person_id, appointment_id=appointment_id
        ),
    )
    builder.adjust(1)
    return builder.as_markup()


def hit_keyboard(hit_id: int, booked: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if not booked:
        builder.button(
            text=_("✅ Book it"), callback_data=WatchHitCb(hit_id=hit_id, action=HIT_BOOK)
        )
        builder.button(
            text=_("🔕 Stop watching"), callback_data=WatchHitCb(hit_id=hit_id, action=HIT_STOP)
        )
    builder.adjust(1)
    return builder.as_markup()


def watches_keyboard(items: Sequence[tuple[int, str]], may_add: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for watch_id, label in items:
        builder.button(
            text=_("🔕 Stop: {label}").format(label=label),
            callback_data=WatchCb(action=WatchAction.STOP, watch_id=watch_id),
        )
    if may_add:
        builder.button(text=_("➕ New watch"), callback_data=WatchCb(action=WatchAction.NEW))
    builder.adjust(1)
    return builder.as_markup()


def setup_keyboard(step: WatchStep, options: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """(value, text) per option of one set-up step."""
    builder = InlineKeyboardBuilder()
    for value, text in options:
        builder.button(text=text, callback_data=WatchSetupCb(step=step, value=value))
    builder.button(text=_("✖ Cancel"), callback_data=BookCb(action=BookAction.ABORT))
    builder.adjust(1)
    return builder.as_markup()
