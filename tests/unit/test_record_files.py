"""Files the patient asks for (issue 14, defects 2 and 3): a PDF is a file to keep, so it is
sent saveable (unprotected) with a word that it holds medical data, while a chart shown in the
chat stays protected; the whole-record PDF names the patient as the backend does (never the
private label), its contents heading is whole, and file names say what and whose they are."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from backend_client.models import Section
from backend_client.sandbox import SandboxBackend
from bot.clock import FrozenClock
from bot.db.engine import SessionMaker
from bot.db.models import User
from bot.flows import records as flow
from bot.flows.context import FlowContext
from bot.flows.screens import Screen
from bot.keys import AppKeys
from bot.services.records.browse import moscow_today
from bot.services.records.filenames import file_name, translit
from bot.services.records.pdf import PdfLabels, export_pdf
from bot.services.records.periods import Period
from bot.settings import Settings
from tests.unit.flow_context import DictMemory, english_context
from tests.unit.flow_fixtures import backend, chat_for, clock, sandbox_template, settings
from tests.unit.policies_support import Chat, people_rows, persona
from tests.unit.test_records_services import PDF_LABELS, lab_document

__all__ = ["backend", "chat_for", "clock", "sandbox_template", "settings"]

pytestmark = pytest.mark.filterwarnings("ignore:The Result.tuples:DeprecationWarning")

TELEGRAM_ID = 4377
MEDICAL_NOTE = "This file contains medical data"
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@pytest.fixture
async def daughter(
    chat_for: Any,
    backend: SandboxBackend,
    sessionmaker: SessionMaker,
    clock: FrozenClock,
    keys: AppKeys,
    settings: Settings,
) -> AsyncIterator[FlowContext]:
    """An adult daughter who linked her mother's card under the private label «Мама»."""
    me: Chat = await chat_for(TELEGRAM_ID, "Анна")
    await me.link_relative(backend, await persona(backend, "elderly_mother"), label="Мама")
    async with sessionmaker() as session:
        user = await session.scalar(select(User).where(User.telegram_id == TELEGRAM_ID))
        assert user is not None
        yield english_context(
            user, session, clock, backend=backend, keys=keys, settings=settings, first_name="Анна"
        )


async def mum(sessionmaker: SessionMaker) -> int:
    return (await people_rows(sessionmaker, TELEGRAM_ID))[0].id


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def nothing(screens: Sequence[Screen]) -> None:
    return None


# --- defect 2: files to keep are saveable, views in the chat stay protected -----------------


async def test_a_document_pdf_is_saveable_says_it_is_medical_and_names_whose(
    daughter: FlowContext, sessionmaker: SessionMaker, backend: SandboxBackend
) -> None:
    person = await mum(sessionmaker)
    memory = DictMemory()
    [listed] = await flow.show_list(daughter, memory, person, Section.LABS, Period.ALL, 0, 0)
    entry = next(b.action for b in listed.buttons if b.action.startswith("rd:o:"))
    entry_id = entry.rsplit(":", 1)[-1]
    document = await flow.open_document(daughter, memory, person, entry_id)
    assert all(s.protect for s in document)  # the document shown in the chat stays protected

    [pdf] = await flow.document_pdf(daughter, person, entry_id)
    assert pdf.file is not None and pdf.file.data.startswith(b"%PDF")
    assert pdf.protect is False  # a file to keep: Telegram must let the patient save it
    assert MEDICAL_NOTE in pdf.text
    name = pdf.file.name
    assert SAFE_NAME.match(name) and name.endswith(".pdf"), name
    assert "Galina_K" in name and entry_id not in name, name
    assert re.search(r"_\d{4}-\d{2}-\d{2}\.pdf$", name), name
    mother = await persona(backend, "elderly_mother")
    assert mother.policy not in name


async def test_the_export_is_saveable_and_the_chart_stays_protected(
    daughter: FlowContext, sessionmaker: SessionMaker
) -> None:
    person = await mum(sessionmaker)
    [export] = await flow.export(daughter, person, Period.QUARTER, progress=None, say=nothing)
    assert export.file is not None and export.protect is False
    assert export.text.startswith("Medical record, 3 months.") and MEDICAL_NOTE in export.text

    [chart] = await flow.trend(daughter, DictMemory(), person, "HBA1C", "")
    assert chart.file is not None and chart.file.mime == "image/png" and chart.protect


# --- defect 3: the export names the patient, not the label; names say what and whose ---------


async def test_the_export_names_the_patient_and_not_the_private_label(
    daughter: FlowContext, sessionmaker: SessionMaker, clock: FrozenClock
) -> None:
    person = await mum(sessionmaker)
    [export] = await flow.export(daughter, person, Period.QUARTER, progress=None, say=nothing)
    assert export.file is not None
    text = pdf_text(export.file.data)
    assert "Галина К." in text and "Мама" not in text
    reader = PdfReader(io.BytesIO(export.file.data))
    assert reader.metadata is not None and "Мама" not in str(reader.metadata.title)
    day = moscow_today(clock()).isoformat()
    assert export.file.name == f"EMK_Galina_K_{day}.pdf"


def test_the_contents_heading_is_whole_on_the_page() -> None:
    docs = [lab_document(fields=2, text_len=200) for _ in range(3)]
    data = export_pdf(docs, PDF_LABELS, "ru")
    page = PdfReader(io.BytesIO(data)).pages[0]
    found: list[float] = []

    def seen(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip() == PDF_LABELS.contents:
            found.append(float(tm[4]))

    page.extract_text(visitor_text=seen)
    width = float(page.mediabox.width)
    # Left-aligned at the margin: a heading starting near the right edge is cut to «Содер».
    assert found and found[0] < width / 4, found


def test_the_export_pdf_carries_the_patient_line() -> None:
    labels = PdfLabels(
        title="Медицинская карта",
        subtitle="Период: всё время",
        contents="Содержание",
        doctor="Врач",
        clinic="Медорганизация",
        performed="Проведено",
        reference="норма",
        footer="Врачебная тайна",
        sections={s.value: s.value.title() for s in Section},
        patient="Пациент: Галина К., дата рождения 01.02.1948",
    )
    text = pdf_text(export_pdf([lab_document()], labels, "ru"))
    assert "Пациент: Галина К., дата рождения 01.02.1948" in text


def test_file_names_are_transliterated_and_safe() -> None:
    assert translit("Галина К.") == "Galina_K"
    assert translit("Щукина-Эйхвальд Юлия Ёжикова") == "Shchukina-Eikhvald_Iuliia_Ezhikova"
    assert file_name("ЕМК", "Иванова А.", "2026-12-03", "pdf") == "EMK_Ivanova_A_2026-12-03.pdf"
    # Never a number from the name part (a policy typed as a label), never path characters.
    assert file_name("Lab results", "../1234567890123456 Анна", "2026-12-03", "pdf") == (
        "Lab_results_Anna_2026-12-03.pdf"
    )
    assert file_name("", "", "2026-12-03", "pdf") == "2026-12-03.pdf"
