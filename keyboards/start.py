from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

# Language names stay in their own language so anyone can find theirs.
LANGUAGE_NAMES = {"ru": "🇷🇺 Русский", "en": "🇬🇧 English"}


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class ConsentAction(StrEnum):
    ACCEPT = "a"
    DECLINE = "d"


class ConsentCb(CallbackData, prefix="cons"):
    action: ConsentAction


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageCb(code=code))
    builder.adjust(2)
    return builder.as_markup()


def consent_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ I agree"), callback_data=ConsentCb(action=ConsentAction.ACCEPT))
    builder.button(text=_("Decline"), callback_data=ConsentCb(action=ConsentAction.DECLINE))
    builder.adjust(1)
    return builder.as_markup()
