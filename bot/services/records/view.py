"""Documents and lists rendered for a phone: plain view data and escaped Telegram HTML.

Labels come in already translated (`DocumentLabels`), so this module needs no messenger and no
gettext context; dates and numbers go through Babel in the user's locale, Moscow time.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from backend_client.models import AnalyteFlag, AnalyteResult, Document, EntrySummary, LabPanel
from bot.services.records.split import split_html

# Moscow has been UTC+3 all year since 2014; a fixed offset needs no tz database.
MOSCOW = timezone(timedelta(hours=3), "MSK")

MARKS = {AnalyteFlag.HIGH: "↑", AnalyteFlag.LOW: "↓"}


@dataclass(frozen=True, slots=True)
class DocumentLabels:
    """Translated words the renderer needs."""

    section: str
    doctor: str
    clinic: str
    performed: str
    reference: str
    out_of_range_note: str
    """The legend of the marks, one line: "↑ above, ↓ below the reference range"."""
    disclaimer: str = ""
    """A short word that the doctor interprets results; left out when the document has a text
    of its own (the lab's note says it)."""


@dataclass(frozen=True, slots=True)
class TrendChoice:
    """A numeric analyte of a lab document that has a history to chart."""

    code: str
    name: str
    flagged: bool


@dataclass(frozen=True, slots=True)
class DocumentView:
    chunks: list[str]
    """Telegram HTML, each at most 4096 characters and balanced."""
    trends: list[TrendChoice]


def esc(value: str) -> str:
    return html.escape(value, quote=False)


def day_text(day: date, locale: str) -> str:
    return format_date(day, format="d MMMM y", locale=locale)


def short_day_text(day: date, locale: str) -> str:
    return format_date(day, format="dd.MM.yyyy", locale=locale)


def moment_text(moment: datetime, locale: str) -> str:
    return format_datetime(moment.astimezone(MOSCOW), "d MMMM y, HH:mm", locale=locale)


def number_text(value: float, locale: str) -> str:
    return format_decimal(value, format="#,##0.###", locale=locale)


def mark(result: AnalyteResult) -> str:
    """↑ above, ↓ below the reference range, empty when normal or not judged."""
    if result.flag in MARKS:
        return MARKS[result.flag]
    if result.value is not None:
        if result.ref_high is not None and result.value > result.ref_high:
            return MARKS[AnalyteFlag.HIGH]
        if result.ref_low is not None and result.value < result.ref_low:
            return MARKS[AnalyteFlag.LOW]
    return ""


def reference_text(result: AnalyteResult, locale: str) -> str:
    low, high = result.ref_low, result.ref_high
    if low is not None and high is not None:
        return f"{number_text(low, locale)}–{number_text(high, locale)}"
    if low is not None:
        return f"≥ {number_text(low, locale)}"
    if high is not None:
        return f"≤ {number_text(high, locale)}"
    return ""


# Interpretations that only say what the mark says; shown once, as the mark.
_RESTATING = {
    "выше референсного интервала",
    "ниже референсного интервала",
    "выше нормы",
    "ниже нормы",
    "повышено",
    "понижено",
    "повышен",
    "понижен",
    "above the reference range",
    "below the reference range",
    "above reference range",
    "below reference range",
    "above normal",
    "below normal",
    "high",
    "low",
}


def extra_interpretation(result: AnalyteResult) -> str | None:
    """The backend's interpretation when it adds to the mark (not "above the reference range"
    under an ↑)."""
    words = (result.interpretation or "").strip()
    if not words:
        return None
    if mark(result) and words.lower().rstrip(".!").strip() in _RESTATING:
        return None
    return words


def value_text(result: AnalyteResult, locale: str) -> str:
    """The value with its unit ("6,7 %"), or the qualitative result."""
    if result.value is not None:
        value = number_text(result.value, locale)
    else:
        value = result.text_value or "—"
    return f"{value} {result.unit}" if result.unit else value


def lab_row(result: AnalyteResult, labels: DocumentLabels, locale: str) -> str:
    """One analyte on one line: name, value with unit, then the mark once, the reference, and
    an interpretation that says more than the mark."""
    sign = mark(result)
    line = f"• {esc(result.name)}: <b>{esc(value_text(result, locale))}</b>"
    if sign:
        line += f" {sign}"
    reference = reference_text(result, locale)
    if reference:
        line += f" <i>({esc(labels.reference)} {esc(reference)})</i>"
    extra = extra_interpretation(result)
    if extra:
        line += "\n    " + esc(extra)
    return line


def lab_table(panel: LabPanel, labels: DocumentLabels, locale: str) -> str:
    rows = [lab_row(r, labels, locale) for r in panel.results]
    return f"<b>{esc(panel.name)}</b>\n" + "\n".join(rows)


def document_html(doc: Document, labels: DocumentLabels, locale: str) -> str:
    """Every field the backend gave, in its order, headings in bold."""
    head = [
        f"<b>{esc(doc.title)}</b>",
        f"{esc(labels.section)} · {esc(day_text(doc.date, locale))}",
    ]
    if doc.doctor_name:
        doctor = doc.doctor_name + (f", {doc.doctor_specialty}" if doc.doctor_specialty else "")
        head.append(f"{esc(labels.doctor)}: {esc(doctor)}")
    if doc.clinic_name:
        head.append(f"{esc(labels.clinic)}: {esc(doc.clinic_name)}")
    if doc.performed_at is not None:
        head.append(f"{esc(labels.performed)}: {esc(moment_text(doc.performed_at, locale))}")
    parts = ["\n".join(head)]
    parts += [f"<b>{esc(f.label)}</b>\n{esc(f.value)}" for f in doc.fields]
    parts += [lab_table(panel, labels, locale) for panel in doc.panels]
    if any(mark(r) for panel in doc.panels for r in panel.results):
        note = labels.out_of_range_note
        if labels.disclaimer and not doc.text:
            note += " " + labels.disclaimer
        parts.append(f"<i>{esc(note)}</i>")
    if doc.text:
        parts.append(esc(doc.text))
    return "\n\n".join(parts)


def trend_choices(doc: Document) -> list[TrendChoice]:
    """Numeric analytes, once each, out-of-range ones first (those are what people look at)."""
    seen: dict[str, TrendChoice] = {}
    for panel in doc.panels:
        for result in panel.results:
            if result.value is not None and result.code not in seen:
                seen[result.code] = TrendChoice(result.code, result.name, bool(mark(result)))
    return sorted(seen.values(), key=lambda c: not c.flagged)


def document_view(doc: Document, labels: DocumentLabels, locale: str) -> DocumentView:
    return DocumentView(split_html(document_html(doc, labels, locale)), trend_choices(doc))


def entry_line(entry: EntrySummary, locale: str) -> str:
    """A list line: date, title, doctor; ⚠️ when something is out of range."""
    line = f"{esc(short_day_text(entry.date, locale))} — <b>{esc(entry.title)}</b>"
    if entry.doctor_name:
        line += f"\n    {esc(entry.doctor_name)}"
    return ("⚠️ " if entry.has_abnormal else "") + line
