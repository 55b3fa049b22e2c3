"""Telegram's side of the linking flow's buttons: the CallbackData that parses the ids of
`bot.flows.linking_screens` (the same strings, so old buttons keep working and a test keeps
them equal), and the request-contact keyboard for the phone step."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import KeyboardButton, ReplyKeyboardMarkup


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


def share_phone_keyboard(text: str) -> ReplyKeyboardMarkup:
    """The flow's "share my phone number" button (its label `text`) as Telegram's own button
    that sends the user's contact."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=text, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
