"""Buttons of the medical record on Telegram: the CallbackData classes that route the presses.
The buttons themselves are made by `bot.flows.records_screens`, whose ids are these classes'
packs (ids only: a person row id, a section code, a backend entry id of at most 24 characters,
an analyte code; short prefixes)."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from aiogram.filters.callback_data import CallbackData

from backend_client.models import Section
from bot.services.records.periods import Period


class RecHomeCb(CallbackData, prefix="rh"):
    """The section picker of one person's card."""

    p: int


class RecListCb(CallbackData, prefix="rl"):
    p: int
    s: Section
    f: Period
    n: int
    """Page number, 0-based."""
    m: int = 0
    """1 when pressed on the list itself: the list message is edited in place."""


class DocAction(StrEnum):
    OPEN = "o"
    PDF = "p"


class RecDocCb(CallbackData, prefix="rd"):
    a: DocAction
    p: int
    e: str


class RecTrendCb(CallbackData, prefix="rt"):
    p: int
    c: str
    """The analyte code (`AnalyteResult.code`)."""
    e: str = ""
    """The document the trend was opened from (its "back" button); empty on older buttons."""

    @classmethod
    def unpack(cls, value: str) -> Self:
        # Buttons packed before `e` existed (still in chats) have one part fewer.
        if value.count(cls.__separator__) == len(cls.model_fields) - 1:
            value += cls.__separator__
        return super().unpack(value)


class RecExportCb(CallbackData, prefix="rx"):
    p: int
    f: Period | None = None


class RecJournalCb(CallbackData, prefix="rj"):
    p: int


class RecWhoCb(CallbackData, prefix="rw"):
    """Choose another person whose record to open."""
