"""Contract: the record — sections, paging, period filters, documents, PDF, analyte trends."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from backend_client.errors import InvalidRequest, NotFound
from backend_client.models import AnalyteFlag, Grant, Section
from tests.backend.conftest import Harness, requester

ME = requester("me", "Анна С.")
ICD10 = re.compile(r"\b[A-Z]\d{2}(\.\d)?\b")


async def _mother(h: Harness) -> Grant:
    return await h.link_relative("elderly_mother", ME)


async def test_sections_page_newest_first_with_cursor(harness: Harness) -> None:
    g = await _mother(harness)
    first = await harness.backend.list_entries(g.grant_id, ME.id, Section.LABS, limit=5)
    assert first.total > 10
    seen = list(first.items)
    cursor = first.next_cursor
    while cursor is not None:
        page = await harness.backend.list_entries(
            g.grant_id, ME.id, Section.LABS, cursor=cursor, limit=5
        )
        assert page.total == first.total
        seen.extend(page.items)
        cursor = page.next_cursor
    assert len(seen) == first.total
    assert len({e.entry_id for e in seen}) == len(seen)
    dates = [e.date for e in seen]
    assert dates == sorted(dates, reverse=True)
    assert all(e.section is Section.LABS for e in seen)
    assert any(e.has_abnormal for e in seen)  # a diabetic's HbA1c is not always in range


async def test_every_section_of_an_elderly_patient_has_content(harness: Harness) -> None:
    g = await harness.link_relative("elderly_father", ME)
    for section in Section:
        page = await harness.backend.list_entries(g.grant_id, ME.id, section)
        assert page.total > 0, section


async def test_period_filter(harness: Harness) -> None:
    g = await _mother(harness)
    since, until = date(2024, 1, 1), date(2024, 12, 31)
    page = await harness.backend.list_entries(
        g.grant_id, ME.id, Section.PROTOCOLS, since=since, until=until, limit=50
    )
    everything = await harness.backend.list_entries(g.grant_id, ME.id, Section.PROTOCOLS, limit=50)
    assert 0 < page.total < everything.total
    assert all(since <= e.date <= until for e in page.items)


async def test_bad_paging_input_is_invalid(harness: Harness) -> None:
    g = await _mother(harness)
    with pytest.raises(InvalidRequest) as err:
        await harness.backend.list_entries(g.grant_id, ME.id, Section.LABS, cursor="!!not-a-cursor")
    assert err.value.field == "cursor"
    with pytest.raises(InvalidRequest):
        await harness.backend.list_entries(g.grant_id, ME.id, Section.LABS, limit=0)
    with pytest.raises(InvalidRequest):
        await harness.backend.list_entries(
            g.grant_id, ME.id, Section.LABS, since=date(2025, 1, 2), until=date(2025, 1, 1)
        )


async def test_visit_protocol_reads_like_a_doctors_note(harness: Harness) -> None:
    g = await _mother(harness)
    page = await harness.backend.list_entries(g.grant_id, ME.id, Section.PROTOCOLS)
    doc = await harness.backend.get_document(g.grant_id, ME.id, page.items[0].entry_id)
    labels = [f.label for f in doc.fields]
    assert labels[:4] == ["Жалобы", "Анамнез заболевания", "Объективный статус", "Диагноз основной"]
    assert "Рекомендации" in labels
    diagnosis = next(f.value for f in doc.fields if f.label == "Диагноз основной")
    assert ICD10.search(diagnosis)
    assert doc.doctor_name and doc.clinic_name
    assert doc.patient_id == g.patient.patient_id


async def test_lab_document_has_units_ranges_and_consistent_flags(harness: Harness) -> None:
    g = await _mother(harness)
    page = await harness.backend.list_entries(g.grant_id, ME.id, Section.LABS, limit=50)
    abnormal = next(e for e in page.items if e.has_abnormal)
    doc = await harness.backend.get_document(g.grant_id, ME.id, abnormal.entry_id)
    assert doc.panels
    flagged = 0
    for panel in doc.panels:
        for r in panel.results:
            if r.value is None:
                assert r.text_value
                continue
            assert r.unit is not None
            if r.ref_high is not None and r.value > r.ref_high:
                assert r.flag is AnalyteFlag.HIGH
                flagged += 1
            elif r.ref_low is not None and r.value < r.ref_low:
                assert r.flag is AnalyteFlag.LOW
                flagged += 1
            else:
                assert r.flag is AnalyteFlag.NORMAL
    assert flagged > 0


async def test_document_pdf(harness: Harness) -> None:
    g = await _mother(harness)
    page = await harness.backend.list_entries(g.grant_id, ME.id, Section.LABS)
    pdf = await harness.backend.get_document_pdf(g.grant_id, ME.id, page.items[0].entry_id)
    assert pdf.startswith(b"%PDF")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"DejaVu" in pdf  # the Cyrillic font is embedded


async def test_other_patients_documents_are_not_found(harness: Harness) -> None:
    mother = await _mother(harness)
    harness.clock.advance(seconds=61)
    father = await harness.link_relative("elderly_father", ME)
    page = await harness.backend.list_entries(father.grant_id, ME.id, Section.PROTOCOLS)
    foreign = page.items[0].entry_id
    with pytest.raises(NotFound):
        await harness.backend.get_document(mother.grant_id, ME.id, foreign)
    with pytest.raises(NotFound):
        await harness.backend.get_document_pdf(mother.grant_id, ME.id, foreign)
    with pytest.raises(NotFound):
        await harness.backend.get_document(mother.grant_id, ME.id, "e-unknown")


async def test_hba1c_trend_of_a_diabetic(harness: Harness) -> None:
    g = await _mother(harness)
    history = await harness.backend.analyte_history(g.grant_id, ME.id, "HBA1C")
    assert history.unit == "%"
    assert (history.ref_low, history.ref_high) == (4.0, 6.0)
    assert len(history.points) >= 8
    dates = [p.date for p in history.points]
    assert dates == sorted(dates)
    assert history.points[0].value > history.points[-1].value  # treatment works
    assert all(p.flag is AnalyteFlag.HIGH for p in history.points[:3])
    doc = await harness.backend.get_document(g.grant_id, ME.id, history.points[-1].entry_id)
    assert any(r.code == "HBA1C" for panel in doc.panels for r in panel.results)


async def test_analyte_history_period_and_unknown_code(harness: Harness) -> None:
    g = await _mother(harness)
    full = await harness.backend.analyte_history(g.grant_id, ME.id, "GLU")
    since = full.points[len(full.points) // 2].date
    part = await harness.backend.analyte_history(g.grant_id, ME.id, "GLU", since=since)
    assert 0 < len(part.points) < len(full.points)
    assert all(p.date >= since for p in part.points)
    with pytest.raises(NotFound):
        await harness.backend.analyte_history(g.grant_id, ME.id, "NO_SUCH")
    with pytest.raises(NotFound):  # a woman has no PSA results
        await harness.backend.analyte_history(g.grant_id, ME.id, "PSA")


async def test_child_record_follows_the_national_calendar(harness: Harness) -> None:
    own = await harness.link_self("mother", ME)
    child = await harness.persona("child")
    g = await harness.backend.link_child(own.grant_id, ME, child.policy, child.birth_date)
    page = await harness.backend.list_entries(g.grant_id, ME.id, Section.VACCINATIONS, limit=50)
    titles = " ".join(e.title for e in page.items)
    for infection in ("гепатит B", "Туберкулёз", "Корь", "Пневмококковая", "коклюш"):
        assert infection in titles
    first = min(page.items, key=lambda e: e.date)
    assert first.date - child.birth_date < timedelta(days=2)  # hepatitis B in the maternity ward
