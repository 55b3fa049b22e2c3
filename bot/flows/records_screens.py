"""Texts and buttons of the medical record, channel-neutral (`bot.flows.records` uses them).

Button ids are what Telegram's CallbackData classes in `keyboards.records` pack (a test keeps
them equal), so buttons already in chats keep working. Rows are laid out as the aiogram
keyboards did (`_adjust` is `InlineKeyboardBuilder.adjust`).
"""

from __future__ import annotations

from collections.abc import Sequence

from backend_client.models import (
    AccessAction,
    AccessLogEntry,
    AnalyteHistory,
    PatientRef,
    Relation,
    Section,
)
from bot.flows.context import FlowContext
from bot.flows.records_analytes import analyte_name
from bot.flows.screens import MAX_ACTION_BYTES, N_, Button
from bot.services.people import AccessRefused
from bot.services.records.browse import ListPage
from bot.services.records.chart import ChartLabels
from bot.services.records.journal import JournalLine, ViewAction
from bot.services.records.pdf import PdfLabels
from bot.services.records.periods import Period
from bot.services.records.view import (
    DocumentLabels,
    entry_line,
    esc,
    moment_text,
    short_day_text,
)

Rows = tuple[tuple[Button, ...], ...]

SECTION_NAMES = {
    Section.PROTOCOLS: N_("🩺 Visit protocols"),
    Section.LABS: N_("🧪 Lab results"),
    Section.RADIOLOGY: N_("🩻 Radiology"),
    Section.INSTRUMENTAL: N_("🔬 Instrumental studies"),
    Section.DISCHARGES: N_("🏥 Discharge summaries"),
    Section.VACCINATIONS: N_("💉 Vaccinations"),
    Section.PRESCRIPTIONS: N_("💊 Prescriptions"),
    Section.REFERRALS: N_("📨 Referrals"),
    Section.DISPENSARY: N_("📋 Dispensary check-ups"),
}
PERIOD_NAMES = {Period.QUARTER: N_("3 months"), Period.YEAR: N_("A year"), Period.ALL: N_("All")}

DOC_OPEN = "o"  # `keyboards.records.DocAction`
DOC_PDF = "p"


# --- button ids (the packs of keyboards/records.py) -----------------------------------------


def home_id(person_id: int) -> str:
    return f"rh:{person_id}"


def list_id(person_id: int, section: Section, period: Period, page: int, in_place: int = 0) -> str:
    return f"rl:{person_id}:{section.value}:{period.value}:{page}:{in_place}"


def doc_id(action: str, person_id: int, entry_id: str) -> str:
    return f"rd:{action}:{person_id}:{entry_id}"


def trend_id(person_id: int, code: str, entry_id: str = "") -> str:
    return f"rt:{person_id}:{code}:{entry_id}"


def export_id(person_id: int, period: Period | None = None) -> str:
    return f"rx:{person_id}:{'' if period is None else period.value}"


def journal_id(person_id: int) -> str:
    return f"rj:{person_id}"


WHO_ID = "rw"


def fits(value: str) -> bool:
    """An id we may put into a button as it is (the backend promises at most 24 chars)."""
    return 0 < len(value) <= 24 and ":" not in value


def _adjust(buttons: Sequence[Button], *sizes: int) -> Rows:
    """aiogram's `adjust`: rows of the given sizes in turn, the last size for the rest."""
    rows: list[tuple[Button, ...]] = []
    row: list[Button] = []
    index = 0
    for button in buttons:
        if len(row) >= sizes[min(index, len(sizes) - 1)]:
            rows.append(tuple(row))
            index += 1
            row = []
        row.append(button)
    if row:
        rows.append(tuple(row))
    return tuple(rows)


def people_rows(people: Sequence[tuple[int, str]]) -> Rows:
    return _adjust([Button(label, home_id(person_id)) for person_id, label in people], 1)


def sections_rows(t: FlowContext, person_id: int, own_card: bool, others: bool) -> Rows:
    _ = t.gettext
    buttons = [
        Button(_(name), list_id(person_id, section, Period.ALL, 0))
        for section, name in SECTION_NAMES.items()
    ]
    buttons.append(Button(_("📄 Export as PDF"), export_id(person_id)))
    if own_card:
        buttons.append(Button(_("👁 Who viewed my card"), journal_id(person_id)))
    if others:
        buttons.append(Button(_("👥 Another person"), WHO_ID))
    return _adjust(buttons, 2)


def list_rows(
    t: FlowContext,
    person_id: int,
    section: Section,
    period: Period,
    page: int,
    entries: Sequence[tuple[str, str]],
    has_next: bool,
) -> Rows:
    """One button per entry (entry id, short caption), paging, the period filter, back."""
    _ = t.gettext
    buttons: list[Button] = []
    sizes: list[int] = []
    for entry_id, caption in entries:
        if fits(entry_id):
            buttons.append(Button(caption, doc_id(DOC_OPEN, person_id, entry_id)))
            sizes.append(1)
    paging = 0
    if page > 0:
        buttons.append(Button(_("◀️ Newer"), list_id(person_id, section, period, page - 1, 1)))
        paging += 1
    if has_next:
        buttons.append(Button(_("Older ▶️"), list_id(person_id, section, period, page + 1, 1)))
        paging += 1
    if paging:
        sizes.append(paging)
    for choice, name in PERIOD_NAMES.items():
        mark = "• " if choice is period else ""
        buttons.append(Button(mark + _(name), list_id(person_id, section, choice, 0, 1)))
    sizes.append(len(PERIOD_NAMES))
    buttons.append(Button(_("⬅️ Sections"), home_id(person_id)))
    sizes.append(1)
    return _adjust(buttons, *sizes)


def _trend_button_id(person_id: int, code: str, entry_id: str) -> str:
    """With the document's id when it fits into 64 bytes, else without."""
    with_entry = trend_id(person_id, code, entry_id)
    if fits(entry_id) and len(with_entry.encode()) <= MAX_ACTION_BYTES:
        return with_entry
    return trend_id(person_id, code)


def document_rows(
    t: FlowContext,
    person_id: int,
    entry_id: str,
    trends: Sequence[tuple[str, str]],
    back: str | None,
) -> Rows:
    """PDF, a "trend" button per numeric analyte (code, name), back to the list the document
    was opened from (`back`: its page and period) and to the sections."""
    _ = t.gettext
    buttons: list[Button] = []
    sizes: list[int] = []
    if fits(entry_id):
        buttons.append(Button(_("📄 PDF"), doc_id(DOC_PDF, person_id, entry_id)))
        sizes.append(1)
    shown = [(code, name) for code, name in trends if fits(code)]
    for code, name in shown:
        buttons.append(
            Button(
                _("📈 Trend: {name}").format(name=name),
                _trend_button_id(person_id, code, entry_id),
            )
        )
    sizes += [2] * ((len(shown) + 1) // 2)
    if back is not None:
        buttons.append(Button(_("⬅️ To the list"), back))
        sizes.append(1)
    buttons.append(Button(_("⬅️ Sections"), home_id(person_id)))
    sizes.append(1)
    return _adjust(buttons, *sizes)


def trend_rows(t: FlowContext, person_id: int, entry_id: str, back: str | None) -> Rows:
    """Under a trend chart: back to the document it came from, to the list, to the sections."""
    _ = t.gettext
    buttons: list[Button] = []
    if fits(entry_id):
        buttons.append(Button(_("⬅️ To the document"), doc_id(DOC_OPEN, person_id, entry_id)))
    if back is not None:
        buttons.append(Button(_("⬅️ To the list"), back))
    buttons.append(Button(_("⬅️ Sections"), home_id(person_id)))
    return _adjust(buttons, 1)


def export_rows(t: FlowContext, person_id: int) -> Rows:
    buttons = [Button(t.gettext(name), export_id(person_id, p)) for p, name in PERIOD_NAMES.items()]
    return _adjust(buttons, 3)


# --- texts ----------------------------------------------------------------------------------


def refusal(t: FlowContext, error: AccessRefused) -> str:
    _ = t.gettext
    if error.reason == AccessRefused.SCOPE:
        return _(
            "Your access to this card covers appointments only. The card's owner can give you "
            "access to the medical record."
        )
    if error.reason == AccessRefused.EXPIRED:
        return _("The access to this card has expired. You can link the policy again.")
    if error.reason == AccessRefused.REVOKED:
        return _("The access to this card was revoked or has ended. It is no longer in My people.")
    if error.reason == AccessRefused.NO_OWN_CARD:
        return _("First link your own policy: My people → My own policy.")
    return _("This person is not in your list. Open My people.")


def section_name(t: FlowContext, code: str | None) -> str:
    try:
        return t.gettext(SECTION_NAMES[Section(code)]) if code else t.gettext("the whole record")
    except ValueError:
        return "—"


def plain_section_name(t: FlowContext, code: str) -> str:
    """The section name without its emoji, for PDFs (the font has no emoji)."""
    return section_name(t, code).split(" ", 1)[-1]


def period_name(t: FlowContext, period: Period) -> str:
    if period is Period.ALL:
        return t.gettext("all time")
    return t.gettext(PERIOD_NAMES[period]).lower()


def document_labels(t: FlowContext, section: Section) -> DocumentLabels:
    _ = t.gettext
    return DocumentLabels(
        section=plain_section_name(t, section.value),
        doctor=_("Doctor"),
        clinic=_("Clinic"),
        performed=_("Performed"),
        reference=_("normal"),
        out_of_range_note=_("↑ above, ↓ below the reference range."),
        disclaimer=_("Your doctor interprets the results."),
    )


def chart_labels(t: FlowContext, history: AnalyteHistory) -> ChartLabels:
    return ChartLabels(
        title=analyte_name(t, history.code, history.name),
        reference=t.gettext("Reference range"),
        target=t.gettext("Your target"),
    )


def pdf_labels(t: FlowContext, patient: PatientRef, period: Period) -> PdfLabels:
    """The export's words; it names the patient as the backend does, not by the user's label
    for the card (which may be private, "Мама")."""
    _ = t.gettext
    return PdfLabels(
        title=_("Medical record"),
        patient=_("Patient: {name}, date of birth {birth}").format(
            name=patient.display_name, birth=short_day_text(patient.birth_date, t.locale)
        ),
        subtitle=_("Period: {period}").format(period=period_name(t, period)),
        contents=_("Contents"),
        doctor=_("Doctor"),
        clinic=_("Clinic"),
        performed=_("Performed"),
        reference=_("normal"),
        footer=_("Medical secrecy: confidential"),
        sections={s.value: plain_section_name(t, s.value) for s in Section},
    )


def file_note(t: FlowContext) -> str:
    """Said with every file sent to keep (PDF, .ics): it is sent saveable, unlike the chat."""
    return t.gettext("🔒 This file contains medical data. Share it only with people you trust.")


def list_text(t: FlowContext, label: str, section: Section, period: Period, page: ListPage) -> str:
    _ = t.gettext
    head = _("<b>{section}</b> — {who}").format(
        section=section_name(t, section.value), who=esc(label)
    )
    if not page.entries.items:
        empty = (
            _("There are no entries in this section yet.")
            if period is Period.ALL
            else _("No entries for this period. Try “All”.")
        )
        return head + "\n\n" + empty
    total = page.entries.total
    count = t.ngettext("{n} entry", "{n} entries", total).format(n=total)
    where = _("Period: {period}; {count}; page {page} of {pages}.").format(
        period=period_name(t, period), count=count, page=page.page + 1, pages=page.pages
    )
    lines = [entry_line(item, t.locale) for item in page.entries.items]
    return head + "\n" + where + "\n\n" + "\n".join(lines)


def home_text(t: FlowContext, label: str) -> str:
    return t.gettext("<b>Medical record</b> — {who}\nChoose a section.").format(who=esc(label))


_VIEW_ACTIONS = {
    ViewAction.LIST: N_("opened the list"),
    ViewAction.DOCUMENT: N_("opened a document"),
    ViewAction.CHART: N_("looked at a trend"),
    ViewAction.PDF: N_("downloaded a PDF"),
    ViewAction.EXPORT: N_("exported the record"),
}
_LOG_ACTIONS = {
    AccessAction.GRANTED: N_("access granted"),
    AccessAction.REVOKED: N_("access revoked"),
    AccessAction.VIEWED_RECORDS: N_("viewed a list"),
    AccessAction.VIEWED_DOCUMENT: N_("viewed a document"),
    AccessAction.BOOKED: N_("booked a visit"),
    AccessAction.RESCHEDULED: N_("moved a visit"),
    AccessAction.CANCELLED: N_("cancelled a visit"),
}


def journal_text(t: FlowContext, lines: list[JournalLine], log: list[AccessLogEntry]) -> str:
    _ = t.gettext
    here = t.locale
    parts = [_("<b>👁 Who viewed my card</b>")]
    if lines:
        parts.append(_("<b>Through this bot</b>"))
        for line in lines:
            who = _("You") if line.by_owner else _("A person you gave access to")
            what = _(_VIEW_ACTIONS[line.action])
            where = section_name(t, line.section)
            parts.append(f"• {esc(moment_text(line.at, here))} — {who}: {what} ({where})")
    else:
        parts.append(_("Nobody has opened your card through this bot yet."))
    if log:
        parts.append("\n" + _("<b>The city's record system</b>"))
        for entry in log:
            who = _("You") if entry.relation is Relation.SELF else esc(entry.requester_name)
            msgid = _LOG_ACTIONS.get(entry.action)
            what = _(msgid) if msgid is not None else "—"
            detail = f" ({section_name(t, entry.detail)})" if entry.detail else ""
            parts.append(f"• {esc(moment_text(entry.at, here))} — {who}: {what}{detail}")
    return "\n".join(parts)
