"""Texts of the medical record: translated labels for the renderers, list and journal texts."""

from __future__ import annotations

from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _

from backend_client.models import AccessAction, AccessLogEntry, Relation, Section
from bot.services.records.browse import ListPage
from bot.services.records.chart import ChartLabels
from bot.services.records.journal import JournalLine, ViewAction
from bot.services.records.pdf import PdfLabels
from bot.services.records.periods import Period
from bot.services.records.view import DocumentLabels, entry_line, esc, moment_text
from keyboards.records import PERIOD_NAMES, SECTION_NAMES


def locale() -> str:
    return get_i18n().current_locale


def section_name(code: str | None) -> str:
    try:
        return str(SECTION_NAMES[Section(code)]) if code else _("the whole record")
    except ValueError:
        return "—"


def plain_section_name(code: str) -> str:
    """The section name without its emoji, for PDFs (the font has no emoji)."""
    return section_name(code).split(" ", 1)[-1]


def document_labels(section: Section) -> DocumentLabels:
    return DocumentLabels(
        section=plain_section_name(section.value),
        doctor=_("Doctor"),
        clinic=_("Clinic"),
        performed=_("Performed"),
        reference=_("normal"),
        out_of_range_note=_("↑ above, ↓ below the reference range."),
        disclaimer=_("Your doctor interprets the results."),
    )


def chart_labels(name: str) -> ChartLabels:
    return ChartLabels(title=name, reference=_("Reference range"))


def pdf_labels(who: str, period: Period) -> PdfLabels:
    return PdfLabels(
        title=_("Medical record: {who}").format(who=who),
        subtitle=_("Period: {period}").format(period=period_name(period)),
        contents=_("Contents"),
        doctor=_("Doctor"),
        clinic=_("Clinic"),
        performed=_("Performed"),
        reference=_("normal"),
        footer=_("Medical secrecy: confidential"),
        sections={s.value: plain_section_name(s.value) for s in Section},
    )


def period_name(period: Period) -> str:
    return str(PERIOD_NAMES[period]).lower() if period is not Period.ALL else _("all time")


def list_text(label: str, section: Section, period: Period, page: ListPage) -> str:
    head = _("<b>{section}</b> — {who}").format(section=section_name(section.value), who=esc(label))
    if not page.entries.items:
        empty = (
            _("There are no entries in this section yet.")
            if period is Period.ALL
            else _("No entries for this period. Try “All”.")
        )
        return head + "\n\n" + empty
    count = ngettext("{n} entry", "{n} entries", page.entries.total).format(n=page.entries.total)
    where = _("Period: {period}; {count}; page {page} of {pages}.").format(
        period=period_name(period), count=count, page=page.page + 1, pages=page.pages
    )
    lines = [entry_line(item, locale()) for item in page.entries.items]
    return head + "\n" + where + "\n\n" + "\n".join(lines)


def home_text(label: str) -> str:
    return _("<b>Medical record</b> — {who}\nChoose a section.").format(who=esc(label))


_VIEW_ACTIONS = {
    ViewAction.LIST: lambda: _("opened the list"),
    ViewAction.DOCUMENT: lambda: _("opened a document"),
    ViewAction.CHART: lambda: _("looked at a trend"),
    ViewAction.PDF: lambda: _("downloaded a PDF"),
    ViewAction.EXPORT: lambda: _("exported the record"),
}
_LOG_ACTIONS = {
    AccessAction.GRANTED: lambda: _("access granted"),
    AccessAction.REVOKED: lambda: _("access revoked"),
    AccessAction.VIEWED_RECORDS: lambda: _("viewed a list"),
    AccessAction.VIEWED_DOCUMENT: lambda: _("viewed a document"),
    AccessAction.BOOKED: lambda: _("booked a visit"),
    AccessAction.RESCHEDULED: lambda: _("moved a visit"),
    AccessAction.CANCELLED: lambda: _("cancelled a visit"),
}


def journal_text(lines: list[JournalLine], log: list[AccessLogEntry]) -> str:
    here = locale()
    parts = [_("<b>👁 Who viewed my card</b>")]
    if lines:
        parts.append(_("<b>Through this bot</b>"))
        for line in lines:
            who = _("You") if line.by_owner else _("A person you gave access to")
            parts.append(
                f"• {esc(moment_text(line.at, here))} — {who}: {_VIEW_ACTIONS[line.action]()} ({section_name(line.section)})"
            )
    else:
        parts.append(_("Nobody has opened your card through this bot yet."))
    if log:
        parts.append("\n" + _("<b>The city's record system</b>"))
        for entry in log:
            who = _("You") if entry.relation is Relation.SELF else esc(entry.requester_name)
            what = _LOG_ACTIONS.get(entry.action, lambda: "—")()
            detail = f" ({section_name(entry.detail)})" if entry.detail else ""
            parts.append(f"• {esc(moment_text(entry.at, here))} — {who}: {what}{detail}")
    return "\n".join(parts)
