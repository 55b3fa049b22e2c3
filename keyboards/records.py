"""Buttons of the medical record: ids only (a person row id, a section code, a backend entry id
of at most 24 characters, an analyte code), short prefixes."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

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


def document_keyboard(
    person_id: int, entry_id: str, trends: Sequence[tuple[str, str]]
) -> InlineKeyboardMarkup:
    """PDF, a "trend" button per numeric analyte (code, name), back to the sections."""
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
            callback_data=RecTrendCb(p=person_id, c=code),
        )
    sizes += [2] * ((len(shown) + 1) // 2)
    builder.button(text=_("⬅️ Sections"), callback_data=RecHomeCb(p=person_id))
    sizes.append(1)
    builder.adjust(*sizes)
    return builder.as_markup()


def export_keyboard(person_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for choice, name in PERIOD_NAMES.items():
        builder.button(text=str(name), callback_data=RecExportCb(p=person_id, f=choice))
    builder.adjust(3)
    return builder.as_markup()
