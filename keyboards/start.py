from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

# The routes of the buttons `bot.flows.start` shows (its ids are these packs).


class LanguageCb(CallbackData, prefix="lang"):
    code: str


class ConsentAction(StrEnum):
    ACCEPT = "a"
    DECLINE = "d"


class ConsentCb(CallbackData, prefix="cons"):
    action: ConsentAction
