"""Rendering cost of the medical record: a 5-year trend chart and a 20-page export PDF.

    python bench/bench_records.py [--runs 15]

The chart has 60 monthly points with a reference band (1080×720 PNG); the PDF is an export of
lab and visit documents sized to 20 pages, with its table of contents. Prints the medians.
Targets: chart < 300 ms, 20-page PDF < 1000 ms.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
from bot.services.records.chart import ChartLabels, png_size, trend_png
from bot.services.records.pdf import PdfLabels, export_pdf

CHART_TARGET_MS = 300.0
PDF_TARGET_MS = 1000.0
PDF_PAGES = 20

LABELS = PdfLabels(
    title="Медкарта: Галина К.",
    subtitle="Период: всё время",
    contents="Содержание",
    doctor="Врач",
    clinic="Медорганизация",
    performed="Проведено",
    reference="норма",
    footer="Врачебная тайна",
    sections={s.value: s.value for s in Section},
)


def five_years() -> AnalyteHistory:
    points = [
        AnalytePoint(
            date=date(2021 + m // 12, m % 12 + 1, 12),
            value=6.0 + (m % 9) * 0.35,
            flag=AnalyteFlag.HIGH if m % 9 > 0 else None,
            entry_id=f"e{m:04d}",
        )
        for m in range(60)
    ]
    return AnalyteHistory(
        code="HBA1C",
        name="Гликированный гемоглобин",
        unit="%",
        ref_low=4.0,
        ref_high=6.0,
        points=points,
    )


def document(index: int) -> Document:
    lab = index % 2 == 0
    results = [
        AnalyteResult(
            code=f"A{k}",
            name=f"Показатель № {k}",
            value=4.0 + k * 0.3,
            unit="ммоль/л",
            ref_low=3.5,
            ref_high=6.0,
            flag=AnalyteFlag.HIGH if k > 6 else AnalyteFlag.NORMAL,
        )
        for k in range(12)
    ]
    text = "Состояние удовлетворительное. Жалоб нет. Рекомендовано наблюдение у терапевта. " * 3
    return Document(
        entry_id=f"e{index:04d}",
        patient_id="p1",
        section=Section.LABS if lab else Section.PROTOCOLS,
        title="Биохимический анализ крови" if lab else "Приём врача-терапевта участкового",
        date=date(2025, 12, 28 - index % 28),
        performed_at=datetime(2025, 12, 1, 8, 30, tzinfo=UTC),
        doctor_name="Киселёва А. В.",
        doctor_specialty="Терапевт",
        clinic_name="ГБУЗ «Городская поликлиника № 11 ДЗМ»",
        fields=[DocumentField(label=f"Раздел {k}", value=text) for k in range(2 if lab else 5)],
        panels=[LabPanel(name="Биохимия", results=results)] if lab else [],
    )


def pages_of(docs: list[Document]) -> int:
    return len(PdfReader(io.BytesIO(export_pdf(docs, LABELS, "ru"))).pages)


def export_of(count: int) -> list[Document]:
    # Grouped by section, as an export is.
    return sorted((document(i) for i in range(count)), key=lambda d: d.section.value)


def twenty_pages() -> list[Document]:
    """The fewest documents that make a 20-page export (bisection, before timing)."""
    low, high = 1, 8
    while pages_of(export_of(high)) < PDF_PAGES:
        low, high = high, high * 2
    while low < high:
        middle = (low + high) // 2
        if pages_of(export_of(middle)) < PDF_PAGES:
            low = middle + 1
        else:
            high = middle
    return export_of(high)


def median_ms(runs: int, work: Callable[[], object]) -> float:
    work()  # warm-up: fonts and caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    history, labels = five_years(), ChartLabels("Гликированный гемоглобин", "Норма")
    assert png_size(trend_png(history, labels, "ru")) == (1080, 720)
    docs = twenty_pages()
    pages = len(PdfReader(io.BytesIO(export_pdf(docs, LABELS, "ru"))).pages)
    chart = median_ms(runs, lambda: trend_png(history, labels, "ru"))
    pdf = median_ms(runs, lambda: export_pdf(docs, LABELS, "ru"))
    print(
        f"records: chart median={chart:.0f}ms (target <{CHART_TARGET_MS:.0f}ms); "
        f"pdf{pages} median={pdf:.0f}ms (target <{PDF_TARGET_MS:.0f}ms) "
        f"[{len(history.points)} points, {len(docs)} documents, {runs} runs]"
    )
    return 0 if chart < CHART_TARGET_MS and pdf < PDF_TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
