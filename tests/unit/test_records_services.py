"""The record's services without a messenger: splitting, lab tables, charts, PDFs, journal."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from backend_client.models import (
    AnalyteFlag,
    AnalyteHistory,
    AnalytePoint,
    AnalyteResult,
    Document,
    DocumentField,
    LabPanel,
    Section,
)
from bot.services.records.chart import ChartLabels, month_ticks, png_size, trend_png
from bot.services.records.pdf import PdfLabels, document_pdf, export_pdf
from bot.services.records.split import TELEGRAM_LIMIT, split_html
from bot.services.records.view import DocumentLabels, document_view, lab_row, mark

LABELS = DocumentLabels(
    section="Анализы",
    doctor="Врач",
    clinic="Медорганизация",
    performed="Проведено",
    reference="норма",
    out_of_range_note="↑ выше, ↓ ниже нормы",
)
PDF_LABELS = PdfLabels(
    title="Медкарта: Мама",
    subtitle="Период: всё время",
    contents="Содержание",
    doctor="Врач",
    clinic="Медорганизация",
    performed="Проведено",
    reference="норма",
    footer="Врачебная тайна",
    sections={s.value: s.value.title() for s in Section},
)


class _Balance(HTMLParser):
    """Fails on a tag closed that was not open, and remembers what stays open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes nothing"
        self.stack.pop()


def assert_valid_chunk(chunk: str) -> None:
    assert 0 < len(chunk) <= TELEGRAM_LIMIT
    parser = _Balance()
    parser.feed(chunk)
    parser.close()
    assert parser.stack == [], f"left open: {parser.stack}"
    # Every & starts a whole entity: nothing was cut inside one.
    assert not re.search(r"&(?!(amp|lt|gt|quot|#\d+);)", chunk)


def result(**kw: object) -> AnalyteResult:
    base: dict[str, object] = {"code": "GLU", "name": "Глюкоза", "unit": "ммоль/л"}
    return AnalyteResult.model_validate(base | kw)


def lab_document(fields: int = 3, text_len: int = 100) -> Document:
    words = ("Жалобы на кашель & слабость <нет> " * (text_len // 30 + 1))[:text_len]
    return Document(
        entry_id="e1",
        patient_id="p1",
        section=Section.LABS,
        title="Биохимический анализ крови",
        date=date(2026, 2, 16),
        performed_at=datetime(2026, 2, 16, 4, 50, tzinfo=UTC),
        doctor_name="Громова М. В.",
        doctor_specialty="Врач КЛД",
        clinic_name="ГБУЗ «ЦКДЛ ДЗМ»",
        fields=[DocumentField(label=f"Поле {i}", value=words) for i in range(fields)],
        panels=[
            LabPanel(
                name="Биохимия",
                results=[
                    result(value=7.2, ref_low=3.9, ref_high=6.1, flag=AnalyteFlag.HIGH),
                    result(code="K", name="Калий", value=3.1, ref_low=3.5, ref_high=5.1),
                    result(code="NA", name="Натрий", value=140.0, ref_low=136.0, ref_high=145.0),
                    result(code="HBS", name="HBsAg", text_value="отрицательно", value=None),
                ],
            )
        ],
        text="Оценку результатов проводит лечащий врач.",
    )


# --- splitting ------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "text_len"), [(1, 50), (30, 400), (12, 3000), (3, 9000)])
def test_long_documents_split_into_valid_chunks_without_cutting_words(
    fields: int, text_len: int
) -> None:
    doc = lab_document(fields, text_len)
    view = document_view(doc, LABELS, "ru")
    for chunk in view.chunks:
        assert_valid_chunk(chunk)
    joined = html.unescape(re.sub(r"<[^>]+>", "", "".join(view.chunks)))
    whole = html.unescape(re.sub(r"<[^>]+>", "", view.chunks[0]))
    assert whole.startswith("Биохимический анализ крови")
    # No word was cut: every word of the source appears whole in the output.
    for word in set(doc.fields[0].value.split()):
        assert word in joined


def test_splitter_reopens_tags_cut_at_a_boundary_and_handles_giant_words() -> None:
    text = "<b>" + " ".join(["слово"] * 2000) + "</b>\n" + "x" * 9000 + " &amp; конец"
    chunks = split_html(text)
    assert len(chunks) > 2
    for chunk in chunks:
        assert_valid_chunk(chunk)
    assert chunks[1].startswith("<b>")  # the bold run continues in the next message
    assert chunks[-1].endswith("&amp; конец")


def test_splitter_prefers_paragraph_breaks() -> None:
    paragraphs = ["Абзац " + str(i) + " " + "текст " * 150 for i in range(10)]
    chunks = split_html("\n\n".join(paragraphs))
    assert all(chunk.startswith("Абзац") for chunk in chunks)


# --- lab table ------------------------------------------------------------------------------


def test_lab_rows_mark_out_of_range_values_with_units_and_reference() -> None:
    high = lab_row(result(value=7.2, ref_low=3.9, ref_high=6.1), LABELS, "ru")
    low = lab_row(result(value=3.1, ref_low=3.5, ref_high=5.1), LABELS, "ru")
    normal = lab_row(result(value=5.0, ref_low=3.9, ref_high=6.1), LABELS, "ru")
    text = lab_row(result(value=None, text_value="отрицательно"), LABELS, "ru")
    assert "<b>7,2 ммоль/л</b> ↑" in high and high.count("↑") == 1 and "норма 3,9–6,1" in high
    assert "ммоль/л</b> ↓" in low
    assert normal.startswith("•") and "↑" not in normal and "↓" not in normal
    assert "отрицательно" in text
    english = lab_row(result(value=7.25, ref_low=3.9, ref_high=6.1), LABELS, "en")
    assert "<b>7.25 ммоль/л</b> ↑" in english


def test_the_backend_flag_wins_and_interpretation_is_shown() -> None:
    flagged = result(value=5.0, flag=AnalyteFlag.LOW, interpretation="Гипогликемия?")
    assert mark(flagged) == "↓"
    assert "Гипогликемия?" in lab_row(flagged, LABELS, "ru")


def test_document_view_offers_trends_for_numeric_analytes_out_of_range_first() -> None:
    view = document_view(lab_document(), LABELS, "ru")
    assert [t.code for t in view.trends] == ["GLU", "K", "NA"]
    body = "".join(view.chunks)
    assert "Врач: Громова М. В., Врач КЛД" in body and "16 февраля 2026" in body
    assert "07:50" in body  # 04:50 UTC is 07:50 in Moscow
    assert "&amp; слабость &lt;нет&gt;" in body  # the backend's text is escaped


# --- chart ----------------------------------------------------------------------------------


def history(months: int = 60) -> AnalyteHistory:
    points = [
        AnalytePoint(
            date=date(2021 + i // 12, i % 12 + 1, 10),
            value=5 + (i % 7) * 0.4,
            flag=None,
            entry_id="e",
        )
        for i in range(months)
    ]
    return AnalyteHistory(
        code="GLU", name="Глюкоза", unit="ммоль/л", ref_low=3.9, ref_high=6.1, points=points
    )


def test_trend_chart_is_a_phone_sized_png() -> None:
    png = trend_png(history(), ChartLabels("Глюкоза", "Норма"), "ru")
    assert png_size(png) == (1080, 720)
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + png[6:])


def test_axis_ticks_are_month_starts_at_most_five() -> None:
    ticks = month_ticks(date(2021, 1, 10), date(2025, 12, 10))
    assert 3 <= len(ticks) <= 6 and all(t.day == 1 for t in ticks)
    assert month_ticks(date(2026, 2, 3), date(2026, 2, 20)) == [date(2026, 2, 1)]


# --- PDF ------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_document_pdf_carries_the_document_in_cyrillic() -> None:
    text = pdf_text(document_pdf(lab_document(), PDF_LABELS, "ru"))
    for expected in ("Биохимический анализ крови", "Громова М. В.", "Глюкоза", "↑", "Поле 1"):
        assert expected in text


def test_export_pdf_has_a_table_of_contents_with_every_document() -> None:
    docs = [lab_document(fields=4, text_len=600) for _ in range(12)]
    docs[0] = docs[0].model_copy(update={"section": Section.PROTOCOLS, "title": "Приём терапевта"})
    reader = PdfReader(io.BytesIO(export_pdf(docs, PDF_LABELS, "ru")))
    contents = reader.pages[0].extract_text()  # the title page carries the contents
    assert "Содержание" in contents and "Приём терапевта" in contents and "Labs" in contents
    assert len(reader.pages) > 3
    assert [o.title for o in reader.outline if not isinstance(o, list)][:2] == ["Protocols", "Labs"]
