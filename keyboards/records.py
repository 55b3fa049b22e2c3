"""Buttons of the medical record: ids only (a person row id, a section code, a backend entry id
of at most 24 characters, an analyte code), short prefixes."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Self

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from backend_client.models import Section
from bot.services.records.periods import Period

SECTION_NAMES = {
    Section.PROTOCOLS: __("🩺 Visit protocols"),
    Section.LABS: __("🧪 Lab results"),
    Section.RADIOLOGY: __("🩻 Radiology"),
    Section.INSTRUMENTAL: __("🔬 Instrumental studies"),
    Section.DISCHARGES: __("🏥 Discharge summaries"),
    Section.VACCINATIONS: __("💉 Vaccinations"),
    Section.PRESCRIPTIONS: __("💊 Prescriptions"),
    Section.REFERRALS: __("📨 Referrals"),
    Section.DISPENSARY: __("📋 Dispensary check-ups"),
}
PERIOD_NAMES = {Period.QUARTER: __("3 months"), Period.YEAR: __("A year"), Period.ALL: __("All")}


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


def fits(value: str) -> bool:
    """An id we may put into callback data as it is (the backend promises at most 24 chars)."""
    return 0 < len(value) <= 24 and ":" not in value


def people_keyboard(people: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for person_id, label in people:
        builder.button(text=label, callback_data=RecHomeCb(p=person_id))
    builder.adjust(1)
    return builder.as_markup()


def sections_keyboard(person_id: int, own_card: bool, others: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for section, name in SECTION_NAMES.items():
        builder.button(
            text=str(name), callback_data=RecListCb(p=person_id, s=section, f=Period.ALL, n=0)
        )
    builder.button(text=_("📄 Export as PDF"), callback_data=RecExportCb(p=person_id))
    if own_card:
        builder.button(text=_("👁 Who viewed my card"), callback_data=RecJournalCb(p=person_id))
    if others:
        builder.button(text=_("👥 Another person"), callback_data=RecWhoCb())
    builder.adjust(2)
    return builder.as_markup()


def list_keyboard(
    person_id: int,
    section: Section,
    period: Period,
    page: int,
    entries: Sequence[tuple[str, str]],
    has_next: bool,
) -> InlineKeyboardMarkup:
    """One button per entry (entry id, short caption), paging, the period filter, back."""
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    for entry_id, caption in entries:
        if fits(entry_id):
            builder.button(
                text=caption, callback_data=RecDocCb(a=DocAction.OPEN, p=person_id, e=entry_id)
            )
            sizes.append(1)
    paging = 0
    if page > 0:
        builder.button(
            text=_("◀️ Newer"),
            callback_data=RecListCb(p=person_id, s=section, f=period, n=page - 1, m=1),
        )
        paging += 1
    if has_next:
        builder.button(
            text=_("Older ▶️"),
            callback_data=RecListCb(p=person_id, s=section, f=period, n=page + 1, m=1),
        )
        paging += 1
    if paging:
        sizes.append(paging)
    for choice, name in PERIOD_NAMES.items():
        mark = "• " if choice is period else ""
        builder.button(
            text=mark + str(name),
            callback_data=RecListCb(p=person_id, s=section, f=choice, n=0, m=1),
        )
    sizes.append(len(PERIOD_NAMES))
    builder.button(text=_("⬅️ Sections"), callback_data=RecHomeCb(p=person_id))
    sizes.append(1)
    builder.adjust(*sizes)
    return builder.as_markup()


CALLBACK_LIMIT = 64
"""Telegram's limit on callback data, in bytes."""


def _trend_data(person_id: int, code: str, entry_id: str) -> RecTrendCb:
    """With the document's id when it fits into Telegram's 64 bytes, else without."""
    with_entry = RecTrendCb(p=person_id, c=code, e=entry_id)
    if fits(entry_id) and len(with_entry.pack().encode()) <= CALLBACK_LIMIT:
        return with_entry
    return RecTrendCb(p=person_id, c=code)


def document_keyboard(
    person_id: int,
    entry_id: str,
    trends: Sequence[tuple[str, str]],
    back: RecListCb | None = None,
) -> InlineKeyboardMarkup:
    """PDF, a "trend" button per numeric analyte (code, name), back to the list the document
    was opened from (`back`: its page and period) and to the sections."""
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    if fits(entry_id):
        builder.button(
            text=_("📄 PDF"), callback_data=RecDocCb(a=DocAction.PDF, p=person_id, e=entry_id)
        )
        sizes.append(1)
    shown = [(code, name) for code, name in trends if fits(code)]
    for code, name in shown:
        builder.button(
            text=_("📈 Trend: {name}").format(name=name),
            callback_data=_trend_data(person_id, code, entry_id),
        )
    sizes += [2] * ((len(shown) + 1) // 2)
    if back is not None:
        builder.button(text=_("⬅️ To the list"), callback_data=back)
        sizes.append(1)
    builder.button(text=_("⬅️ Sections"), callback_data=RecHomeCb(p=person_id))
    sizes.append(1)
    builder.adjust(*sizes)
    return builder.as_markup()


def trend_keyboard(
    person_id: int, entry_id: str, back: RecListCb | None = None
) -> InlineKeyboardMarkup:
    """Under a trend chart: back to the document it came from, to the list, to the sections."""
    builder = InlineKeyboardBuilder()
    if fits(entry_id):
        builder.button(
            text=_("⬅️ To the document"),
            callback_data=RecDocCb(a=DocAction.OPEN, p=person_id, e=entry_id),
        )
    if back is not None:
        builder.button(text=_("⬅️ To the list"), callback_data=back)
    builder.button(text=_("⬅️ Sections"), callback_data=RecHomeCb(p=person_id))
    builder.adjust(1)
    return builder.as_markup()


def export_keyboard(person_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for choice, name in PERIOD_NAMES.items():
        builder.button(text=str(name), callback_data=RecExportCb(p=person_id, f=choice))
    builder.adjust(3)
    return builder.as_markup()
