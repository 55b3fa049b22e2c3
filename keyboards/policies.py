"""Buttons of the linking flows: what to link, scope, term, and the code step."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder


class LinkKind(StrEnum):
    SELF = "s"
    RELATIVE = "r"
    CHILD = "c"


class LinkStartCb(CallbackData, prefix="lnk"):
    kind: LinkKind


class ScopeChoice(StrEnum):
    APPOINTMENTS = "a"
    RECORDS = "r"


class ScopeCb(CallbackData, prefix="lsc"):
    scope: ScopeChoice


class TermChoice(StrEnum):
    MONTH = "1m"
    HALF_YEAR = "6m"
    YEAR = "1y"
    UNLIMITED = "0"


class TermCb(CallbackData, prefix="ltm"):
    term: TermChoice


class CodeAction(StrEnum):
    RESEND = "s"
    RESTART = "r"
    SEND = "c"
    """The first send, after the one-SMS-a-minute pause held it back."""


class CodeCb(CallbackData, prefix="lcd"):
    action: CodeAction


class AsRelativeCb(CallbackData, prefix="lar"):
    """Go on with a "child" who is 15 or older as a relative's request (same answers)."""

    go: bool = True


def share_phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def scope_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Appointments only"), callback_data=ScopeCb(scope=ScopeChoice.APPOINTMENTS)
    )
    builder.button(
        text=_("Appointments and the medical record"),
        callback_data=ScopeCb(scope=ScopeChoice.RECORDS),
    )
    builder.adjust(1)
    return builder.as_markup()


def term_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("1 month"), callback_data=TermCb(term=TermChoice.MONTH))
    builder.button(text=_("6 months"), callback_data=TermCb(term=TermChoice.HALF_YEAR))
    builder.button(text=_("1 year"), callback_data=TermCb(term=TermChoice.YEAR))
    builder.button(text=_("No end date"), callback_data=TermCb(term=TermChoice.UNLIMITED))
    builder.adjust(3, 1)
    return builder.as_markup()


def code_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔁 Send the code again"), callback_data=CodeCb(action=CodeAction.RESEND))
    builder.button(
        text=_("↩️ Start over (number changed)"), callback_data=CodeCb(action=CodeAction.RESTART)
    )
    builder.adjust(1)
    return builder.as_markup()


def restart_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("↩️ Start over"), callback_data=CodeCb(action=CodeAction.RESTART))
    return builder.as_markup()


def send_code_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📨 Send the code"), callback_data=CodeCb(action=CodeAction.SEND))
    return builder.as_markup()


def as_relative_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("➕ Add as a relative"), callback_data=AsRelativeCb())
    return builder.as_markup()
