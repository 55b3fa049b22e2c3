from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from keyboards.people import access_list_button


class PrivacyAction(StrEnum):
    WITHDRAW = "w"
    WITHDRAW_CONFIRM = "wc"
    FORGET = "f"
    FORGET_CONFIRM = "fc"
    KEEP = "k"
    JOURNAL = "j"


class PrivacyCb(CallbackData, prefix="priv"):
    action: PrivacyAction


def confirm_keyboard(
    confirm: PrivacyAction, confirm_text: str, *, with_access: bool = False
) -> InlineKeyboardMarkup:
    """Yes / No; `with_access` adds "Who has access to my card" (to revoke before or after)."""
    builder = InlineKeyboardBuilder()
    builder.button(text=confirm_text, callback_data=PrivacyCb(action=confirm))
    if with_access:
        access_list_button(builder)
    builder.button(text=_("No, keep it"), callback_data=PrivacyCb(action=PrivacyAction.KEEP))
    builder.adjust(1)
    return builder.as_markup()


def access_keyboard() -> InlineKeyboardMarkup:
    """Just "Who has access to my card": left under "Consent withdrawn" when others have it."""
    builder = InlineKeyboardBuilder()
    access_list_button(builder)
    return builder.as_markup()
