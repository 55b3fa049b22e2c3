"""PDFs of the record with fpdf2: one document, or an export of a period with a table of
contents. DejaVu Sans (shipped with matplotlib) covers Cyrillic and the ↑/↓ marks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.outline import OutlineSection

from backend_client.models import AnalyteResult, Document
from bot.services.records.view import (
    day_text,
    extra_interpretation,
    mark,
    moment_text,
    reference_text,
    short_day_text,
    value_text,
)

_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_FAMILY = "DejaVu"


@dataclass(frozen=True, slots=True)
class PdfLabels:
    """Translated words of the PDF; `sections` names each section by its code."""

    title: str
    subtitle: str
    contents: str
    doctor: str
    clinic: str
    performed: str
    reference: str
    footer: str
    sections: dict[str, str]
    patient: str = ""
    """Whose record, as the backend names the patient ("Patient: Анна И., born …"): never the
    user's own label for the card, which may be private ("Мама")."""


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer_text
        self.add_font(_FAMILY, "", str(_FONTS / "DejaVuSans.ttf"))
        self.add_font(_FAMILY, "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 16, 18)

    def paragraph(self, text: str, height: float) -> None:
        """`text` wrapped at spaces into full-width lines.

        Greedy word wrap measured word by word: fpdf2's `multi_cell` re-measures the growing
        line at every character, which made a 20-page export take over a second.
        """
        room = self.epw
        space = self.get_string_width(" ")
        for source in text.split("\n"):
            line, width = "", 0.0
            for word in source.split(" "):
                size = self.get_string_width(word)
                while size > room:  # a "word" wider than the page: cut it
                    cut = _fitting(self, word, room)
                    if line:
                        self.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")
                        line, width = "", 0.0
                    self.cell(0, height, word[:cut], new_x="LMARGIN", new_y="NEXT")
                    word = word[cut:]
                    size = self.get_string_width(word)
                if line and width + space + size > room:
                    self.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")
                    line, width = "", 0.0
                line, width = (f"{line} {word}", width + space + size) if line else (word, size)
            self.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FAMILY, "", 8)
        self.set_text_color(120)
        self.cell(0, 6, f"{self._footer_text} · {self.page_no()}", align="C")
        self.set_text_color(0)


def _fitting(pdf: FPDF, word: str, room: float) -> int:
    """How many leading characters of `word` fit into `room` (at least one)."""
    cut = len(word)
    while cut > 1 and pdf.get_string_width(word[:cut]) > room:
        cut = max(1, cut * 3 // 4)
    return cut


def _lab_line(result: AnalyteResult, labels: PdfLabels, locale: str) -> str:
    sign = mark(result)
    line = f"• {result.name}: {value_text(result, locale)}{' ' + sign if sign else ''}"
    reference = reference_text(result, locale)
    if reference:
        line += f" ({labels.reference} {reference})"
    extra = extra_interpretation(result)
    if extra:
        line += f" — {extra}"
    return line


def _write_document(pdf: _Pdf, doc: Document, labels: PdfLabels, locale: str) -> None:
    pdf.set_font(_FAMILY, "B", 14)
    pdf.paragraph(doc.title, 7)
    pdf.set_font(_FAMILY, "", 10)
    meta = [f"{labels.sections.get(doc.section.value, '')} · {day_text(doc.date, locale)}"]
    if doc.doctor_name:
        specialty = f", {doc.doctor_specialty}" if doc.doctor_specialty else ""
        meta.append(f"{labels.doctor}: {doc.doctor_name}{specialty}")
    if doc.clinic_name:
        meta.append(f"{labels.clinic}: {doc.clinic_name}")
    if doc.performed_at is not None:
        meta.append(f"{labels.performed}: {moment_text(doc.performed_at, locale)}")
    pdf.paragraph("\n".join(meta), 5)
    for field in doc.fields:
        pdf.ln(2)
        pdf.set_font(_FAMILY, "B", 11)
        pdf.paragraph(field.label, 6)
        pdf.set_font(_FAMILY, "", 11)
        pdf.paragraph(field.value, 5.5)
    for panel in doc.panels:
        pdf.ln(2)
        pdf.set_font(_FAMILY, "B", 11)
        pdf.paragraph(panel.name, 6)
        pdf.set_font(_FAMILY, "", 10)
        for result in panel.results:
            pdf.paragraph(_lab_line(result, labels, locale), 5)
    if doc.text:
        pdf.ln(2)
        pdf.set_font(_FAMILY, "", 10)
        pdf.paragraph(doc.text, 5)


def document_pdf(doc: Document, labels: PdfLabels, locale: str) -> bytes:
    pdf = _Pdf(labels.footer)
    pdf.add_page()
    _write_document(pdf, doc, labels, locale)
    return bytes(pdf.output())


def _contents(title: str) -> Callable[[FPDF, list[OutlineSection]], None]:
    def render(pdf: FPDF, outline: list[OutlineSection]) -> None:
        pdf.set_font(_FAMILY, "B", 16)
        # fpdf2 calls this at output time with x wherever the last page left it: a heading
        # from there ran off the page («Содер»).
        pdf.set_x(pdf.l_margin)
        pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        for section in outline:
            pdf.set_font(_FAMILY, "B" if section.level == 0 else "", 11 if section.level else 12)
            indent = 6 * section.level
            link = pdf.add_link(page=int(section.page_number))
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(pdf.epw - indent - 14, 6.5, str(section.name)[:90], link=link)
            pdf.cell(14, 6.5, str(section.page_number), align="R", link=link)
            pdf.ln(6.5)

    return render


def export_pdf(docs: Sequence[Document], labels: PdfLabels, locale: str) -> bytes:
    """All `docs` grouped by section (in the given order), a clickable table of contents first."""
    pdf = _Pdf(labels.footer)
    pdf.set_title(f"{labels.title} — {labels.patient}" if labels.patient else labels.title)
    pdf.add_page()
    pdf.set_font(_FAMILY, "B", 20)
    pdf.multi_cell(0, 10, labels.title, new_x="LMARGIN", new_y="NEXT")
    if labels.patient:
        pdf.set_font(_FAMILY, "B", 13)
        pdf.multi_cell(0, 8, labels.patient, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FAMILY, "", 12)
    pdf.multi_cell(0, 7, labels.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.insert_toc_placeholder(_contents(labels.contents), allow_extra_pages=True)
    current: str | None = None
    for doc in docs:
        if doc.section.value != current:
            current = doc.section.value
            if pdf.get_y() > pdf.h / 2:
                pdf.add_page()
            pdf.ln(4)
            name = labels.sections.get(current, current)
            pdf.start_section(name, level=0)
            pdf.set_font(_FAMILY, "B", 16)
            pdf.cell(0, 9, name, new_x="LMARGIN", new_y="NEXT")
        if pdf.get_y() > pdf.h - 60:
            pdf.add_page()
        pdf.ln(3)
        pdf.start_section(f"{short_day_text(doc.date, locale)} — {doc.title}", level=1)
        _write_document(pdf, doc, labels, locale)
    return bytes(pdf.output())
