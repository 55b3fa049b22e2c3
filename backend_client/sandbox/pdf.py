"""PDF rendering of a record document (fpdf2 with DejaVu Sans for Cyrillic)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from backend_client.models import AnalyteFlag, Document
from backend_client.sandbox.clock import MSK

_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_FLAG = {AnalyteFlag.HIGH: "↑", AnalyteFlag.LOW: "↓"}


@cache
def _font_paths() -> tuple[str, str]:
    return str(_FONTS / "DejaVuSans.ttf"), str(_FONTS / "DejaVuSans-Bold.ttf")


def _num(value: float | None) -> str:
    if value is None:
        return ""
    text = f"{value:g}"
    return text.replace(".", ",")


def render_document_pdf(doc: Document, patient_name: str, birth_date: date) -> bytes:
    regular, bold = _font_paths()
    pdf = FPDF(format="A4")
    pdf.set_creator("EMK sandbox")
    pdf.set_title(doc.title)
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: int = 10, style: str = "", height: float = 5.5) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(doc.clinic_name or "", 9)
    pdf.ln(2)
    line(doc.title, 14, "B", 7)
    when = (
        doc.performed_at.astimezone(MSK).strftime("%d.%m.%Y %H:%M")
        if doc.performed_at
        else doc.date.strftime("%d.%m.%Y")
    )
    line(f"Дата: {when}")
    line(f"Пациент: {patient_name}, {birth_date:%d.%m.%Y} г. р.")
    if doc.doctor_name:
        role = f" ({doc.doctor_specialty})" if doc.doctor_specialty else ""
        line(f"Врач: {doc.doctor_name}{role}")
    pdf.ln(3)
    for field in doc.fields:
        line(field.label, 10, "B")
        line(field.value)
        pdf.ln(1.5)
    for panel in doc.panels:
        pdf.ln(2)
        line(panel.name, 11, "B", 6)
        pdf.set_font("DejaVu", "", 9)
        with pdf.table(
            col_widths=(44, 20, 18, 30),
            text_align=("LEFT", "RIGHT", "LEFT", "LEFT"),
            line_height=5.5,
        ) as table:
            table.row(["Показатель", "Результат", "Ед.", "Референсный интервал"])
            for r in panel.results:
                value = r.text_value if r.value is None else _num(r.value)
                mark = _FLAG.get(r.flag, "") if r.flag else ""
                if r.ref_low is not None and r.ref_high is not None:
                    ref = f"{_num(r.ref_low)} – {_num(r.ref_high)}"
                elif r.ref_high is not None:
                    ref = f"< {_num(r.ref_high)}"
                elif r.ref_low is not None:
                    ref = f"> {_num(r.ref_low)}"
                else:
                    ref = ""
                table.row([r.name, f"{value or ''} {mark}".strip(), r.unit or "", ref])
    if doc.text:
        pdf.ln(3)
        line(doc.text, 9)
    pdf.ln(4)
    line("Документ сформирован из электронной медицинской карты (тестовый контур).", 8)
    return bytes(pdf.output())
