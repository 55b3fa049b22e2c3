"""The "My data" buttons' ids as Telegram's CallbackData packs them: the handlers' filters and
the ids of `bot.flows.privacy` (a test keeps them equal, so old buttons keep working)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class PrivacyAction(StrEnum):
    WITHDRAW = "w"
    WITHDRAW_CONFIRM = "wc"
    FORGET = "f"
    FORGET_CONFIRM = "fc"
    KEEP = "k"
    JOURNAL = "j"


class PrivacyCb(CallbackData, prefix="priv"):
    action: PrivacyAction
