from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder


class PrivacyAction(StrEnum):
    WITHDRAW = "w"
    WITHDRAW_CONFIRM = "wc"
    FORGET = "f"
    FORGET_CONFIRM = "fc"
    KEEP = "k"


class PrivacyCb(CallbackData, prefix="priv"):
    action: PrivacyAction


def privacy_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Withdraw consent"), callback_data=PrivacyCb(action=PrivacyAction.WITHDRAW)
    )
    builder.button(text=_("Delete my data"), callback_data=PrivacyCb(action=PrivacyAction.FORGET))
    builder.adjust(1)
    return builder.as_markup()


def confirm_keyboard(confirm: PrivacyAction, confirm_text: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=confirm_text, callback_data=PrivacyCb(action=confirm))
    builder.button(text=_("No, keep it"), callback_data=PrivacyCb(action=PrivacyAction.KEEP))
    builder.adjust(1)
    return builder.as_markup()
